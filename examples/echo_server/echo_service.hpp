// echo_service.hpp: the prio echo server used by examples/echo_server and
// by bench/io/net: one executor, one acceptor task on a multishot accept
// stream, one reusable task per connection (recv, send_all back, repeat).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "prio/executors/executor.hpp"
#include "prio/runtime/result.hpp"

namespace prio::examples {

struct echo_options {
  std::uint16_t port = 0;                          // 0: any free port (see on_ready)
  switcher_kind switcher = switcher_kind::asm_switch;
  unsigned max_connections = 1024;                 // tasks made up front; more are refused
  unsigned buffer_size = 4096;                     // per-connection receive buffer
};

class echo_service {
 public:
  explicit echo_service(const echo_options& o) : opts_(o) {}
  // run() serves 127.0.0.1:port on the calling thread until stop();
  // on_ready(port) is called once it listens. Any thread (it becomes the
  // executor's thread).
  result<void> run(const std::function<void(std::uint16_t)>& on_ready);
  // stop() makes run() return within ~100 ms (the acceptor polls the
  // flag between accepts). Any thread.
  void stop() noexcept;
  std::uint64_t connections() const noexcept { return accepted_.load(std::memory_order_relaxed); }

 private:
  echo_options opts_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> accepted_{0};
};

}  // namespace prio::examples
