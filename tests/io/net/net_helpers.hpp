// net_helpers.hpp: shared helpers for the socket tests: loopback addresses
// per family, fd counting, and exact-length receive loops.
#pragma once

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <string_view>

#include "prio/io/address.hpp"
#include "prio/io/socket.hpp"
#include "tests/executors/exec_helpers.hpp"

namespace prio::test {

enum class family { v4, v6, unix_domain };

inline std::string family_name(const ::testing::TestParamInfo<family>& i) {
  switch (i.param) {
    case family::v4: return "IPv4";
    case family::v6: return "IPv6";
    default: return "Unix";
  }
}

// ipv6_loopback() is true when ::1 can be bound here.
inline bool ipv6_loopback() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  auto a = net::address::ipv6("::1", 0);
  const bool ok = a && ::bind(fd, a->get(), a->size()) == 0;
  ::close(fd);
  return ok;
}

// listen_address() is a loopback address of family f with a free port (0) or
// a fresh abstract Unix name.
inline net::address listen_address(family f) {
  static std::atomic<int> counter{0};
  switch (f) {
    case family::v4: return *net::address::ipv4("127.0.0.1", 0);
    case family::v6: return *net::address::ipv6("::1", 0);
    default:
      return *net::address::unix_path("@prio-net-test-" + std::to_string(::getpid()) + "-" +
                                      std::to_string(counter.fetch_add(1)));
  }
}

// count_fds() is the number of open descriptors of this process.
inline int count_fds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n - 1;  // the directory stream's own fd
}

inline std::span<const std::byte> bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// recv_exact() receives exactly n bytes (stackful); EPIPE at early EOF.
inline result<std::string> recv_exact(task& t, const net::socket& s, std::size_t n,
                                      std::chrono::nanoseconds timeout = forever) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    auto r = net::recv(t, s, std::as_writable_bytes(std::span<char>(out.data() + got, n - got)), 0, timeout);
    if (!r) return failure(r.error());
    if (*r == 0) return failure(errno_error(EPIPE));
    got += *r;
  }
  return out;
}

// async_recv_exact(): the same for a coroutine body.
inline co<result<std::string>> async_recv_exact(task& t, const net::socket& s, std::size_t n) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    auto r = co_await net::async_recv(t, s, std::as_writable_bytes(std::span<char>(out.data() + got, n - got)));
    if (!r) co_return failure(r.error());
    if (*r == 0) co_return failure(errno_error(EPIPE));
    got += *r;
  }
  co_return out;
}

}  // namespace prio::test
