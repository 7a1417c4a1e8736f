// baseline_servers.hpp: the two echo servers prio is measured against, kept
// minimal and idiomatic: an epoll loop (non-blocking sockets, level
// triggered) and a raw liburing loop (multishot accept into fixed files,
// recv -> send -> recv per connection). Same shape as echo_service:
// run(on_ready) serves 127.0.0.1 on the calling thread until stop().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

namespace prio::bench {

class epoll_echo {
 public:
  // run() returns 0 or an errno. Any thread (it serves on it).
  int run(const std::function<void(std::uint16_t)>& on_ready);
  // stop() wakes run() through an eventfd. Any thread, after on_ready.
  void stop() noexcept;

 private:
  std::atomic<int> stop_fd_{-1};
};

class uring_echo {
 public:
  int run(const std::function<void(std::uint16_t)>& on_ready);
  void stop() noexcept;

 private:
  std::atomic<int> stop_fd_{-1};
};

}  // namespace prio::bench
