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

// wait_status() suspends the stackful task t until st, initiated by t,
// completes. Executor thread, inside t. ECANCELED if t was cancelled before
// st could be waited for (st stays in flight; the executor drains it).
inline result<void> wait_status(task& t, io_status& st) noexcept {
  if (st.done()) return success();
  t.set_awaited_io(&st);
  auto w = t.wait_stackful(task_state::suspended_io, 0);
  t.set_awaited_io(nullptr);
  if (!st.done()) return failure(w ? errno_error(ECANCELED) : w.error());
  return success();
}

// status_awaiter: co_await status_awaiter{t, st} is wait_status for a
// coroutine body.
class status_awaiter {
 public:
  status_awaiter(task& t, io_status& st) noexcept : t_(t), st_(st) {}
  // Not ready while st is in flight, even for a cancelled task: st lives in
  // the caller's frame, so the wait must last until its last CQE is in (the
  // executor cancels the operation and resumes the task then).
  bool await_ready() const noexcept { return st_.done(); }
  void await_suspend(std::coroutine_handle<> h) noexcept {
    t_.set_awaited_io(&st_);
    t_.begin_wait(task_state::suspended_io, 0, h);
  }
  result<void> await_resume() noexcept {
    t_.set_awaited_io(nullptr);
    auto w = t_.end_wait();
    if (!st_.done()) return failure(w ? errno_error(ECANCELED) : w.error());
    return success();
  }

 private:
  task& t_;
  io_status& st_;
};

// deadline_after() is the tick deadline `d` from now; 0 (none) for forever.
inline tsc::ticks deadline_after(std::chrono::nanoseconds d) noexcept {
  if (d == forever) return 0;
  const tsc::ticks dl = tsc::now() + tsc::from_duration(d);
  return dl == 0 ? 1 : dl;
}

}  // namespace prio::net::detail
