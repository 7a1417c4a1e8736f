// baseline_servers.hpp: the two echo servers prio is measured against, kept
// minimal and idiomatic: an epoll loop (non-blocking sockets, level
// triggered) and a raw liburing loop (multishot accept into fixed files,
// recv -> send -> recv per connection). Same shape as echo_service:
// run(on_ready) serves 127.0.0.1 on the calling thread until stop().
#pragma once

#include <unistd.h>

#include <atomic>
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
