// task.hpp: a reusable unit of work run by an executor.
//
// Creating a task is the expensive step (its context and stack). After that
// it is attached to an executor, launched, suspended, resumed and completed
// as often as wanted, each step cheap and allocation-free. A task runs on one
// executor at a time; between runs it may be attached to any executor.
//
// The body is user code: a function pointer plus user pointer, or a callable
// stored inline (no allocation). A stackful body returns result<int64_t>; a
// coroutine body (switcher_kind::coroutine only) returns co<result<int64_t>>.
//
// Threading: everything here except attach (executor::attach), cancel() and
// the const observers is called on the thread running the task's executor.
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "prio/context/context.hpp"
#include "prio/context/coro.hpp"
#include "prio/executors/io_status.hpp"
#include "prio/executors/priority.hpp"
#include "prio/runtime/clock.hpp"
#include "prio/runtime/intrusive.hpp"
#include "prio/runtime/pairing_heap.hpp"
#include "prio/runtime/result.hpp"

namespace prio {

class executor;
class task;

using task_fn = result<std::int64_t> (*)(task& t);
using coro_task_fn = co<result<std::int64_t>> (*)(task& t);

inline constexpr std::chrono::nanoseconds forever = std::chrono::nanoseconds::max();

enum class task_state : std::uint8_t {
  idle,            // never attached, or completed and collected
  pending,         // attached, waiting to launch
  runnable,        // launched, queued to resume
  running,         // on the CPU
  suspended_timer, // suspend_for / suspend_until
  suspended_io,    // waiting for I/O completions
  suspended_slot,  // waiting for a submission slot
  suspended_other, // waiting on something else (a buffer, a resource)
  completing,      // body returned; draining I/O still in flight
  completed,       // done: outcome() is valid; may be attached again
};
const char* to_string(task_state s) noexcept;

struct task_options {
  switcher_kind switcher = switcher_kind::asm_switch;
  priority cpu = priority::normal;
  priority io = priority::normal;
  std::size_t stack_size = 0;       // 0: the stack pool's default; else 16 KiB .. 1 GiB
  class stack_pool* pool = nullptr; // nullptr: stack_pool::default_pool()
};

// Tick stamps of one run of a task (reset at attach) and its totals.
// (Those every resume writes come first: they share a cache line with the
// rest of what a resume touches, task::wake_status_.)
struct task_times {
  tsc::ticks resumed = 0, suspended = 0;
  tsc::ticks executed = 0;       // ticks spent running this run
  std::uint64_t resumptions = 0; // times resumed after a suspension, this run
  tsc::ticks attached = 0, launched = 0, completed = 0;
};

class task {
 public:
  // create() makes a task and its context (expensive; allocates). Thread-safe.
  static result<std::unique_ptr<task>> create(const task_options& opts = {}) noexcept;
  ~task();
  task(const task&) = delete;
  task& operator=(const task&) = delete;

  // --- what it runs (only while not attached: set_body() on an attached
  // task is ignored, with a line on stderr; the body it runs stays) --------
  void set_body(task_fn fn, void* user_ptr = nullptr) noexcept;
  void set_body(coro_task_fn fn, void* user_ptr = nullptr) noexcept;
  // set_body(f) stores a callable f(task&) inline, constructed in place from
  // f (it is never moved again): it must fit in inline_capacity bytes
  // (checked at compile time).
  template <class F, class = std::enable_if_t<!std::is_convertible_v<F, task_fn> &&
                                              !std::is_convertible_v<F, coro_task_fn>>>
  void set_body(F&& f);
  void* user_ptr() const noexcept { return user_ptr_; }
  void set_user_ptr(void* p) noexcept { user_ptr_ = p; }

  // set_on_complete(): fn(t, arg) runs on the executor's thread right after
  // the task completes (it may re-attach the task). The completed state is
  // published first, so another thread may attach the task again before or
  // while fn runs: state() and run_id() may then be the new run's already,
  // but outcome(), exception() and times() stay the ended run's until fn
  // returns or attaches the task itself (a new run starts after fn).
  void set_on_complete(void (*fn)(task&, void*), void* arg) noexcept {
    on_complete_ = fn;
    on_complete_arg_ = arg;
  }

