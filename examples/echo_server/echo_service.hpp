// echo_service.hpp: the prio echo server used by examples/echo_server and
// by bench/io/net: one acceptor task on a multishot accept stream, one task
// per connection (recv, send_all back, repeat). threads == 0: everything on
// one executor, connection tasks made up front and reused. threads > 0: the
// acceptor's executor on the calling thread hands every connection (a
// regular fd) to a pool of that many executor threads, where a pooled task
// adopts it into its own ring.
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
  unsigned threads = 0;                            // 0: one executor; N: a pool of N
};

class echo_service {
 public:
  explicit echo_service(const echo_options& o) : opts_(o) {}
  // run() serves 127.0.0.1:port on the calling thread until stop();
  // on_ready(port) is called once it listens. Any thread (it becomes the
  // acceptor executor's thread). EINVAL for the coroutine switcher with
  // threads > 0 (a pool runs stackful callables).
  result<void> run(const std::function<void(std::uint16_t)>& on_ready);
  // stop() makes run() return within ~100 ms: the acceptor polls the flag
  // between accepts, then every connection still open is cancelled (its
  // task's receive or send fails and it closes the socket). Any thread.
  void stop() noexcept;
  std::uint64_t connections() const noexcept { return accepted_.load(std::memory_order_relaxed); }

 private:
  result<void> run_single(const std::function<void(std::uint16_t)>& on_ready);
  result<void> run_pool(const std::function<void(std::uint16_t)>& on_ready);
  // serve_adopted() is a pool task's connection: adopt its fd, echo, close.
  class pending_connection;
  void serve_adopted(task& t, pending_connection& c) noexcept;

  echo_options opts_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> accepted_{0};
};

}  // namespace prio::examples
