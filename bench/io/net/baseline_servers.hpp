// baseline_servers.hpp: the two echo servers prio is measured against, kept
// minimal and idiomatic: an epoll loop (non-blocking sockets, level
// triggered) and a raw liburing loop (multishot accept into fixed files,
// recv -> send -> recv per connection). Same shape as echo_service:
// run(on_ready) serves 127.0.0.1 on the calling thread until stop().
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <functional>

namespace prio::bench {

// stop_signal: the eventfd a baseline server's run() watches; stop() writes
// it. run() publishes the fd once it listens and withdraws it before closing.
class stop_signal {
 public:
  // stop() wakes run(). Any thread, after on_ready.
  void stop() noexcept {
    const int fd = stop_fd_.load();
    if (fd >= 0) {
      const std::uint64_t v = 1;
      (void)!::write(fd, &v, sizeof(v));
    }
  }

 protected:
  std::atomic<int> stop_fd_{-1};
};

// listen_loopback() opens a TCP listener on 127.0.0.1 at a free port
// (socket type flags `flags` besides SOCK_CLOEXEC), stores the port and
// returns the fd, or -errno.
inline int listen_loopback(int flags, std::uint16_t& port) {
  const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
  if (l < 0) return -errno;
  const int one = 1;
  ::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (::bind(l, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(l, 4096) != 0 ||
      ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    const int e = errno;
    ::close(l);
    return -e;
  }
  port = ntohs(a.sin_port);
  return l;
}

class epoll_echo : public stop_signal {
 public:
  // run() returns 0 or an errno. Any thread (it serves on it).
  int run(const std::function<void(std::uint16_t)>& on_ready);
};

class uring_echo : public stop_signal {
 public:
  int run(const std::function<void(std::uint16_t)>& on_ready);
};

}  // namespace prio::bench