  // --- priorities (changeable at any time on the executor's thread) -------
  priority cpu_priority() const noexcept { return cpu_; }
  priority io_priority() const noexcept { return io_; }
  void set_cpu_priority(priority p) noexcept;
  void set_io_priority(priority p) noexcept { io_ = p; }

  // --- observers -------------------------------------------------------------
  switcher_kind switcher() const noexcept { return ctx_->kind(); }
  task_state state() const noexcept { return state_.load(std::memory_order_acquire); }
  bool is_coroutine_body() const noexcept { return body_kind_ == body::coro_fn || body_kind_ == body::coro_callable; }
  // can_wait_stackful(): the switcher suspends on a stack (sjlj, ucontext,
  // asm), so perform() and the other stackful waits can suspend; with none
  // or the coroutine switcher they give errc::cannot_suspend.
  bool can_wait_stackful() const noexcept { return stack_switcher_; }
  // outcome() is what the last completed run returned (ECANCELED if it was
  // cancelled before launch, errc::task_exception if its body threw).
  const result<std::int64_t>& outcome() const noexcept { return outcome_; }
  // exception() is the exception that escaped the last run's body, if any.
  std::exception_ptr exception() const noexcept { return exception_; }
  executor* current_executor() const noexcept { return ex_; }
  const task_times& times() const noexcept { return times_; }
  const context& ctx() const noexcept { return *ctx_; }
  std::uint64_t id() const noexcept { return id_; }
  std::size_t io_in_flight() const noexcept { return in_flight_.size() + (awaited_reap_on_wake() != nullptr); }

  // --- suspension points, stackful bodies (call from inside the body) -------
  // yield() lets every other runnable task of this or a higher priority run.
  result<void> yield() noexcept;
  result<void> suspend_for(std::chrono::nanoseconds d) noexcept;
  result<void> suspend_until(tsc::ticks deadline) noexcept;
  // suspend_until_completed_io() returns the next completed I/O of this task
  // (completion order), suspending until one completes or timeout passes
  // (ETIME). Returns nullptr at once when none is in flight or completed.
  // (Two overloads, not a default argument: GCC copies a defaulted `forever`
  // out of memory at every call site, one more cache line on the I/O loop.)
  result<io_status*> suspend_until_completed_io(std::chrono::nanoseconds timeout) noexcept;
  result<io_status*> suspend_until_completed_io() noexcept {
    return suspend_until_completed_io(std::chrono::nanoseconds::max());
  }

  // --- the same, for coroutine bodies: co_await t.async_yield() -------------
  class awaiter;
  class io_awaiter;
  awaiter async_yield() noexcept;
  awaiter async_suspend_for(std::chrono::nanoseconds d) noexcept;
  awaiter async_suspend_until(tsc::ticks deadline) noexcept;
  io_awaiter async_completed_io(std::chrono::nanoseconds timeout = forever) noexcept;

  // --- cancellation ------------------------------------------------------------
  // cancel() asks the task's current run to stop. Pending: it completes
  // without running, outcome ECANCELED. Otherwise every wait it is in or
  // enters returns ECANCELED from then until it completes; I/O in flight is
  // cancelled and drained first. Closing sockets and files still works, so
  // the body's cleanup releases them. A body that computes sees the cancel
  // at its next yield() (ECANCELED). Error EINVAL if not attached (never,
  // or completed: too late).
  // On the executor's thread this happens before cancel() returns. From any
  // other thread the request is queued to the executor (no allocation; the
  // executor is woken if it sleeps) and takes effect at its next turn; a
  // run that ends first drops it. The task's executor must not be destroyed
  // while cancel() runs.
  result<void> cancel() noexcept;
  // cancel(run) cancels only run number `run` (run_id() read when it was
  // attached): EINVAL once that run has ended, even if the task is running
  // again. For a reused task cancelled from another thread (a timeout that
  // fires as the request completes and the task takes the next one), this
  // is the call that cannot cancel the wrong request.
  result<void> cancel(std::uint64_t run) noexcept;
  // run_id() numbers the task's runs: 0 before its first attach, then one
  // more at every attach (the current run while attached, else the last).
  // Any thread.
  std::uint64_t run_id() const noexcept { return run_id_.load(std::memory_order_acquire); }
  // cancel_requested(): this run was cancelled (executor's thread; a cancel
  // from another thread shows once the executor has taken it in, at the
  // task's next wait or yield).
  bool cancel_requested() const noexcept { return cancel_requested_; }

