// executor_inl.hpp: the inline part of the executor's I/O mechanism.
#pragma once

#include <liburing.h>

#include <cassert>
#include <cerrno>
#include <cstring>

namespace prio {

inline bool executor::slot_available(priority p) const noexcept {
  if (in_flight_ >= max_in_flight_) return false;
  if (p == priority::low && low_cap_ != 0 && in_flight_prio_[index(priority::low)] >= low_cap_)
    return false;
  return true;
}

inline io_uring_sqe* executor::acquire_sqes(priority p, unsigned n) noexcept {
  // FIFO fairness: nobody overtakes a waiter of the same or a higher level.
  if (slot_waiting_ != 0) [[unlikely]]
    for (int i = 0; i <= index(p); ++i)
      if (!slot_waiters_[i].empty()) return nullptr;
  if (!slot_available(p)) return nullptr;
  // io_uring_get_sqe() without its checks for SQPOLL and 128-byte SQEs (the
  // executor's rings use neither, ring_setup.cpp) and with one read of the
  // kernel's head for both the room check and the SQE.
  io_uring_sq& sq = ring_->sq;
  const unsigned tail = sq.sqe_tail;
  if (tail + n - IO_URING_READ_ONCE(*sq_khead_) > sq.ring_entries) [[unlikely]]
    return make_sq_room_and_get();
  sq.sqe_tail = tail + 1;
  io_uring_sqe* const sqe = &sqes_[tail & sq.ring_mask];
  if (sqe == nullptr) __builtin_unreachable();  // the caller's null test folds away
  return sqe;
}

inline bool task::wait_inline() noexcept {
  executor& ex = *ex_;
  // Normal first: the level most tasks run at.
  if (!ex.runnable_[1].empty() || !ex.runnable_[0].empty() || !ex.runnable_[2].empty() || ex.inline_budget_ == 0)
    return false;
  return ex.wait_inline(*this);
}

inline void executor::make_runnable(task& t) noexcept { runnable_[index(t.cpu_)].push_back(t); }

// wake_task(): the waiting task t becomes runnable; its wait returns
// status. Inline: a completion's wake then stores success() directly.
inline void executor::wake_task(task& t, result<void> status) noexcept {
  if (t.timer_node_.in_heap) timers_.remove(&t.timer_node_);
  t.wake_status_ = status;
  t.state_.store(task_state::runnable, std::memory_order_relaxed);
  make_runnable(t);
}

// wake_awaiting_io(): the same for a task whose wait for one operation
// (perform(), wait_io()) has ended: such a wait has no deadline, so no
// timer to take out (and the task's timer line stays untouched).
inline void executor::wake_awaiting_io(task& t) noexcept {
  assert(!t.timer_node_.in_heap);
  t.wake_status_ = success();
  t.state_.store(task_state::runnable, std::memory_order_relaxed);
  make_runnable(t);
}

inline void executor::commit(task& t, io_status& st, io_uring_sqe* sqe,
                             std::chrono::nanoseconds timeout) noexcept {
  io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(&st));  // tag_op (0)
  // (res, cqe_flags and the later stamps are written when they happen.)
  st.owner = &t;
  st.state = io_state::in_flight;
  st.pending = 1;
  st.cancel_requested = false;
  st.timed_out = false;
  st.io_prio = t.io_;
  st.initiated = now_;
  ++unsubmitted_;
  if (timeout != forever) [[unlikely]]
    link_timeout(st, sqe, timeout);
  if (!st.reap_on_wake) t.in_flight_.push_back(st);
  ++in_flight_;
  ++in_flight_prio_[index(t.io_)];
}

// entered(): after every io_uring_enter (inline: the hot enter's tail).
inline void executor::entered(std::size_t sqes, bool submitted) noexcept {
  if (submitted) {
    stats_.submitted_sqes += sqes;
    unsubmitted_ = 0;
  }
  ++stats_.enters;
  cq_unseen_ = true;
  entered_inline_ = false;  // wait_inline() sets it again after its own
}

inline unsigned executor::reap_cqes() noexcept {
  if (io_uring_cq_ready(ring_.get()) == 0) return 0;
  return reap_ready_cqes();
}

inline void executor::reap(io_status& st) noexcept {
  if (st.state != io_state::completed) return;
  if (st.node.linked()) st.owner->completed_.remove(st);  // reap_on_wake: never listed
  st.state = io_state::reaped;
  st.reaped = st.owner->ex_ ? st.owner->ex_->now_ : tsc::now();
}

inline void executor::reap_awaited(io_status& st) noexcept {
  assert(st.reap_on_wake && st.state == io_state::completed && !st.node.linked());
  st.state = io_state::reaped;
  st.reaped = now_;
}

// Forced inline: every operation's initiation is this plus its prep.
template <class Prep>
[[gnu::always_inline]] inline result<executor::admission> executor::try_initiate(
    task& t, io_status& st, Prep&& prep, std::chrono::nanoseconds timeout, bool may_wait) noexcept {
  if (t.cancel_requested_) return failure(errno_error(ECANCELED));  // (admit() tests it again: folded)
  if (st.state == io_state::in_flight || st.state == io_state::waiting_slot)
    return failure(errno_error(EBUSY));
  return admit(t, st, prep, timeout, may_wait);
}

template <class Prep>
[[gnu::always_inline]] inline result<executor::admission> executor::admit(
    task& t, io_status& st, Prep&& prep, std::chrono::nanoseconds timeout, bool may_wait) noexcept {
  if (t.cancel_requested_) return failure(errno_error(ECANCELED));
  const unsigned need = timeout == forever ? 1 : 2;
  // (A compute-only executor has no slots: max_in_flight_ is 0.)
  if (io_uring_sqe* sqe = acquire_sqes(t.io_, need)) {
    prep(sqe);
    commit(t, st, sqe, timeout);
    return admission::submitted;
  }
  if (!ring_) return failure(errno_error(EOPNOTSUPP));
  if (!may_wait) [[unlikely]]
    return failure(errc::cannot_suspend);
  auto* copy = reinterpret_cast<io_uring_sqe*>(t.deferred_sqe_);
  std::memset(copy, 0, sizeof(*copy));
  prep(copy);
  queue_for_slot(t, st, timeout);
  return admission::queued;
}

}  // namespace prio
