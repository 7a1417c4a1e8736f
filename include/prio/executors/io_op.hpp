// io_op.hpp: how every I/O operation suspends and resumes its task.
//
// One mechanism, two styles, for stackful and coroutine bodies alike:
//   perform(t, prep)                 await one: suspend until it completes
//   co_await async_perform(t, prep)  the same for a coroutine body
//   initiate(t, st, prep)            many in flight: start it, reap later
//   co_await async_initiate(t, st, prep)
// prep(io_uring_sqe*) fills the SQE; io/ wraps these per operation. Results
// are the CQE's res (>= 0) or its error; a linked timeout that fired gives
// ETIME; a cancelled wait gives ECANCELED once every CQE is in.
#pragma once

#include <coroutine>

#include "prio/executors/executor.hpp"

namespace prio {

namespace detail {
// awaitable_by(): st, not done, is one whose completion will wake t: t's
// own, initiated (in flight or waiting for a slot).
inline bool awaitable_by(const task& t, const io_status& st) noexcept {
  return st.state != io_state::idle && st.owner == &t;
}

// outcome_of() turns a finished io_status into the caller's result.
inline result<std::int32_t> outcome_of(const io_status& st) noexcept {
  if (st.timed_out && st.res == -ECANCELED) return failure(errno_error(ETIME));
  return st.result();
}
}  // namespace detail

// initiate() starts st for the stackful task t (the current task) and returns
// once it is submitted; it suspends while t waits for a submission slot (a
// task that cannot suspend, switcher none, gets errc::cannot_suspend then,
// with nothing queued).
// initiate_inline() is the same, forced inline into a hot caller (its
// default is forever spelled as a value: a defaulted `forever` is a load).
template <class Prep>
[[gnu::always_inline]] inline result<void> initiate_inline(
    task& t, io_status& st, Prep&& prep,
    std::chrono::nanoseconds timeout = std::chrono::nanoseconds::max()) noexcept {
  executor* ex = t.current_executor();
  if (!ex) [[unlikely]]
    return failure(errno_error(EINVAL));
  auto adm = ex->try_initiate(t, st, prep, timeout, t.can_wait_stackful());
  if (!adm) [[unlikely]]
    return failure(adm.error());
  if (*adm == executor::admission::queued) [[unlikely]]
    PRIO_TRY(t.wait_stackful(task_state::suspended_slot, 0));
  return success();
}

template <class Prep>
result<void> initiate(task& t, io_status& st, Prep&& prep,
                      std::chrono::nanoseconds timeout = forever) noexcept {
  return initiate_inline(t, st, std::forward<Prep>(prep), timeout);
}

// perform() runs one operation to completion for the stackful task t. A
// task that cannot suspend (switcher none; a coroutine body, which has
// async_perform) gets errc::cannot_suspend with nothing submitted.
template <class Prep>
result<std::int32_t> perform(task& t, Prep&& prep,
                             std::chrono::nanoseconds timeout = forever) noexcept {
  executor* ex = t.current_executor();
  if (!ex) return failure(errno_error(EINVAL));
  if (!t.can_wait_stackful()) [[unlikely]]
    return failure(errc::cannot_suspend);
  io_status st;
  st.reap_on_wake = true;
  t.set_awaited_io(&st);
  auto adm = ex->admit(t, st, prep, timeout);
  if (!adm) {
    t.set_awaited_io(nullptr);
    return failure(adm.error());
  }
  auto w = t.wait_stackful(*adm == executor::admission::queued ? task_state::suspended_slot
                                                                : task_state::suspended_io,
                           0);
  t.set_awaited_io(nullptr);
  if (!st.done()) return failure(w ? errno_error(ECANCELED) : w.error());  // cancelled while queued
  ex->reap_awaited(st);
  return detail::outcome_of(st);
}

// wait_io() suspends the stackful task t until st, an operation t initiated,
// has completed with all its CQEs in. The completion stays on t's completed
// list: reap it with executor::reap(st) or let suspend_until_completed_io()
// hand it out. A cancelled task still waits while st is in flight (the
// executor cancels st first), so st may go away afterwards. ECANCELED only
// if st never reached the kernel; EINVAL, at once, for an st that nothing
// would ever complete for t (never initiated, or another task's).
inline result<void> wait_io(task& t, io_status& st) noexcept {
  if (st.done()) return success();
  if (!detail::awaitable_by(t, st)) [[unlikely]]
    return failure(errno_error(EINVAL));
  t.set_awaited_io(&st);
  auto w = t.wait_stackful(task_state::suspended_io, 0);
  t.set_awaited_io(nullptr);
  if (!st.done()) return failure(w ? errno_error(ECANCELED) : w.error());
  return success();
}

// wait_io_awaiter: co_await async_wait_io(t, st) is wait_io for a coroutine.
class wait_io_awaiter {
 public:
  wait_io_awaiter(task& t, io_status& st) noexcept : t_(t), st_(st) {}
  // Not ready while st is in flight, even in a cancelled task (see wait_io).
  bool await_ready() noexcept {
    if (st_.done()) return true;
    refused_ = !detail::awaitable_by(t_, st_);
    return refused_;
  }
  bool await_suspend(std::coroutine_handle<> h) noexcept {
    t_.set_awaited_io(&st_);
    return t_.begin_wait(task_state::suspended_io, 0, h);
  }
  result<void> await_resume() noexcept {
    if (refused_) return failure(errno_error(EINVAL));
    t_.set_awaited_io(nullptr);
    auto w = t_.end_wait();
    if (!st_.done()) return failure(w ? errno_error(ECANCELED) : w.error());
    return success();
  }