  static constexpr std::size_t inline_capacity = 48;

  // Internal: the generic wait used by suspension points of every layer.
  // wait_stackful() suspends a stackful task in state s until woken (with
  // the status it was woken with); a deadline of 0 means none. Inline: the
  // switch back into the task lands in the frame that waits, so no return
  // follows it (a return right after a stack switch is always mispredicted).
  // A plain I/O wait of a running stackful task needs only the state;
  // begin_wait_stackful() checks and registers every other wait.
  result<void> wait_stackful(task_state s, tsc::ticks deadline) noexcept {
    if (plain_io_wait(s, deadline) && stack_switcher_ && state() == task_state::running) [[likely]] {
      state_.store(s, std::memory_order_relaxed);
      if (wait_inline()) return end_wait();
    } else if (const wait_refusal w = begin_wait_stackful(s, deadline); w != wait_refusal::none)
      return refused(w);
    if (auto r = ctx_->suspend(); !r) [[unlikely]]
      return r;
    return end_wait();
  }
  // For coroutine awaitables: prepare the wait after the handle was stored
  // (a plain I/O wait needs only the state). Returns whether the coroutine
  // suspends (await_suspend's bool): false when a plain I/O wait was
  // completed inline (executor::wait_inline) and the task goes on.
  bool begin_wait(task_state s, tsc::ticks deadline, std::coroutine_handle<> h) noexcept {
    static_cast<coro_context&>(*ctx_).set_current(h);
    if (plain_io_wait(s, deadline)) [[likely]] {
      state_.store(s, std::memory_order_relaxed);
      return !wait_inline();
    }
    register_wait(s, deadline);
    return true;
  }
  result<void> end_wait() noexcept { return std::exchange(wake_status_, {}); }
  // set_awaited_io(): the operation an await-one wait is for (nullptr: none).
  void set_awaited_io(io_status* st) noexcept { awaited_io_ = st; }

 private:
  friend class executor;
  enum class body : std::uint8_t { none, fn, coro_fn, callable, coro_callable };

  explicit task(std::unique_ptr<context> ctx, const task_options& opts) noexcept;
  static void stackful_entry(void* self);
  // begin_wait_stackful() checks that the task may suspend now and, if so,
  // registers the wait with its executor (none); refused() is the error of
  // a refusal. An enum, not an error_code: a default std::error_code is an
  // out-of-line call, and this runs on every wait.
  enum class wait_refusal : std::uint8_t { none, cannot_suspend, cancelled };
  wait_refusal begin_wait_stackful(task_state s, tsc::ticks deadline) noexcept;
  static result<void> refused(wait_refusal w) noexcept;
  // run_any: cancel_off_thread()'s "whichever run is current".
  static constexpr std::uint64_t run_any = ~std::uint64_t{0};
  result<void> cancel_off_thread(std::uint64_t run) noexcept;
  void register_wait(task_state s, tsc::ticks deadline) noexcept;  // ex_->start_wait()
  // wait_inline(): executor::wait_inline(*this) when nothing else is
  // runnable (an inline check first: with other tasks queued, the common
  // case under load, it costs a few loads of lines the loop keeps hot).
  // Defined in executor_inl.hpp.
  inline bool wait_inline() noexcept;
  // plain_io_wait(): a wait for the task's own I/O, with no deadline, in a
  // task nobody cancelled. executor::start_wait() would only store the
  // state for it, so the suspension points do that themselves.
  bool plain_io_wait(task_state s, tsc::ticks deadline) const noexcept {
    return s == task_state::suspended_io && deadline == 0 && !cancel_requested_;
  }
  // awaited_reap_on_wake() is the awaited operation while it is in flight
  // and on no list (io_status::reap_on_wake), or nullptr.
  io_status* awaited_reap_on_wake() const noexcept {
    io_status* a = awaited_io_;
    return a && a->state == io_state::in_flight && !a->node.linked() ? a : nullptr;
  }
  static void coroutine_entry(void* self);
  static co<void> coroutine_root(task& t);
  result<std::int64_t> run_stackful_body();
  co<result<std::int64_t>> make_coroutine_body();
  void reset_body() noexcept;
  bool body_locked() const noexcept;  // attached: set_body() says so and does nothing
  // set_executor(): ex_ changes on a claim (the attaching thread) and on
  // completion (the executor's thread), and cancel() reads it from whatever
  // thread calls it, to refuse a call off the executor's thread. Those
  // accesses are atomic (plain moves on x86-64 and AArch64); the executor's
  // own reads of an attached task's ex_ stay plain.
  void set_executor(executor* ex) noexcept { std::atomic_ref<executor*>(ex_).store(ex, std::memory_order_release); }

