// accept_stream.hpp: a stream of connections from one multishot accept.
//
// One IORING_OP_ACCEPT with IORING_ACCEPT_MULTISHOT stays in the kernel and
// posts a CQE per connection (into the fixed-file table when the executor
// has one). The stream's io_status::on_cqe queues each new socket and wakes
// the task waiting in next(); no SQE is spent per connection.
//
// Back-pressure: when `capacity` sockets are queued the accept is
// cancelled; later connections wait in the listen backlog and the accept is
// re-armed once next() has drained the queue. The kernel may already have
// posted more CQEs than that (a burst is reaped in one batch before the
// cancel is even submitted): those are real connections, so the queue grows
// for them (the only allocation, and only past `capacity`); overflows()
// counts the growths.
//
// Threading: the executor's bound thread, inside the task that calls next()
// (it owns the accept while it is in flight). stop() (or async_stop()) must
// run before the stream is destroyed, in the same task.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "prio/context/coro.hpp"
#include "prio/executors/io_op.hpp"
#include "prio/io/socket.hpp"

namespace prio::net {

class accept_stream {
 public:
  // accept_stream() prepares a stream on listener `l`; nothing is submitted
  // until the first next(). Allocates the queue (setup, not hot path).
  // Any thread; then only the bound thread.
  explicit accept_stream(const socket& l, unsigned capacity = 256);
  ~accept_stream();
  accept_stream(const accept_stream&) = delete;
  accept_stream& operator=(const accept_stream&) = delete;

  // next() returns the next accepted socket, arming the accept on first use
  // and after back-pressure. Errors: the accept's own (EBADF, EINVAL for a
  // listener that is not listening), ETIME after `timeout`, ECANCELED.
  result<socket> next(task& t, std::chrono::nanoseconds timeout = forever) noexcept;
  co<result<socket>> async_next(task& t, std::chrono::nanoseconds timeout = forever);

  // stop() cancels the accept, waits until the kernel is done with it and
  // closes the sockets still queued.
  result<void> stop(task& t) noexcept;
  co<result<void>> async_stop(task& t);

  bool armed() const noexcept { return st_.state == io_state::in_flight; }
  unsigned queued() const noexcept { return count_; }
  std::uint64_t accepted() const noexcept { return accepted_; }  // CQEs with a socket
  std::uint64_t arms() const noexcept { return arms_; }          // SQEs submitted
  std::uint64_t overflows() const noexcept { return overflows_; }

 private:
  static bool on_cqe(io_status& st, std::int32_t res, std::uint32_t flags) noexcept;
  void push(std::int32_t res) noexcept;
  socket pop() noexcept;
  socket as_socket(int v) const noexcept { return table_ ? socket{-1, v, table_} : socket{v, -1}; }
  // step() says what next() does now.
  enum class step : std::uint8_t { take, arm, drain, wait, fail };
  step next_step() noexcept;

  io_status st_;
  socket listener_;
  std::vector<int> queue_;  // ring of accepted fds/slots; size() is its room
  unsigned capacity_, head_ = 0, count_ = 0;
  executor* table_ = nullptr;  // accepting into its fixed-file table (else regular fds)
  bool paused_ = false;   // cancelled by back-pressure, not by anyone else
  task* waiter_ = nullptr;
  std::int32_t error_ = 0;  // the accept's terminal error, returned once
  std::uint64_t accepted_ = 0, arms_ = 0, overflows_ = 0;
};

}  // namespace prio::net
