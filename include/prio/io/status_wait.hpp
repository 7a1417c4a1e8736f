// status_wait.hpp: waiting for one caller-owned io_status to complete.
//
// perform() keeps its io_status inside itself. The few socket operations
// that must see every CQE (zero-copy send: result + notification; multishot
// accept) own their io_status, start it with initiate() and then wait for
// exactly that one with these helpers. They use the same await-one wait as
// perform (the task's awaited I/O), so no second mechanism exists.
#pragma once

#include <coroutine>

#include "prio/executors/io_op.hpp"

namespace prio::net::detail {

// wait_status() / status_awaiter: the executor's one wait for a single
// caller-owned operation (prio::wait_io, prio::wait_io_awaiter).
inline result<void> wait_status(task& t, io_status& st) noexcept { return wait_io(t, st); }
using status_awaiter = wait_io_awaiter;

// deadline_after() is the tick deadline `d` from now; 0 (none) for forever.
inline tsc::ticks deadline_after(std::chrono::nanoseconds d) noexcept {
  if (d == forever) return 0;
  const tsc::ticks dl = tsc::now() + tsc::from_duration(d);
  return dl == 0 ? 1 : dl;
}

}  // namespace prio::net::detail
