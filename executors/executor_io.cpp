// executor_io.cpp: the executor's side of I/O: submission slots in priority
// order, SQE batching, CQE dispatch, cancellation and draining.
//
// user_data of every SQE is an io_status address (8-byte aligned) with a tag
// in its low 3 bits saying which of the operation's CQEs it is.
#include <liburing.h>
#include <unistd.h>

#include <cassert>
#include <cstdio>
#include <cstring>
#include <new>

#include "executors/ring_enter.hpp"
#include "executors/ring_setup.hpp"
#include "prio/executors/executor.hpp"

namespace prio {

namespace {
enum tag : std::uint64_t {
  tag_op = 0,            // the operation itself
  tag_cancel = 1,        // an ASYNC_CANCEL aimed at the operation
  tag_link_timeout = 2,  // the LINK_TIMEOUT after it
  tag_wake = 3,          // the executor's eventfd read
  tag_ignore = 4,        // internal, nothing to do
};
constexpr std::uint64_t tag_mask = 7;

std::uint64_t tagged(const void* p, tag t) noexcept { return reinterpret_cast<std::uint64_t>(p) | t; }
}  // namespace

// The io_uring record is cache-line aligned: the fields the hot path reads
// (SQ head/tail/mask/SQEs, CQ head/tail/mask/CQEs) then sit in 3 lines, not 4.
constexpr std::align_val_t ring_align{64};

void executor::ring_deleter::operator()(io_uring* r) const noexcept {
  note_ring_unmapping();
  io_uring_queue_exit(r);
  r->~io_uring();
  ::operator delete(r, ring_align);
}

result<void> executor::init_ring(const executor_options& opts) noexcept {
  void* mem = ::operator new(sizeof(io_uring), ring_align, std::nothrow);
  if (!mem) return failure(errno_error(ENOMEM));
  auto* r = new (mem) io_uring{};
  const unsigned cq = opts.cq_entries ? opts.cq_entries : opts.ring_entries * 2;
  auto made = create_ring(r, opts.ring_entries, cq, ring_flags_, ring_flags_text_);
  if (!made) {
    ::operator delete(r, ring_align);
    return made;
  }
  ring_.reset(r);
  sq_khead_ = r->sq.khead;
  sq_ktail_ = r->sq.ktail;
  sqes_ = r->sq.sqes;
  cqes_ = r->cq.cqes;
  cq_mask_ = r->cq.ring_mask;
  enter_fd_ = r->enter_ring_fd;  // bind_to_this_thread() may register it
  max_in_flight_ = r->cq.ring_entries;
  cq_always_ = (ring_flags_ & IORING_SETUP_DEFER_TASKRUN) == 0;
  cq_unseen_ = true;
  fixed_files_ = opts.fixed_files;
  return success();
}

// --- admission ---------------------------------------------------------------------

io_uring_sqe* executor::get_sqe() noexcept {
  io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
  if (!sqe) {  // SQ full: hand what is there to the kernel, which frees it
    submit_nonblocking();
    sqe = io_uring_get_sqe(ring_.get());
  }
  return sqe;
}

// The SQ lacks room for an operation's SQEs (it holds ring_entries; the
// admitted operations are bounded by the CQ, twice that): hand what is there
// to the kernel, which frees it.
io_uring_sqe* executor::make_sq_room_and_get() noexcept {
  submit_nonblocking();
  return io_uring_get_sqe(ring_.get());
}

// commit() (executor_inl.hpp) stores the plain address as the operation's
// user_data.
static_assert(tag_op == 0);

void executor::link_timeout(io_status& st, io_uring_sqe* sqe, std::chrono::nanoseconds timeout) noexcept {
  const auto ns = std::max<std::int64_t>(timeout.count(), 0);
  st.timeout_ts.tv_sec = ns / 1000000000;
  st.timeout_ts.tv_nsec = ns % 1000000000;
  sqe->flags |= IOSQE_IO_LINK;
  io_uring_sqe* lt = io_uring_get_sqe(ring_.get());  // space was reserved
  io_uring_prep_link_timeout(lt, &st.timeout_ts, 0);
  io_uring_sqe_set_data64(lt, tagged(&st, tag_link_timeout));
  ++st.pending;
  ++unsubmitted_;
}

void executor::queue_for_slot(task& t, io_status& st, std::chrono::nanoseconds timeout) noexcept {
  st.owner = &t;
  st.state = io_state::waiting_slot;
  t.deferred_st_ = &st;
  t.deferred_timeout_ = timeout;
  t.slot_level_ = t.io_;
  slot_waiters_[index(t.io_)].push_back(t);
  ++slot_waiting_;
  ++stats_.slot_waits;
}

void executor::leave_slot_queue(task& t) noexcept {
  slot_waiters_[index(t.slot_level_)].remove(t);
  --slot_waiting_;
  if (t.deferred_st_) t.deferred_st_->state = io_state::idle;
  t.deferred_st_ = nullptr;
}

void executor::grant_slots() noexcept {
  for (int i = 0; i < priority_count; ++i) {
    auto& q = slot_waiters_[i];
    while (!q.empty() && slot_available(static_cast<priority>(i))) {
      task& t = *q.pop_front();
      --slot_waiting_;
      io_status& st = *t.deferred_st_;
      const unsigned need = t.deferred_timeout_ == forever ? 1 : 2;
      if (io_uring_sq_space_left(ring_.get()) < need) submit_nonblocking();
      io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
      std::memcpy(static_cast<void*>(sqe), t.deferred_sqe_, sizeof(*sqe));
      // Granted at the level it waited at, even if the task changed since.
      const priority now_prio = t.io_;
      t.io_ = static_cast<priority>(i);
      commit(t, st, sqe, t.deferred_timeout_);
      t.io_ = now_prio;
      t.deferred_st_ = nullptr;
      if (t.awaited_io_ == &st)
        t.state_.store(task_state::suspended_io, std::memory_order_relaxed);
      else
        wake_task(t, success());
    }
    if (in_flight_ >= max_in_flight_) return;
  }
}

// --- completions ---------------------------------------------------------------------

unsigned executor::reap_ready_cqes() noexcept {
  // The CQEs up to the tail seen now (16 bytes each: the rings never ask for
  // CQE32, ring_setup.cpp); ones the kernel adds meanwhile (a submission from
  // a CQE's handler) wait for the next call.
  io_uring_cq& cq = ring_->cq;
  const unsigned head = *cq.khead;
  const unsigned tail = io_uring_smp_load_acquire(cq.ktail);
  reaping_ = true;
  for (unsigned h = head; h != tail; ++h) {
    const io_uring_cqe& c = cqes_[h & cq_mask_];
    handle_cqe(c.user_data, c.res, c.flags);
  }
  reaping_ = false;
  const unsigned n = tail - head;
  if (n) {
    io_uring_smp_store_release(cq.khead, tail);
    stats_.reaped_cqes += n;
    if (slot_waiting_ != 0) grant_slots();
  }
  return n;
}

// settle_io(): st has all its CQEs: it is completed and off the in-flight
// counts; the answer says what that means for its owner's wait. Inline into
// the CQE loop (io_finished()) and into an inline wait's own completion.
enum class executor::io_wake : std::uint8_t {
  none,       // the owner waits on (or for) something else
  awaited,    // the owner's wait for st ends (perform(), wait_io(): no deadline)
  ok,         // the owner's wait for any I/O ends (it may have a deadline)
  cancelled,  // a cancelled wait for any I/O whose last CQE is in
  other,      // the owner is not in an I/O wait: io_finished_other()
};

inline executor::io_wake executor::settle_io(io_status& st) noexcept {
  task& t = *st.owner;
  st.state = io_state::completed;
  st.completed = now_;
  --in_flight_;
  --in_flight_prio_[index(st.io_prio)];
  if (st.reap_on_wake) [[likely]] {  // on no list; its owner awaits exactly st
    if (t.state() != task_state::suspended_io) [[unlikely]]
      return io_wake::other;
    assert(t.awaited_io_ == &st);
    return io_wake::awaited;
  }
  if (st.node.linked()) t.in_flight_.remove(st);
  if (t.state() != task_state::suspended_io) [[unlikely]]
    return io_wake::other;
  t.completed_.push_back(st);
  if (t.awaited_io_ == &st) return io_wake::awaited;  // wait_io()
  if (t.waiting_any_io_ && t.awaited_io_ == nullptr) {  // suspend_until_completed_io()
    // A cancelled wait resumes only once every CQE of the task is in.
    if (!t.cancel_requested_) return io_wake::ok;
    if (t.in_flight_.empty() && t.pending_cancels_ == 0) return io_wake::cancelled;
  }
  return io_wake::none;
}

// settled() acts on settle_io()'s answer: it wakes the owner (its wait
// ended, or a cancelled wait has drained) or hands st to
// io_finished_other() (a task draining after its body ended, or not
// waiting on I/O). io_finished() is both, for the CQE loop.
inline void executor::settled(io_status& st, io_wake w) noexcept {
  switch (w) {
    case io_wake::awaited:
      wake_awaiting_io(*st.owner);
      return;
    case io_wake::ok:
      wake_task(*st.owner, success());
      return;
    case io_wake::cancelled:
      wake_task(*st.owner, failure(errno_error(ECANCELED)));
      return;
    case io_wake::other:
      io_finished_other(*st.owner, st);
      return;
    case io_wake::none:
      return;
  }
}

inline void executor::io_finished(io_status& st) noexcept { settled(st, settle_io(st)); }

void executor::handle_cqe(std::uint64_t user_data, std::int32_t res, std::uint32_t flags) noexcept {
  const auto t = static_cast<tag>(user_data & tag_mask);
  auto* st = reinterpret_cast<io_status*>(user_data & ~tag_mask);
  if (t == tag_op) [[likely]] {  // the operation's own CQE, before the rarer tags
    if (st->on_cqe && st->on_cqe(*st, res, flags)) return;  // multishot: more to come
    st->res = res;
    st->cqe_flags = flags;
  } else {
    switch (t) {
      case tag_cancel:
        --st->owner->pending_cancels_;
        break;
      case tag_link_timeout:
        if (res == -ETIME) st->timed_out = true;
        break;
      case tag_wake:
        wake_armed_ = false;
        wake_pending_.store(false, std::memory_order_release);
        ++stats_.wakeups;
        if (!closed_.load(std::memory_order_relaxed)) arm_wake_read();
        return;
      default:
        return;
    }
  }
  if (--st->pending == 0) io_finished(*st);
}

// wait_inline(): the caller, t, stored its plain I/O wait state. Going on
// without a switch must change nothing anyone can see but the time saved:
// so only while t is the only task that could run (nothing runnable, no
// timer due, no slot waiters, no attach or wake() pending), within run()'s
// max_items, and only when the enter's CQ holds exactly one CQE, t's own,
// with no on_cqe handler: any other CQE is left to run()'s loop, so no
// other task's completion, callback or handler ever runs on t's stack.
bool executor::wait_inline(task& t) noexcept {
  // (task::wait_inline() checked the run queues and the budget.)
  if (unsubmitted_ == 0 || slot_waiting_ != 0) return false;
  if (remote_.visibly_nonempty() || wake_requested_.load(std::memory_order_relaxed)) return false;
  const tsc::ticks t1 = slice_end_clock();  // t's slice ends here
  if (!timers_.empty() && timers_.top_key() <= t1) return false;  // a deadline is due: the loop fires it
  if (track_task_time_) {
    t.times_.executed += t1 - slice_start_;
    stats_.in_tasks += t1 - slice_start_;
  }
  t.times_.suspended = t1;
  (void)enter(t1, 0);
  entered_inline_ = true;
  slice_start_ = now_;  // what t runs from here on is a new slice
  io_uring_cq& cq = ring_->cq;
  const unsigned head = *cq.khead;
  if (io_uring_smp_load_acquire(cq.ktail) - head != 1) return false;
  const io_uring_cqe& c = cqes_[head & cq_mask_];
  auto* st = reinterpret_cast<io_status*>(c.user_data);
  if ((c.user_data & tag_mask) != tag_op || st->owner != &t || st->on_cqe || st->pending != 1) return false;
  // The one CQE is t's: handled here as handle_cqe() and io_finished()
  // would, without the run queue's push and pop. (slot_waiting_ was 0
  // before the enter and nothing ran since: no slots to grant.)
  cq_unseen_ = cq_always_;
  st->res = c.res;
  st->cqe_flags = c.flags;
  st->pending = 0;
  io_uring_smp_store_release(cq.khead, head + 1);
  ++stats_.reaped_cqes;
  if (const io_wake w = settle_io(*st); w != io_wake::awaited && w != io_wake::ok) {  // not what its wait is for
    settled(*st, w);
    return false;
  }
  // A deadline that passed during the enter: the loop fires it and picks by
  // priority (t waits in its run queue). (t's own wait has no deadline:
  // task::plain_io_wait().)
  if (!timers_.empty() && timers_.top_key() <= now_) {
    wake_task(t, success());
    return false;
  }
  t.wake_status_ = success();
  --inline_budget_;
  t.times_.resumed = now_;
  ++t.times_.resumptions;
  ++stats_.resumed;
  t.state_.store(task_state::running, std::memory_order_relaxed);
  return true;
}

void executor::io_finished_other(task& t, io_status& st) noexcept {
  if (t.state() == task_state::completing) {
    st.state = io_state::reaped;  // nobody is left to reap it
    if (t.in_flight_.empty()) complete_task(t);
    return;
  }
  t.completed_.push_back(st);
}

void executor::cancel_io(io_status& st) noexcept {
  if (st.state != io_state::in_flight || st.cancel_requested || !ring_) return;
  io_uring_sqe* sqe = get_sqe();
  if (!sqe) return;
  io_uring_prep_cancel64(sqe, tagged(&st, tag_op), 0);
  io_uring_sqe_set_data64(sqe, tagged(&st, tag_cancel));
  st.cancel_requested = true;
  ++st.pending;
  ++st.owner->pending_cancels_;
  ++unsubmitted_;
}

void executor::cancel_all_io(task& t) noexcept {
  t.in_flight_.for_each([this](io_status& st) { cancel_io(st); });
  if (io_status* a = t.awaited_reap_on_wake()) cancel_io(*a);
}

void detail::release(io_status& st) noexcept {
  if (st.state == io_state::waiting_slot || st.state == io_state::in_flight) executor::abandon(st);
  executor::reap(st);  // completed: off the completed list
}

void executor::abandon(io_status& st) noexcept {
  task& t = *st.owner;
  executor* ex = t.ex_;
  if (st.state == io_state::waiting_slot) {  // its frame went away while the task was queued
    if (ex && t.deferred_st_ == &st) ex->leave_slot_queue(t);
    st.state = io_state::idle;
    return;
  }
  if (!ex || !ex->ring_ || !ex->on_bound_thread()) {
    // Detached (its executor shut down, which cancelled and drained the
    // ring) or off the thread that alone may enter the ring.
    if (ex) std::fprintf(stderr, "prio: io_status destroyed in flight off its executor's thread\n");
    if (st.node.linked()) t.in_flight_.remove(st);
    st.state = io_state::idle;
    return;
  }
  ++ex->stats_.abandoned_io;
  ex->cancel_io(st);
  ex->wait_out(st);
}

// wait_out() collects CQEs until st's are in. Normally it reaps them all.
// Inside reap_ready_cqes() (a completion callback abandoned st) the CQEs in
// the ring belong to that walk, whose head has not moved: only st's own are
// handled here, their user_data turned into tag_ignore so the walk skips
// them. Either way each wait asks for one CQE more than the ring holds.
void executor::wait_out(io_status& st) noexcept {
  const bool nested = reaping_;
  io_uring_cq& cq = ring_->cq;
  const auto mine = reinterpret_cast<std::uint64_t>(&st);
  for (;;) {
    if (!nested) {
      if (io_uring_cq_ready(ring_.get()) != 0) reap_ready_cqes();
    } else {
      const unsigned tail = io_uring_smp_load_acquire(cq.ktail);
      for (unsigned h = *cq.khead; h != tail; ++h) {
        io_uring_cqe& c = cqes_[h & cq_mask_];
        if ((c.user_data & ~tag_mask) != mine) continue;
        const std::uint64_t user_data = c.user_data;
        c.user_data = tag_ignore;
        handle_cqe(user_data, c.res, c.flags);
      }
    }
    if (st.state != io_state::in_flight) return;
    const int r = enter(now_, io_uring_cq_ready(ring_.get()) + 1);
    // EBUSY (CQ overflow) clears as CQEs are reaped: not while nested.
    if (r < 0 && r != -EINTR && r != -EAGAIN && r != -ETIME && (nested || r != -EBUSY)) {
      std::fprintf(stderr, "prio: io_status destroyed in flight; waiting for it failed: %s\n",
                   std::strerror(-r));
      return;
    }
  }
}

// --- the ring's own traffic ---------------------------------------------------------

void executor::arm_wake_read() noexcept {
  if (wake_armed_) return;
  io_uring_sqe* sqe = get_sqe();
  if (!sqe) return;
  io_uring_prep_read(sqe, wake_fd_, &wake_buf_, sizeof(wake_buf_), 0);
  io_uring_sqe_set_data64(sqe, tagged(&wake_buf_, tag_wake));
  wake_armed_ = true;
  ++unsubmitted_;
}

// submit_nonblocking(): io_uring_submit_and_get_events() without going
// through liburing's library: publish the SQ tail, then one enter that
// submits and, on a DEFER_TASKRUN ring, runs the completions' task work.
void executor::submit_nonblocking(tsc::ticks t0) noexcept { (void)enter(t0, 0); }

int executor::enter(tsc::ticks t0, unsigned wait_nr) noexcept {
  const std::size_t n = unsubmitted_;
  io_uring_sq& sq = ring_->sq;
  const unsigned tail = sq.sqe_tail;
  if (sq.sqe_head != tail) {
    sq.sqe_head = tail;
    io_uring_smp_store_release(sq_ktail_, tail);  // no SQPOLL: the enter orders it
  }
  const unsigned to_submit = tail - IO_URING_READ_ONCE(*sq_khead_);
  const unsigned flags = IORING_ENTER_GETEVENTS | (ring_fd_registered_ ? IORING_ENTER_REGISTERED_RING : 0u);
  int r;
  do {
    r = detail::ring_enter(enter_fd_, to_submit, wait_nr, flags);
  } while (r == -EINTR);
  entered(n, r >= 0);
  now_ = clock();
  entered_at(now_);
  stats_.in_io_uring += now_ - t0;
  return r;
}

void executor::drain_ring_for_shutdown() noexcept {
  if (!ring_) return;
  // Everything still in the kernel is cancelled and its CQEs collected, so no
  // completion can land in memory after the executor is gone.
  if (in_flight_ != 0 || wake_armed_) {
    if (io_uring_sqe* sqe = get_sqe()) {
      io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
      io_uring_sqe_set_data64(sqe, tag_ignore);
      ++unsubmitted_;
    }
  }
  for (int round = 0; round < 1000 && (in_flight_ != 0 || wake_armed_); ++round) {
    io_uring_cqe* cqe = nullptr;
    __kernel_timespec ts{0, 10 * 1000 * 1000};
    io_uring_submit_and_wait_timeout(ring_.get(), &cqe, 1, &ts, nullptr);
    unsubmitted_ = 0;
    now_ = clock();
    reap_cqes();
  }
  if (in_flight_ != 0)
    std::fprintf(stderr, "prio: executor shut down with %u operation(s) the kernel did not cancel\n",
                 in_flight_);
}

}  // namespace prio