 private:
  task& t_;
  io_status& st_;
  bool refused_ = false;  // st is not t's, or was never initiated: EINVAL
};

inline wait_io_awaiter async_wait_io(task& t, io_status& st) noexcept { return {t, st}; }

// async_initiate(): co_await it to start st from a coroutine body.
template <class Prep>
class initiate_awaiter {
 public:
  initiate_awaiter(task& t, io_status& st, Prep prep, std::chrono::nanoseconds timeout) noexcept
      : t_(t), st_(st), prep_(std::move(prep)), timeout_(timeout) {}
  bool await_ready() noexcept {
    executor* ex = t_.current_executor();
    if (!ex) {
      adm_ = failure(errno_error(EINVAL));
      return true;
    }
    adm_ = ex->try_initiate(t_, st_, prep_, timeout_);
    return !adm_ || *adm_ == executor::admission::submitted;
  }
  bool await_suspend(std::coroutine_handle<> h) noexcept {
    return t_.begin_wait(task_state::suspended_slot, 0, h);
  }
  result<void> await_resume() noexcept {
    if (!adm_) return failure(adm_.error());
    if (*adm_ == executor::admission::queued) return t_.end_wait();
    return success();
  }

 private:
  task& t_;
  io_status& st_;
  Prep prep_;
  std::chrono::nanoseconds timeout_;
  result<executor::admission> adm_{executor::admission::submitted};
};

template <class Prep>
initiate_awaiter<std::decay_t<Prep>> async_initiate(task& t, io_status& st, Prep&& prep,
                                                    std::chrono::nanoseconds timeout = forever) noexcept {
  return {t, st, std::forward<Prep>(prep), timeout};
}

// async_perform(): co_await it to run one operation from a coroutine body.
template <class Prep>
class perform_awaiter {
 public:
  perform_awaiter(task& t, Prep prep, std::chrono::nanoseconds timeout) noexcept
      : t_(t), prep_(std::move(prep)), timeout_(timeout) {}
  perform_awaiter(const perform_awaiter&) = delete;
  bool await_ready() noexcept {
    executor* ex = t_.current_executor();
    if (!ex) {
      adm_ = failure(errno_error(EINVAL));
      return true;
    }
    st_.reap_on_wake = true;
    t_.set_awaited_io(&st_);
    adm_ = ex->admit(t_, st_, prep_, timeout_);
    if (!adm_) t_.set_awaited_io(nullptr);
    return !adm_;
  }
  bool await_suspend(std::coroutine_handle<> h) noexcept {
    return t_.begin_wait(*adm_ == executor::admission::queued ? task_state::suspended_slot
                                                              : task_state::suspended_io,
                         0, h);
  }
  result<std::int32_t> await_resume() noexcept {
    if (!adm_) return failure(adm_.error());
    t_.set_awaited_io(nullptr);
    auto w = t_.end_wait();
    if (!st_.done()) return failure(w ? errno_error(ECANCELED) : w.error());
    t_.current_executor()->reap_awaited(st_);
    return detail::outcome_of(st_);
  }

 private:
  // (Ordered so that what a round trip touches, the first 56 bytes of st_
  // included, spans as few cache lines of the coroutine frame as it can.)
  task& t_;
  Prep prep_;
  std::chrono::nanoseconds timeout_;
  result<executor::admission> adm_{executor::admission::submitted};
  io_status st_;
};

template <class Prep>
perform_awaiter<std::decay_t<Prep>> async_perform(task& t, Prep&& prep,
                                                  std::chrono::nanoseconds timeout = forever) noexcept {
  return {t, std::forward<Prep>(prep), timeout};
}

}  // namespace prio