  // reset_run() clears what one run of the task leaves behind (executor's
  // thread, before the run starts); `attached` is the new run's stamp.
  void reset_run(tsc::ticks attached) noexcept {
    outcome_ = std::int64_t{0};
    exception_ = nullptr;
    wake_status_ = success();
    times_ = task_times{};
    times_.attached = attached;
  }

  // Laid out by cache line. An I/O round trip (submit, suspend, complete,
  // resume) touches lines 0 and 1 of its task and nothing else of it: with
  // 64 tasks in flight, whatever else it touched would be a miss each time.
  // Line 0: what an attach from another thread writes (the executor's
  // thread then fetches one line back, not four), what every resume reads,
  // and the run queue link.
  alignas(64) mpsc_node remote_node_; // cross-thread attach queue
  executor* ex_ = nullptr;
  std::atomic<task_state> state_{task_state::idle};
  priority cpu_;
  priority io_;
  priority slot_level_ = priority::normal;  // the slot queue it waits in
  body body_kind_ = body::none;
  bool cancel_requested_ = false;
  bool waiting_any_io_ = false;     // suspend_until_completed_io in progress
  bool coro_switcher_ = false;      // ctx_ is the coroutine switcher
  bool stack_switcher_ = false;     // ctx_ suspends on a stack (sjlj, ucontext, asm)
  task_state claimed_from_ = task_state::idle;  // state before the last attach
  // Cancellation from other threads (cancel_off_thread()): a request lock
  // and "a request sits in the executor's queue". Read by every completion
  // (executor::release_task()), so it lives here, in line 0's padding.
  std::atomic<std::uint8_t> remote_cancel_{0};
  static constexpr std::uint8_t remote_cancel_busy = 1, remote_cancel_queued = 2;
  // lock_cancel_requests() takes that lock (remote_cancel_busy; held for a
  // few stores), unlock_cancel_requests() releases it.
  void lock_cancel_requests() noexcept;
  void unlock_cancel_requests() noexcept {
    remote_cancel_.fetch_and(static_cast<std::uint8_t>(~remote_cancel_busy), std::memory_order_release);
  }
  std::uint32_t pending_cancels_ = 0;
  std::unique_ptr<context> ctx_;
  io_status* awaited_io_ = nullptr; // the one awaited by an await-one op
  list_node run_node_;    // runnable / pending queue, or slot wait queue
  // Line 1: a wait's outcome and the stamps of each slice.
  result<void> wake_status_{};
  task_times times_{};
  tsc::ticks attach_stamp_ = 0;     // attach()'s clock read, for times_.attached
  std::atomic<std::uint64_t> run_id_{0};  // run_id(): one more at every claim
  // attach_gen_: the executor's cancel_all() generation when attach() took
  // the task; a cancel_all() reaches only the runs attached before it.
  std::uint64_t attach_gen_ = 0;

  // Links (each used by one container at a time).
  list_node live_node_;   // the executor's list of attached tasks
  mpsc_node cancel_node_; // the executor's queue of cancel requests from other threads
  // The run ended while a cancel request was queued: complete_task() waits
  // for the executor to take the request out of its queue first.
  bool complete_when_drained_ = false;
  heap_node timer_node_;  // executor timer heap
  intrusive_list<io_status, &io_status::node> in_flight_;
  intrusive_list<io_status, &io_status::node> completed_;

