// executor.cpp: creation, attach, the run loop and scheduling.
#include "prio/executors/executor.hpp"

#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdio>

#include "executors/ring_setup.hpp"
#include "prio/executors/registry.hpp"
#include "prio/runtime/asymmetric_fence.hpp"
#include "prio/runtime/spin.hpp"
#include "prio/runtime/tls.hpp"

namespace prio {

namespace {
PRIO_HOT_TLS constinit thread_local executor* tl_executor = nullptr;
PRIO_HOT_TLS constinit thread_local task* tl_task = nullptr;
}  // namespace

task* executor::task_of_timer(heap_node* n) noexcept {
  return reinterpret_cast<task*>(reinterpret_cast<char*>(n) -
                                 member_offset<task, heap_node, &task::timer_node_>());
}

executor* executor::current() noexcept { return tl_executor; }
task* executor::current_task() noexcept { return tl_task; }

executor::executor(const executor_options& opts) noexcept
    : submit_interval_(tsc::from_duration(opts.submit_interval)),
      low_cap_(opts.low_priority_io_cap),
      track_task_time_(opts.track_task_time),
      spin_ticks_(tsc::from_duration(opts.spin_before_sleep)),
      publish_ticks_(tsc::from_duration(std::max(opts.stats_publish_interval, std::chrono::nanoseconds(0)))) {}

result<std::unique_ptr<executor>> executor::create(const executor_options& opts) noexcept {
  std::unique_ptr<executor> ex(new (std::nothrow) executor(opts));
  if (!ex) return failure(errno_error(ENOMEM));
  debug::add_executor(ex.get());  // debugger registry (issue 7)
  // Without membarrier, completions must fence for cross-thread cancel().
  if (!detail::membarrier_available()) ex->completion_fence_.store(2, std::memory_order_relaxed);
  ex->wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (ex->wake_fd_ < 0) return failure(errno_error(errno));
  if (opts.ring_entries > 0) PRIO_TRY(ex->init_ring(opts));
  return ex;
}

executor::~executor() {
  debug::remove_executor(this);
  shutdown();
  if (ring_fd_registered_ && !on_bound_thread()) disown_ring_fd_registration(ring_.get());
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

bool executor::on_bound_thread() const noexcept {
  return owner_.load(std::memory_order_acquire) == std::this_thread::get_id();
}

// bound_here_or_unbound(): this thread may act as the executor's own (it is
// the bound one, or none is bound yet).
bool executor::bound_here_or_unbound() const noexcept {
  const auto owner = owner_.load(std::memory_order_acquire);
  return owner == std::thread::id{} || owner == std::this_thread::get_id();
}

result<void> executor::bind_to_this_thread() noexcept {
  const auto me = std::this_thread::get_id();
  auto expected = std::thread::id{};
  if (!owner_.compare_exchange_strong(expected, me, std::memory_order_acq_rel))
    return expected == me ? success() : failure(errc::not_on_executor);
  debug::bind_executor(this);  // records this kernel thread for debuggers
  if (ring_) {
    PRIO_TRY(enable_ring(ring_.get(), ring_flags_, fixed_files_, ring_fd_registered_));
    enter_fd_ = ring_->enter_ring_fd;
    arm_wake_read();
  }
  return success();
}

// --- attach -------------------------------------------------------------------

result<void> executor::claim(task& t) noexcept {
  if (t.body_kind_ == task::body::none) return failure(errno_error(EINVAL));
  if (t.is_coroutine_body() != t.coro_switcher_) return failure(errno_error(EINVAL));
  task_state s = t.state_.load(std::memory_order_acquire);
  do {
    if (s != task_state::idle && s != task_state::completed) return failure(errc::task_busy);
  } while (!t.state_.compare_exchange_weak(s, task_state::pending, std::memory_order_acq_rel));
  t.claimed_from_ = s;
  t.cancel_requested_ = false;
  // (Only this thread writes it now: the state CAS above made the claim ours.)
  t.run_id_.store(t.run_id_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  return success();
}

// unclaim(): t is in no queue yet, and its ex_ is still unset, so no
// cancel() from another thread can have queued a request for it.
// (Its run number stays spent: numbers are never reused.)
void executor::unclaim(task& t) noexcept { t.state_.store(t.claimed_from_, std::memory_order_release); }

// attach(t) is a batch of one.
result<void> executor::attach(task& t) noexcept {
  task* const one = &t;
  return attach(std::span<task* const>(&one, 1));
}

result<void> executor::attach(std::span<task* const> ts) noexcept {
  if (closed_.load(std::memory_order_acquire)) return failure(errc::executor_closed);
  for (std::size_t i = 0; i < ts.size(); ++i) {
    // A task listed twice is pending the second time: claim() refuses it.
    auto r = ts[i] ? claim(*ts[i]) : result<void>(failure(errno_error(EINVAL)));
    if (!r) {
      for (std::size_t j = 0; j < i; ++j) unclaim(*ts[j]);  // all or nothing
      return r;
    }
  }
  // Only now, with the whole batch claimed, does a task name its executor
  // (what cancel() from another thread looks at): an unclaimed task never did.
  // Acquire: a cancel_all() whose generation this reads came before us, and
  // whatever its caller did before it (see work_dispatcher::attach_taken()).
  const std::uint64_t gen = cancel_gen_.load(std::memory_order_acquire);
  for (task* t : ts) {
    t->set_executor(this);
    t->attach_gen_ = gen;
  }
  const tsc::ticks attached = clock();
  if (on_bound_thread()) {
    for (task* t : ts) {
      t->reset_run(attached);
      live_.push_back(*t);
      make_runnable(*t);
    }
    return success();
  }
  // From another thread, touch as few of each task's cache lines as
  // possible (each is one the executor's thread must fetch back): the
  // executor resets the rest when it takes the tasks in (drain_remote()).
  for (task* t : ts) t->attach_stamp_ = attached;
  remote_.push_all(ts.begin(), ts.end());
  if (!ts.empty() && sleeping_.load(std::memory_order_seq_cst)) signal();
  return success();
}

void executor::wake() noexcept {
  wake_requested_.store(true, std::memory_order_seq_cst);
  if (sleeping_.load(std::memory_order_seq_cst)) signal();
}

void executor::signal() noexcept {
  if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;
  const std::uint64_t one = 1;
  ssize_t r;
  do {
    r = ::write(wake_fd_, &one, sizeof(one));
  } while (r < 0 && errno == EINTR);
}

void executor::drain_remote() noexcept {
  while (mpsc_node* n = remote_.pop_node()) {
    if (n == &cancel_doorbell_) [[unlikely]] {
      drain_cancels();
      continue;
    }
    task* const t = decltype(remote_)::element_of(n);
    t->reset_run(t->attach_stamp_);
    ++stats_.remote_attaches;
    live_.push_back(*t);
    if (t->cancel_requested_) {
      t->outcome_ = failure(errno_error(ECANCELED));
      ++stats_.cancelled;
      complete_task(*t);
      count_unlaunched();
    } else {
      make_runnable(*t);
    }
  }
}

// --- scheduling -----------------------------------------------------------------

void executor::requeue(task& t, priority old) noexcept {
  runnable_[index(old)].remove(t);
  make_runnable(t);
}

task* executor::pop_runnable() noexcept {
  for (auto& q : runnable_)
    if (task* t = q.pop_front()) return t;
  return nullptr;
}

void executor::resume_waiter(task& t, result<void> status) noexcept {
  if (t.state() == task_state::suspended_other) wake_task(t, status);
}

void executor::start_wait(task& t, task_state s, tsc::ticks deadline) noexcept {
  // (A plain I/O wait, task::plain_io_wait(), never comes here: the task
  // stores the state itself.)
  t.state_.store(s, std::memory_order_relaxed);
  // A cancelled task waiting for its own I/O to drain: cancel it now.
  if (s == task_state::suspended_io && t.cancel_requested_) cancel_all_io(t);
  if (s == task_state::runnable) {
    make_runnable(t);  // yield: to the back of its level
    return;
  }
  if (deadline != 0) {
    t.timer_node_.key = deadline;
    timers_.push(&t.timer_node_);
  }
}

void executor::fire_timers(tsc::ticks now) noexcept {
  while (!timers_.empty() && timers_.top_key() <= now) {
    task& t = *task_of_timer(timers_.pop());
    // A sleep ends normally at its deadline; any other wait with a deadline
    // (I/O, a resource) times out.
    const bool sleep = t.state() == task_state::suspended_timer;
    wake_task(t, sleep ? success() : result<void>(failure(errno_error(ETIME))));
  }
}

// Inlined into run(): the switch back from the task then lands in run()'s
// own loop, with no return after it to mispredict.
[[gnu::always_inline]] inline void executor::run_task(task& t) noexcept {
  const task_state s = t.state();
  const tsc::ticks t0 = slice_start_ = now_;  // the end of the previous slice or batch
  if (s == task_state::pending) {
    t.times_.launched = t0;
    ++stats_.launched;
    t.ctx_->start(t.is_coroutine_body() ? &task::coroutine_entry : &task::stackful_entry, &t);
  } else {
    t.times_.resumed = t0;
    ++t.times_.resumptions;
    ++stats_.resumed;
  }
  t.state_.store(task_state::running, std::memory_order_relaxed);
  tl_task = &t;
  if (t.coro_switcher_)
    static_cast<coro_context&>(*t.ctx_).resume_inline();
  else
    t.ctx_->resume();
  tl_task = nullptr;
  tsc::ticks t1;
  if (track_task_time_) [[likely]] {
    t1 = now_ = clock();
    t.times_.executed += t1 - slice_start_;
    stats_.in_tasks += t1 - slice_start_;
  } else {
    t1 = now_ = slice_end_clock();
  }
  if (t.ctx_->state() == context_state::finished)
    finish_task(t);
  else
    t.times_.suspended = t1;
}

void executor::finish_task(task& t) noexcept {
  if (std::exception_ptr e = t.ctx_->take_exception()) {
    t.exception_ = e;
    t.outcome_ = failure(errc::task_exception);
  }
  // Completed I/O nobody reaped: forget it (its io_status may be gone).
  while (io_status* st = t.completed_.pop_front()) st->state = io_state::reaped;
  if (t.io_in_flight() != 0) {
    t.state_.store(task_state::completing, std::memory_order_relaxed);
    cancel_all_io(t);
    return;
  }
  complete_task(t);
}

void executor::complete_task(task& t) noexcept {
  if (!release_task(t)) [[unlikely]] {
    // Another thread's cancel request for this run is in cancels_: t is
    // completed (by drain_cancels()) once the request is out, so that no
    // request ever outlives its run (the task may be destroyed after it).
    t.complete_when_drained_ = true;
    t.state_.store(task_state::completing, std::memory_order_relaxed);
    return;
  }
  t.coro_body_.reset();
  t.times_.completed = now_;
  ++stats_.completed;
  live_.remove(t);
  t.state_.store(task_state::completed, std::memory_order_release);
  if (t.on_complete_) t.on_complete_(t, t.on_complete_arg_);
}

bool executor::release_task_slow(task& t) noexcept {
  // A canceller holds t's request lock: it saw ex_ still set (and queues a
  // request, if none is) or already unset (and refuses). Its critical
  // section is a few stores and at most one eventfd write.
  std::uint8_t x;
  for (unsigned spins = 0; (x = t.remote_cancel_.load(std::memory_order_acquire)) & task::remote_cancel_busy;)
    spin_backoff(spins);
  if (!(x & task::remote_cancel_queued)) return true;
  t.set_executor(this);  // still ours until drain_cancels() has taken the request
  return false;
}

void executor::order_with_completions() noexcept {
  std::uint8_t m = completion_fence_.load(std::memory_order_acquire);
  if (m == 2) {  // completions fence: so do we
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return;
  }
  // Completions use a compiler barrier (or may still, while another
  // canceller's switch is under way): a membarrier orders us with them.
  // The first canceller also switches them to a fence: its membarrier
  // makes every later completion see the switch.
  const bool switching = m == 0 && completion_fence_.compare_exchange_strong(m, 1, std::memory_order_acq_rel);
  detail::asymmetric_fence_heavy();
  if (switching) completion_fence_.store(2, std::memory_order_release);
}

void executor::post_cancel(task& t) noexcept {
  cancels_.push(t);
  ring_cancel_doorbell();
}

void executor::ring_cancel_doorbell() noexcept {
  // The doorbell goes into remote_ once per drain: the run loop already
  // checks remote_ on every turn, and a sleeper is woken as for an attach.
  if (!cancel_rung_.exchange(true, std::memory_order_acq_rel)) {
    remote_.push_marker(cancel_doorbell_);
    if (sleeping_.load(std::memory_order_seq_cst)) signal();
  }
}

result<void> executor::cancel_all() noexcept {
  if (closed_.load(std::memory_order_acquire)) return failure(errc::executor_closed);
  // A new generation: runs attached from now on read it (or a later one)
  // and are not this call's to cancel.
  cancel_gen_.fetch_add(1, std::memory_order_acq_rel);
  cancel_all_requested_.store(true, std::memory_order_release);
  if (on_bound_thread())
    drain_cancels();
  else
    ring_cancel_doorbell();  // its exchange publishes the request to the drain's
  return success();
}

namespace {
constexpr std::size_t drain_turn_items = 256;  // cancel_and_drain()'s run() between checks
}  // namespace

result<void> executor::cancel_and_drain(std::chrono::nanoseconds timeout) noexcept {
  if (!bound_here_or_unbound()) return failure(errc::not_on_executor);
  if (tl_executor == this) return failure(errno_error(EDEADLK));  // a task would wait for itself
  if (closed_.load(std::memory_order_acquire)) return failure(errc::executor_closed);
  if (!on_bound_thread()) PRIO_TRY(bind_to_this_thread());  // as run() would
  const tsc::ticks start = clock();
  const tsc::ticks deadline =
      timeout == forever ? UINT64_MAX : start + tsc::from_duration(std::max(timeout, std::chrono::nanoseconds(0)));
  for (;;) {
    // Takes in the attaches from other threads, then cancels; tasks that
    // never launched end here and then.
    PRIO_TRY(cancel_all());
    if (live_.empty() && remote_.empty()) return success();
    const tsc::ticks now = clock();
    if (now >= deadline) return failure(errno_error(ETIME));
    // A bounded turn: tasks attached meanwhile are cancelled at the next,
    // and the deadline holds while the executor stays busy.
    auto r = run(drain_turn_items, deadline == UINT64_MAX ? forever : tsc::to_duration(deadline - now));
    if (!r && r.error() != std::errc::stream_timeout) return failure(r.error());
  }
}

bool executor::queue_cancel_of_live_tasks() noexcept {
  // Every attach that returned before the request is in remote_: move them
  // to live_ first. A producer between the two steps of its push hides the
  // nodes behind it; it is one store from done, so wait a little, then
  // leave the request for the next turn rather than spin on.
  drain_remote();
  for (unsigned spins = 0; remote_.maybe_nonempty(); drain_remote()) {
    if (spins == 256) return false;
    spin_backoff(spins);
  }
  // Every call so far has asked (one still in progress asks in a moment):
  // what was attached before the latest generation goes.
  const std::uint64_t upto = cancel_gen_.load(std::memory_order_acquire);
  live_.for_each([&](task& t) {
    if (t.cancel_requested_) return;  // cancelled already
    if (t.attach_gen_ >= upto) return;  // attached after the last cancel_all() call
    // Under the request lock, as another thread's cancel(): a request of
    // theirs may be on its way, and a task is queued once at most (if it
    // is, the drain acts on that one).
    t.lock_cancel_requests();
    if (!(t.remote_cancel_.load(std::memory_order_relaxed) & task::remote_cancel_queued)) {
      t.remote_cancel_.fetch_or(task::remote_cancel_queued, std::memory_order_relaxed);
      cancels_.push(t);
    }
    t.unlock_cancel_requests();
  });
  return true;
}

void executor::drain_cancels() noexcept {
  // Unrung before popping: a request pushed after this rings again. (A
  // request whose ring came before this exchange was pushed before it.)
  cancel_rung_.exchange(false, std::memory_order_acq_rel);
  if (cancel_all_requested_.load(std::memory_order_acquire) &&
      cancel_all_requested_.exchange(false, std::memory_order_acq_rel) && !closed_.load(std::memory_order_relaxed) &&
      !queue_cancel_of_live_tasks()) {
    cancel_all_requested_.store(true, std::memory_order_relaxed);
    ring_cancel_doorbell();  // try again at the next turn
  }
  while (task* t = cancels_.pop()) {
    t->remote_cancel_.fetch_and(static_cast<std::uint8_t>(~task::remote_cancel_queued), std::memory_order_acq_rel);
    if (t->complete_when_drained_) {
      t->complete_when_drained_ = false;
      complete_task(*t);  // its run ended while the request waited
    } else if (!closed_.load(std::memory_order_relaxed)) {  // (shutting down: all end executor_closed)
      const bool unlaunched = t->state() == task_state::pending && t->run_node_.linked();
      cancel_task(*t);
      if (unlaunched) count_unlaunched();  // (in the remote queue still: drain_remote() counts it)
    }
  }
}

void executor::cancel_task(task& t) noexcept {
  const bool first = !t.cancel_requested_;
  t.cancel_requested_ = true;
  if (first) ++stats_.cancelled;
  switch (t.state()) {
    case task_state::pending:
      if (t.run_node_.linked()) {  // not linked: still in the remote queue
        runnable_[index(t.cpu_)].remove(t);
        t.outcome_ = failure(errno_error(ECANCELED));
        complete_task(t);
      }
      break;
    case task_state::runnable:
      t.wake_status_ = failure(errno_error(ECANCELED));
      break;
    case task_state::suspended_timer:
    case task_state::suspended_other:
      wake_task(t, failure(errno_error(ECANCELED)));
      break;
    case task_state::suspended_slot:
      leave_slot_queue(t);
      wake_task(t, failure(errno_error(ECANCELED)));
      break;
    case task_state::suspended_io:
      if (t.timer_node_.in_heap) timers_.remove(&t.timer_node_);
      cancel_all_io(t);
      break;
    default:  // running: noticed at its next suspension point; completing: draining
      break;
  }
}

// --- the run loop ----------------------------------------------------------------

result<std::size_t> executor::run(std::size_t max_items, std::chrono::nanoseconds timeout) noexcept {
  if (!on_bound_thread()) PRIO_TRY(bind_to_this_thread());
  if (closed_.load(std::memory_order_relaxed)) return failure(errc::executor_closed);
  if (tl_executor == this) return failure(errno_error(EDEADLK));  // run() from inside a task
  if (max_items == 0) return std::size_t{0};                       // up to none
  executor* const outer = tl_executor;
  tl_executor = this;
  cq_unseen_ = ring_ != nullptr;  // an enter through ring() since the last run()
  entered_inline_ = false;
  const tsc::ticks start = now_ = clock();
  run_started_ = start;
  const tsc::ticks deadline =
      timeout == forever ? UINT64_MAX
                         : start + tsc::from_duration(std::max(timeout, std::chrono::nanoseconds(0)));
  // inline_budget_ counts the items left: each launch or resume here and
  // each resume an inline wait makes (wait_inline()) spends one.
  inline_budget_ = max_items;
  const bool has_ring = ring_ != nullptr;
  bool need_enter = has_ring;  // completions may be waiting in the kernel
  bool timed_out = false;
  for (;;) {
    if (remote_.visibly_nonempty()) {
      drain_remote();
      if (inline_budget_ == 0) break;  // all spent on tasks cancelled before launch
    }
    if (cq_unseen_) {
      cq_unseen_ = cq_always_;
      if (reap_cqes() != 0) need_enter = true;
    }
    if (!timers_.empty()) fire_timers(now_);
    if (task* t = pop_runnable()) {
      --inline_budget_;
      run_task(*t);
      need_enter = has_ring;
      if (inline_budget_ == 0) break;
      // (Without a ring both counts stay 0.)
      if (now_ >= submit_due_ && (unsubmitted_ != 0 || in_flight_ != 0)) {
        submit_nonblocking(now_);  // busy CPU: I/O still moves
        publish_stats_if_due(now_);  // and a run() that does not return publishes
      }
      continue;
    }
    // Enter the kernel only for work of ours there: SQEs to submit or
    // operations whose (deferred) completions may be waiting. The eventfd
    // wake read needs no polling: it completes only while we sleep.
    // (An inline wait that entered and then suspended after all has
    // submitted and collected already: no second enter for the same work.)
    if (need_enter && (unsubmitted_ != 0 || (in_flight_ != 0 && !entered_inline_))) {
      const bool wait_next = inline_budget_ == max_items && spin_ticks_ == 0 && now_ < deadline &&
                             !wake_requested_.load(std::memory_order_relaxed);
      if (!wait_next) {
        submit_nonblocking(now_);
        need_enter = false;
        continue;
      }
      // Nothing done and a wait comes next: the wait's own enter submits
      // and collects as well, one system call instead of two.
    }
    if (inline_budget_ != max_items) break;  // done something
    if (wake_requested_.load(std::memory_order_relaxed) &&
        wake_requested_.exchange(false, std::memory_order_acq_rel))
      break;  // wake(): return instead of blocking
    const tsc::ticks now = now_ = clock();
    if (now >= deadline) {
      timed_out = true;
      break;
    }
    tsc::ticks until = deadline;
    if (!timers_.empty() && timers_.top_key() < until) until = timers_.top_key();
    if (spin_for_work(until)) {
      need_enter = has_ring;
      continue;
    }
    wait_for_events(until);
    need_enter = false;
  }
  if (has_ring && unsubmitted_ != 0) submit_nonblocking(now_);
  tl_executor = outer;
  const tsc::ticks end = clock();
  stats_.in_run += end - start;
  run_started_ = 0;
  publish_stats_if_due(end);
  if (timed_out) return failure(errno_error(ETIME));
  return max_items - inline_budget_;
}

bool executor::spin_for_work(tsc::ticks deadline) noexcept {
  if (spin_ticks_ == 0) return false;
  const tsc::ticks start = now_;
  const tsc::ticks until = std::min(deadline, start + spin_ticks_);
  // Poll what needs no syscall: the remote queue and the CQ ring.
  for (unsigned i = 0;; ++i) {
    if (remote_.visibly_nonempty()) break;
    if (wake_requested_.load(std::memory_order_relaxed)) break;
    if (ring_ && io_uring_cq_ready(ring_.get()) != 0) break;
    if ((i & 63) == 63) {
      now_ = clock();
      if (now_ >= until) return false;
    }
    cpu_relax();
  }
  now_ = clock();
  stats_.sleeping += now_ - start;
  return true;
}

void executor::wait_for_events(tsc::ticks deadline) noexcept {
  sleeping_.store(true, std::memory_order_seq_cst);
  if (remote_.maybe_nonempty() || wake_requested_.load(std::memory_order_seq_cst)) {
    sleeping_.store(false, std::memory_order_relaxed);
    return;
  }
  const tsc::ticks t0 = now_;  // read by run() just before
  publish_stats_at(t0);        // what a monitoring thread sees while we sleep
  const bool bounded = deadline != UINT64_MAX;
  const std::uint64_t ns = bounded && deadline > t0 ? tsc::to_ns(deadline - t0) : 0;
  if (ring_) {
    __kernel_timespec ts{static_cast<long long>(ns / 1000000000u), static_cast<long long>(ns % 1000000000u)};
    io_uring_cqe* cqe = nullptr;
    const std::size_t sqes = unsubmitted_;
    int r = io_uring_submit_and_wait_timeout(ring_.get(), &cqe, 1, bounded ? &ts : nullptr, nullptr);
    entered(sqes, r >= 0 || r == -ETIME || r == -EINTR);
  } else {
    pollfd p{wake_fd_, POLLIN, 0};
    timespec ts{static_cast<time_t>(ns / 1000000000u), static_cast<long>(ns % 1000000000u)};
    ::ppoll(&p, 1, bounded ? &ts : nullptr, nullptr);
    std::uint64_t v;
    if (::read(wake_fd_, &v, sizeof(v)) == sizeof(v)) {
      wake_pending_.store(false, std::memory_order_release);
      ++stats_.wakeups;
    }
    ++stats_.enters;
  }
  now_ = clock();
  entered_at(now_);
  stats_.sleeping += now_ - t0;
  sleeping_.store(false, std::memory_order_relaxed);
}

result<void> executor::publish_stats() noexcept {
  if (!bound_here_or_unbound()) return failure(errc::not_on_executor);
  publish_stats_at(clock());
  return success();
}

void executor::publish_stats_at(tsc::ticks now) noexcept {
  published_at_ = now;
  executor_stats s = stats();
  // Inside run(): its time so far counts, so a snapshot's in_tasks,
  // in_io_uring and sleeping (added as they happen) stay within in_run.
  if (run_started_ != 0 && now > run_started_) s.in_run += now - run_started_;
  published_.publish(s);
}

executor_stats executor::stats() const noexcept {
  executor_stats s = stats_;
  s.runnable = runnable_[0].size() + runnable_[1].size() + runnable_[2].size();
  s.io_in_flight = in_flight_;
  s.timers = timers_.size();
  s.tasks = live_.size();
  return s;
}

// --- shutdown ----------------------------------------------------------------------

void executor::shutdown() noexcept {
  closed_.store(true, std::memory_order_release);
  // Only the bound thread may touch a SINGLE_ISSUER ring; from elsewhere (the
  // bound thread is gone) closing the ring is what cancels its requests.
  const bool may_submit = bound_here_or_unbound();
  drain_remote();
  // Tasks that never launched complete with executor_closed.
  for (auto& q : runnable_) {
    q.for_each([&](task& t) {
      if (t.state() != task_state::pending) return;
      q.remove(t);
      t.outcome_ = failure(errc::executor_closed);
      complete_task(t);
    });
  }
  if (may_submit) drain_ring_for_shutdown();
  // Tasks stopped mid-body cannot be resumed any more: they are detached and
  // marked completed (executor_closed); their stacks were never unwound.
  std::size_t stranded = 0;
  while (task* t = live_.front()) {
    if (!release_task(*t)) {
      // Another thread's cancel request for t is queued here: take it out
      // first (its canceller may still be between the push's two steps).
      drain_remote();
      if (t->remote_cancel_.load(std::memory_order_acquire) & task::remote_cancel_queued)
        std::this_thread::yield();
      continue;  // t again, or gone: a run that had ended completes in the drain
    }
    if (t->complete_when_drained_) {  // its run had ended: a real outcome
      t->complete_when_drained_ = false;
      complete_task(*t);
      continue;
    }
    live_.remove(*t);
    ++stranded;
    if (t->run_node_.linked()) {
      if (t->state() == task_state::suspended_slot) {
        slot_waiters_[index(t->slot_level_)].remove(*t);
        --slot_waiting_;
      } else {
        runnable_[index(t->cpu_)].remove(*t);
      }
    }
    if (t->timer_node_.in_heap) timers_.remove(&t->timer_node_);
    t->awaited_io_ = nullptr;  // its frame is never resumed: the record may go away
    t->outcome_ = failure(errc::executor_closed);
    t->state_.store(task_state::completed, std::memory_order_release);
  }
  publish_stats_at(clock());  // the final counts
  if (stranded != 0)
    std::fprintf(stderr,
                 "prio: executor destroyed with %zu task(s) suspended mid-body; "
                 "their stacks were not unwound (executor::cancel_and_drain() ends them first)\n",
                 stranded);
}

}  // namespace prio
