// task.cpp: task creation, bodies and the suspension points.
#include "prio/executors/task.hpp"

#include <cstdio>
#include <cstdlib>

#include "prio/context/stack_pool.hpp"
#include "prio/executors/executor.hpp"
#include "prio/executors/registry.hpp"
#include "prio/runtime/spin.hpp"

namespace prio {

namespace {
std::atomic<std::uint64_t> g_next_task_id{1};

tsc::ticks deadline_after(std::chrono::nanoseconds d) noexcept {
  if (d == forever) return 0;
  return tsc::now() + tsc::from_duration(d) + 1;  // +1: a deadline of 0 means "none"
}
}  // namespace

const char* to_string(task_state s) noexcept {
  switch (s) {
    case task_state::idle: return "idle";
    case task_state::pending: return "pending";
    case task_state::runnable: return "runnable";
    case task_state::running: return "running";
    case task_state::suspended_timer: return "suspended_timer";
    case task_state::suspended_io: return "suspended_io";
    case task_state::suspended_slot: return "suspended_slot";
    case task_state::suspended_other: return "suspended_other";
    case task_state::completing: return "completing";
    case task_state::completed: return "completed";
  }
  return "?";
}

task::task(std::unique_ptr<context> ctx, const task_options& opts) noexcept
    : cpu_(opts.cpu),
      io_(opts.io),
      coro_switcher_(ctx->kind() == switcher_kind::coroutine),
      stack_switcher_(ctx->kind() != switcher_kind::coroutine && ctx->kind() != switcher_kind::none),
      ctx_(std::move(ctx)),
      id_(g_next_task_id.fetch_add(1)) {}

result<std::unique_ptr<task>> task::create(const task_options& opts) noexcept {
  if (index(opts.cpu) >= priority_count || index(opts.io) >= priority_count)
    return failure(errno_error(EINVAL));
  context_options co{opts.stack_size, opts.pool};
  auto ctx = make_context(opts.switcher, co);
  if (!ctx) return failure(ctx.error());
  std::unique_ptr<task> t(new (std::nothrow) task(std::move(*ctx), opts));
  if (!t) return failure(errno_error(ENOMEM));
  // Debugger registry (issue 7): where GDB finds this task's live fields.
  debug::add_task(t.get(), t->id_, *t->ctx_,
                  {&t->state_, &t->ex_, &t->cpu_, &t->io_, &t->body_kind_, &t->fn_,
                   &t->callable_invoke_, &t->callable_coro_invoke_, &t->times_.executed,
                   &t->times_.resumptions, &t->coro_body_, &t->cancel_requested_});
  return t;
}

task::~task() {
  const task_state s = state();
  if (s != task_state::idle && s != task_state::completed) {
    std::fprintf(stderr,
                 "prio: task %llu destroyed while attached (state %s); "
                 "cancel it and wait for completion first\n",
                 static_cast<unsigned long long>(id_), to_string(s));
    std::abort();
  }
  debug::remove_task(this);
  reset_body();
}

void task::reset_body() noexcept {
  if (callable_destroy_) callable_destroy_(callable_);
  callable_destroy_ = nullptr;
  callable_invoke_ = nullptr;
  callable_coro_invoke_ = nullptr;
  body_kind_ = body::none;
}

bool task::body_locked() const noexcept {
  const task_state s = state();
  if (s == task_state::idle || s == task_state::completed) return false;
  std::fprintf(stderr,
               "prio: task %llu: set_body() while attached (state %s) ignored; "
               "the body it runs stays\n",
               static_cast<unsigned long long>(id_), to_string(s));
  return true;
}

void task::set_body(task_fn fn, void* user_ptr) noexcept {
  if (body_locked()) return;
  reset_body();
  fn_.fn = fn;
  user_ptr_ = user_ptr;
  body_kind_ = fn ? body::fn : body::none;
}

void task::set_body(coro_task_fn fn, void* user_ptr) noexcept {
  if (body_locked()) return;
  reset_body();
  fn_.coro_fn = fn;
  user_ptr_ = user_ptr;
  body_kind_ = fn ? body::coro_fn : body::none;
}

void task::set_cpu_priority(priority p) noexcept {
  if (p == cpu_) return;
  const priority old = cpu_;
  cpu_ = p;
  // A queued task moves to its new level (at the back: FIFO within a level).
  if (ex_ && run_node_.linked()) {
    const task_state s = state();
    if (s == task_state::pending || s == task_state::runnable) ex_->requeue(*this, old);
  }
}

result<std::int64_t> task::run_stackful_body() {
  if (body_kind_ == body::fn) return fn_.fn(*this);
  return callable_invoke_(callable_, *this);
}

co<result<std::int64_t>> task::make_coroutine_body() {
  if (body_kind_ == body::coro_fn) return fn_.coro_fn(*this);
  return callable_coro_invoke_(callable_, *this);
}

void task::stackful_entry(void* self) {
  task& t = *static_cast<task*>(self);
  t.outcome_ = t.run_stackful_body();
}

co<void> task::coroutine_root(task& t) {
  t.outcome_ = co_await std::move(*t.coro_body_);
}

void task::coroutine_entry(void* self) {
  task& t = *static_cast<task*>(self);
  t.coro_body_.emplace(t.make_coroutine_body());
  static_cast<coro_context&>(*t.ctx_).set_root(coroutine_root(t));
}

// --- suspension points -------------------------------------------------------

task::wait_refusal task::begin_wait_stackful(task_state s, tsc::ticks deadline) noexcept {
  const switcher_kind k = ctx_->kind();
  if (k == switcher_kind::none || k == switcher_kind::coroutine) return wait_refusal::cannot_suspend;
  if (!ex_ || state() != task_state::running) return wait_refusal::cannot_suspend;
  // A cancelled task does not wait any more, except for an operation of its
  // own still in flight: that wait lasts until the operation (cancelled by
  // the executor) has delivered its last CQE, so its io_status may go away.
  const bool draining = s == task_state::suspended_io && awaited_io_ && !awaited_io_->done();
  if (cancel_requested_ && !draining) return wait_refusal::cancelled;
  ex_->start_wait(*this, s, deadline);
  return wait_refusal::none;
}

result<void> task::refused(wait_refusal w) noexcept {
  if (w == wait_refusal::cancelled) return failure(errno_error(ECANCELED));
  return failure(errc::cannot_suspend);
}

void task::register_wait(task_state s, tsc::ticks deadline) noexcept { ex_->start_wait(*this, s, deadline); }

result<void> task::yield() noexcept { return wait_stackful(task_state::runnable, 0); }

result<void> task::suspend_for(std::chrono::nanoseconds d) noexcept {
  return wait_stackful(task_state::suspended_timer, deadline_after(d < std::chrono::nanoseconds(0) ? std::chrono::nanoseconds(0) : d));
}

result<void> task::suspend_until(tsc::ticks deadline) noexcept {
  return wait_stackful(task_state::suspended_timer, deadline == 0 ? 1 : deadline);
}

task::awaiter task::async_yield() noexcept { return {*this, task_state::runnable, 0}; }
task::awaiter task::async_suspend_for(std::chrono::nanoseconds d) noexcept {
  return {*this, task_state::suspended_timer,
          deadline_after(d < std::chrono::nanoseconds(0) ? std::chrono::nanoseconds(0) : d)};
}
task::awaiter task::async_suspend_until(tsc::ticks deadline) noexcept {
  return {*this, task_state::suspended_timer, deadline == 0 ? 1 : deadline};
}

namespace {
// take_completed() pops the oldest completed I/O of a task and marks it reaped.
io_status* take_completed(intrusive_list<io_status, &io_status::node>& done, executor* ex) noexcept {
  io_status* st = done.pop_front();
  if (st) {
    st->state = io_state::reaped;
    st->reaped = ex ? ex->now() : tsc::now();
  }
  return st;
}
}  // namespace

result<io_status*> task::suspend_until_completed_io(std::chrono::nanoseconds timeout) noexcept {
  if (!completed_.empty()) return take_completed(completed_, ex_);
  if (in_flight_.empty()) return static_cast<io_status*>(nullptr);
  if (cancel_requested_) return failure(errno_error(ECANCELED));
  if (timeout <= std::chrono::nanoseconds(0)) return failure(errno_error(ETIME));
  waiting_any_io_ = true;
  auto w = wait_stackful(task_state::suspended_io, deadline_after(timeout));
  waiting_any_io_ = false;
  if (!w) return failure(w.error());
  return take_completed(completed_, ex_);
}

task::io_awaiter task::async_completed_io(std::chrono::nanoseconds timeout) noexcept {
  return {*this, timeout <= std::chrono::nanoseconds(0) ? tsc::ticks(1) : deadline_after(timeout)};
}

bool task::io_awaiter::await_ready() noexcept {
  ready_now_ = true;
  if (!t_.completed_.empty() || t_.in_flight_.empty() || t_.cancel_requested_) return true;
  if (deadline_ == 1) return true;  // a zero timeout polls
  ready_now_ = false;
  return false;
}

bool task::io_awaiter::await_suspend(std::coroutine_handle<> h) noexcept {
  t_.waiting_any_io_ = true;
  return t_.begin_wait(task_state::suspended_io, deadline_, h);
}

result<io_status*> task::io_awaiter::await_resume() noexcept {
  if (ready_now_) {
    if (!t_.completed_.empty()) return take_completed(t_.completed_, t_.ex_);
    if (t_.in_flight_.empty()) return static_cast<io_status*>(nullptr);
    if (t_.cancel_requested_) return failure(errno_error(ECANCELED));
    return failure(errno_error(ETIME));
  }
  t_.waiting_any_io_ = false;
  auto w = t_.end_wait();
  if (!w) return failure(w.error());
  return take_completed(t_.completed_, t_.ex_);
}

void task::finish_unlaunched(std::error_code e) noexcept {
  outcome_ = failure(e);
  exception_ = nullptr;
  times_ = task_times{};
  state_.store(task_state::completed, std::memory_order_release);
}

result<void> task::cancel() noexcept { return cancel(run_any); }

result<void> task::cancel(std::uint64_t run) noexcept {
  // Atomic: off the executor's thread this races with attach and completion.
  executor* const ex = std::atomic_ref<executor*>(ex_).load(std::memory_order_acquire);
  if (ex && ex->on_bound_thread()) {
    if (run != run_any && run != run_id_.load(std::memory_order_relaxed)) return failure(errno_error(EINVAL));
    ex->cancel_task(*this);
    return success();
  }
  return cancel_off_thread(run);
}

// cancel_off_thread(): under the task's request lock (remote_cancel_busy),
// read which executor runs the task and queue one request there. The
// executor's completion of a run detaches the task (ex_ = nullptr) and then
// checks the lock word (executor::release_task()); this side sets the lock
// and then reads ex_. With a full fence between each pair (on the
// completion side a compiler barrier until the executor's first
// cross-thread cancel, executor::order_with_completions()) one of the two
// sees the other: either
// this sees the run ended (EINVAL, nothing queued), or the executor sees
// the lock, waits for it and, finding a request queued, keeps the task
// until it has taken the request out. So a request never outlives its run,
// and while the lock is held the run that ex_ names cannot end.
void task::lock_cancel_requests() noexcept {
  std::uint8_t x = remote_cancel_.load(std::memory_order_relaxed);
  for (unsigned spins = 0;;) {
    if (!(x & remote_cancel_busy)) {
      if (remote_cancel_.compare_exchange_weak(x, x | remote_cancel_busy, std::memory_order_acquire,
                                               std::memory_order_relaxed))
        return;
      continue;
    }
    spin_backoff(spins);
    x = remote_cancel_.load(std::memory_order_relaxed);
  }
}

result<void> task::cancel_off_thread(std::uint64_t run) noexcept {
  lock_cancel_requests();
  // Order the lock before the read of ex_ with the completions of the
  // executor it names (each executor says how: a fence or a membarrier);
  // if the run ended and the task moved on meanwhile, with the new one too.
  executor* ex = std::atomic_ref<executor*>(ex_).load(std::memory_order_acquire);
  while (ex) {
    ex->order_with_completions();
    executor* const now = std::atomic_ref<executor*>(ex_).load(std::memory_order_acquire);
    if (now == ex) break;
    ex = now;
  }
  result<void> r = success();
  // With ex_ set, the run cannot end while the lock is held (the executor
  // waits for it), so run_id_ is that run's. (A claim numbers the run
  // before it sets ex_.)
  if (!ex || (run != run_any && run != run_id_.load(std::memory_order_acquire))) {
    r = failure(errno_error(EINVAL));  // not attached, or the run has ended
  } else if (!(remote_cancel_.load(std::memory_order_acquire) & remote_cancel_queued)) {
    // (Queued already: the executor acts on that request after unqueuing it.)
    remote_cancel_.fetch_or(remote_cancel_queued, std::memory_order_relaxed);
    ex->post_cancel(*this);
  }
  unlock_cancel_requests();
  return r;
}

}  // namespace prio