  union {
    task_fn fn;
    coro_task_fn coro_fn;
  } fn_{};
  void* user_ptr_ = nullptr;
  alignas(std::max_align_t) unsigned char callable_[inline_capacity];
  std::optional<co<result<std::int64_t>>> coro_body_;  // kept until I/O drained
  result<std::int64_t> (*callable_invoke_)(void*, task&) = nullptr;
  co<result<std::int64_t>> (*callable_coro_invoke_)(void*, task&) = nullptr;
  void (*callable_destroy_)(void*) noexcept = nullptr;

  void (*on_complete_)(task&, void*) = nullptr;
  void* on_complete_arg_ = nullptr;

  // A submission to a work_dispatcher (work_dispatcher.cpp): where it
  // waits in the queue (under the dispatcher's lock) and how far it got
  // (queued, taken by a worker, running as run number N; cancel mark).
  friend class work_dispatcher;
  std::atomic<class work_dispatcher*> dispatcher_{nullptr};
  std::atomic<std::uint64_t> dispatch_word_{0};
  std::atomic<std::uint64_t> submit_seq_{0};  // numbers the submissions (under the lock)
  std::uint64_t queue_pos_ = 0;
  int queue_level_ = 0;
  // finish_unlaunched(): a submission withdrawn before any executor took it
  // ends with outcome e, as a completed run (its hook is the caller's).
  void finish_unlaunched(std::error_code e) noexcept;

  // An operation waiting for a submission slot: its SQE, prepared already.
  alignas(64) unsigned char deferred_sqe_[64];
  io_status* deferred_st_ = nullptr;
  std::chrono::nanoseconds deferred_timeout_{};

  result<std::int64_t> outcome_{0};
  std::exception_ptr exception_;
  std::uint64_t id_;
};

template <class F, class>
void task::set_body(F&& f) {
  using D = std::decay_t<F>;
  static_assert(sizeof(D) <= inline_capacity, "callable too large to store inline in a task");
  static_assert(alignof(D) <= alignof(std::max_align_t), "callable over-aligned");
  using R = std::invoke_result_t<D&, task&>;
  if (body_locked()) return;
  reset_body();
  ::new (static_cast<void*>(callable_)) D(std::forward<F>(f));
  callable_destroy_ = [](void* p) noexcept { static_cast<D*>(p)->~D(); };
  if constexpr (std::is_same_v<R, co<result<std::int64_t>>>) {
    callable_coro_invoke_ = [](void* p, task& t) { return (*static_cast<D*>(p))(t); };
    body_kind_ = body::coro_callable;
  } else {
    static_assert(std::is_convertible_v<R, result<std::int64_t>>,
                  "a task body returns result<int64_t> or co<result<int64_t>>");
    callable_invoke_ = [](void* p, task& t) -> result<std::int64_t> {
      return (*static_cast<D*>(p))(t);
    };
    body_kind_ = body::callable;
  }
}

// task::awaiter: co_await on yield / suspend_for / suspend_until.
class task::awaiter {
 public:
  awaiter(task& t, task_state s, tsc::ticks deadline) noexcept : t_(t), s_(s), deadline_(deadline) {}
  bool await_ready() const noexcept { return t_.cancel_requested_; }
  bool await_suspend(std::coroutine_handle<> h) noexcept { return t_.begin_wait(s_, deadline_, h); }
  result<void> await_resume() noexcept {
    if (t_.cancel_requested_ && t_.wake_status_) return failure(errno_error(ECANCELED));
    return t_.end_wait();
  }

 private:
  task& t_;
  task_state s_;
  tsc::ticks deadline_;
};

// task::io_awaiter: co_await t.async_completed_io(timeout).
class task::io_awaiter {
 public:
  io_awaiter(task& t, tsc::ticks deadline) noexcept : t_(t), deadline_(deadline) {}
  bool await_ready() noexcept;
  bool await_suspend(std::coroutine_handle<> h) noexcept;
  result<io_status*> await_resume() noexcept;

 private:
  task& t_;
  tsc::ticks deadline_;
  bool ready_now_ = false;
};

}  // namespace prio
