// work_dispatcher.hpp: hands submitted tasks to executors on pool threads,
// highest CPU priority first.
//
// Any thread submits tasks; each pool thread runs a dispatch_worker (an
// executor plus the dispatcher's loop). A worker that runs out of local work
// takes the highest-priority waiting task (FIFO within a level). An idle
// worker spins for spin_before_sleep, then sleeps inside its executor (so its
// own I/O and timers still wake it); a submission hands one task straight to
// one sleeper (one submission, one wake-up: no thundering herd).
//
//   auto wd = *work_dispatcher::create({});
//   // on each pool thread:
//   auto w = *dispatch_worker::create(*wd, executor_options{});
//   while (w->run()) {}            // errc::executor_closed once told to quit
//   // anywhere:
//   wd->submit(tasks);  wd->wait(0, 0);  wd->quit();  wd->close();
//
// While a task is submitted (until its on_complete has run) the dispatcher
// owns the task's on_complete hook; work_dispatcher_options::on_complete is
// called for every submitted task instead.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <thread>
#include <vector>

#include "prio/executors/executor.hpp"
#include "prio/executors/task.hpp"
#include "prio/runtime/result.hpp"
#include "prio/runtime/spin.hpp"

namespace prio {

class dispatch_worker;

namespace detail {
// spinlock: test-and-test-and-set with pause, yielding when the holder seems
// preempted. Held only for a few pointer moves.
class spinlock {
 public:
  void lock() noexcept {
    for (unsigned spins = 0; locked_.exchange(true, std::memory_order_acquire);) {
      while (locked_.load(std::memory_order_relaxed)) spin_backoff(spins);
    }
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

// deadline_after() is now + timeout on the steady clock, saturating:
// forever (or anything beyond a century) is time_point::max().
inline std::chrono::steady_clock::time_point deadline_after(std::chrono::nanoseconds timeout) noexcept {
  using namespace std::chrono;
  if (timeout >= duration_cast<nanoseconds>(hours(24 * 365 * 100))) return steady_clock::time_point::max();
  return steady_clock::now() + std::max(timeout, nanoseconds(0));
}

// task_fifo: a growable ring of task pointers (grows by doubling; steady state
// allocates nothing). Guarded by the dispatcher's lock. Every push has a
// position that stays valid while the task waits (growing keeps them), so a
// withdrawn task leaves a hole in O(1); pops skip holes.
class task_fifo {
 public:
  std::size_t size() const noexcept { return tail_ - head_ - holes_; }
  // reserve() makes room for n more pushes; false: out of memory.
  bool reserve(std::size_t n) noexcept;
  // push() returns t's position (after reserve()).
  std::uint64_t push(task* t) noexcept {
    slots_[tail_ & mask_] = t;
    return tail_++;
  }
  task* pop() noexcept;  // size() != 0
  // remove() takes t out if it waits at position pos; false if not.
  bool remove(task* t, std::uint64_t pos) noexcept;
  // front() is the first task waiting (size() != 0); end() the position the
  // next push gets.
  task* front() const noexcept { return slots_[head_ & mask_]; }
  std::uint64_t end() const noexcept { return tail_; }
  // for_each(f) calls f(t) for every task waiting, first to last.
  template <class F>
  void for_each(F f) const {
    for (std::uint64_t i = head_; i != tail_; ++i)
      if (task* t = slots_[i & mask_]) f(*t);
  }

 private:
  void trim() noexcept;  // drops holes at either end
  std::unique_ptr<task*[]> slots_;
  std::uint64_t mask_ = 0, head_ = 0, tail_ = 0;
  std::size_t holes_ = 0;  // withdrawn tasks between head_ and tail_
};
}  // namespace detail

struct work_dispatcher_options {
  // How long an idle worker polls for work before sleeping in the kernel.
  std::chrono::microseconds spin_before_sleep{50};
  // on_complete(t, arg) runs on the worker's thread after each submitted task
  // completes; it may submit t again.
  void (*on_complete)(task& t, void* arg) = nullptr;
  void* on_complete_arg = nullptr;
};

struct work_dispatcher_stats {
  std::size_t undispatched = 0;  // submitted, not yet taken by an executor (held ones included)
  std::size_t held = 0;          // of which a pool holds back in its backlog (pool.hpp)
  std::size_t unexecuted = 0;    // submitted, not yet completed (includes the above)
  std::size_t executors = 0;     // registered workers
  std::size_t sleeping = 0;      // of which asleep
  std::uint64_t submitted = 0, executed = 0, handoffs = 0, quit = 0;
  std::uint64_t cancelled = 0;   // cancel() calls that withdrew or cancelled a submission
  std::uint64_t sleeps = 0;      // times a worker went to sleep
};

class work_dispatcher {
 public:
  static result<std::unique_ptr<work_dispatcher>> create(const work_dispatcher_options& o = {}) noexcept;
  // ~work_dispatcher(): see close(). If close() would fail, the reason is
  // reported on stderr; with workers still registered it aborts (they would
  // use freed memory). Queued tasks are dropped (their hook is cleared).
  ~work_dispatcher();
  work_dispatcher(const work_dispatcher&) = delete;
  work_dispatcher& operator=(const work_dispatcher&) = delete;

  // channel: a completion hook for a group of submissions (e.g. a pool's own
  // pooled tasks), used instead of the options' hook. It must outlive the
  // tasks submitted through it; wd must be this dispatcher.
  struct channel {
    work_dispatcher* wd = nullptr;
    void (*on_complete)(task& t, void* arg) = nullptr;
    void* arg = nullptr;
  };

  // submit() queues tasks by CPU priority. Any thread. All or nothing:
  // errc::task_busy if one is attached or submitted already (to any
  // dispatcher, until its completion hook runs), EINVAL for a null pointer
  // or another dispatcher's channel, errc::executor_closed after close(),
  // ENOMEM. (A task listed twice in one call is a programming error.)
  result<void> submit(std::span<task* const> tasks) noexcept { return submit(tasks, default_channel_); }
  result<void> submit(std::span<task* const> tasks, const channel& ch) noexcept {
    return submit_tasks(tasks, ch, nullptr);
  }
  result<void> submit(task& t, const channel* ch = nullptr) noexcept {
    task* p = &t;
    return submit(std::span<task* const>(&p, 1), ch ? *ch : default_channel_);
  }
  // submit_numbered() is submit(t) returning the submission's number (from
  // 1, counted per task), which cancel(t, number) takes: a handle that
  // stays exact when t is reused, so a late cancel (a timeout firing after
  // the job ended) never reaches t's next job.
  result<std::uint64_t> submit_numbered(task& t, const channel* ch = nullptr) noexcept;

  // cancel() withdraws or cancels t's submission to this dispatcher. Any
  // thread. Still queued: t leaves the queue and completes at once without
  // running (outcome ECANCELED; its completion hook runs on this thread).
  // Taken by a worker: that run is cancelled as task::cancel(run) does (its
  // waits return ECANCELED from the worker's next turn; one not launched yet
  // ends without running). EINVAL if t is not submitted here (never, or
  // that submission has completed: too late). A later submission of t is
  // never affected.
  result<void> cancel(task& t) noexcept { return cancel_submission(t, 0); }
  // cancel(t, submission) is cancel(t) for the submission submit_numbered()
  // numbered only: EINVAL once that one has completed, t submitted again or
  // not.
  result<void> cancel(task& t, std::uint64_t submission) noexcept {
    if (submission == 0) return failure(errno_error(EINVAL));  // numbers start at 1
    return cancel_submission(t, submission);
  }

  // cancel_all() cancels every submission whose submit() returned before
  // the call: those still queued complete at once without running
  // (ECANCELED; their hooks run on this thread), one a worker has taken is
  // cancelled when it is attached, and every registered worker's executor
  // cancels, at its next turn, every task attached there before this call
  // (executor::cancel_all(): those submissions' runs and any task they
  // attached). Submissions made afterwards run as usual. Returns how many left
  // the queue unrun here; ENOMEM (nothing done) if the list of workers to
  // ask cannot be allocated. Any thread.
  result<std::size_t> cancel_all() noexcept;

  // wait() blocks until at most max_undispatched tasks wait to be taken and
  // at most max_unexecuted have not completed (a task counts once its
  // completion hook has returned), or until timeout has passed
  // since the call (an absolute deadline: spurious wake-ups do not extend
  // it): ETIME. Any thread except a pool thread (it would wait on itself).
  result<void> wait(std::size_t max_undispatched, std::size_t max_unexecuted,
                    std::chrono::nanoseconds timeout = forever) noexcept;

  // quit() asks up to n workers to stop (sleeping ones first, then spinning,
  // then busy): each finishes the tasks it holds, takes no more and makes its
  // run() return errc::executor_closed. Returns how many were asked and
  // stopped by the deadline; ETIME if some had not stopped by then (they
  // still stop). Any thread except a pool thread.
  result<std::size_t> quit(std::size_t n = SIZE_MAX, std::chrono::nanoseconds timeout = forever) noexcept;

  // close() stops accepting work. EBUSY (nothing changes) while workers are
  // registered or tasks are queued: quit and wait first. Any thread.
  result<void> close() noexcept;

  work_dispatcher_stats stats() const noexcept;
  // undispatched(p) is how many tasks of CPU priority p wait to be taken
  // (in the queues: held submissions are not counted here).
  std::size_t undispatched(priority p) const noexcept;
  std::chrono::microseconds spin_before_sleep() const noexcept { return opts_.spin_before_sleep; }

 private:
  friend class dispatch_worker;
  friend class pool;
  // Held submissions: a pool's callables that wait in its backlog for a
  // pooled task (pool.hpp). They count as submitted and undispatched (so
  // wait() and stats() see them) until submit_held() queues one in a task
  // or drop_held() ends them unrun (cancelled). Any thread.
  void hold(std::size_t n) noexcept;
  result<std::uint64_t> submit_held(task& t, const channel& ch) noexcept;
  void drop_held(std::size_t n) noexcept;
  // undispatched_now(): queued plus held. held_ is read first: a held
  // submission moves to queued_ (incremented) before held_ lets it go, so
  // it is counted once or twice here, never missed.
  std::size_t undispatched_now() const noexcept {
    const std::size_t h = held_.load(std::memory_order_seq_cst);
    return h + queued_.load(std::memory_order_seq_cst);
  }
  explicit work_dispatcher(const work_dispatcher_options& o) noexcept
      : opts_(o), default_channel_{this, o.on_complete, o.on_complete_arg} {}
  static void task_completed(task& t, void* ch) noexcept;
  // attach_taken(): a worker's attach of a task it took, which settles a
  // cancel() that came in between. Any thread (hand-offs attach from the
  // submitter's).
  static result<void> attach_taken(executor& ex, task& t) noexcept;
  static void forget_submission(task& t) noexcept;
  // withdraw_locked(): t, queued and claimed by the caller, leaves the queue
  // and completes unrun (ECANCELED). Called under lock_, returns unlocked.
  void withdraw_locked(task& t) noexcept;
  // numbers: where each task's submission number goes (or null); held:
  // the tasks carry held submissions (counted in submitted_ already).
  result<void> submit_tasks(std::span<task* const> tasks, const channel& ch, std::uint64_t* numbers,
                            bool held = false) noexcept;
  // cancel_submission(): cancel(t) for submission `only` (0: the current one).
  result<void> cancel_submission(task& t, std::uint64_t only) noexcept;

  // For workers (their own thread).
  void add_worker(dispatch_worker& w) noexcept;
  void remove_worker(dispatch_worker& w) noexcept;
  std::size_t take(dispatch_worker& w, task** out, std::size_t max) noexcept;
  std::size_t claim(std::size_t max) noexcept;               // from queued_, no lock
  void pop_claimed(task** out, std::size_t n) noexcept;      // under lock_
  std::size_t pick_sleepers(dispatch_worker** to_w, task** to_t, std::size_t max) noexcept;  // under lock_
  void deliver(dispatch_worker** to_w, task** to_t, std::size_t n) noexcept;  // after unlock
  // A worker enters / leaves the idle poll loop (spinning_; see pick_sleepers()).
  void start_spinning() noexcept { spinning_.fetch_add(1, std::memory_order_seq_cst); }
  void stop_spinning() noexcept;
  // More tasks wait than workers spin: the excess is for sleepers.
  bool more_than_spinners_take() const noexcept {
    return queued_.load(std::memory_order_seq_cst) >
           static_cast<std::size_t>(spinning_.load(std::memory_order_seq_cst));
  }
  bool start_sleep(dispatch_worker& w) noexcept;  // false: work or quit is waiting
  void end_sleep(dispatch_worker& w) noexcept;
  void note_executed(std::size_t n) noexcept;
  void notify_waiters() noexcept;
  void maybe_notify() noexcept;
  void set_wake_thresholds() noexcept;  // under wait_mutex_
  void nudge(dispatch_worker& w) noexcept;

  work_dispatcher_options opts_;
  channel default_channel_;

  // Hot, under lock_.
  alignas(64) mutable detail::spinlock lock_;
  detail::task_fifo queues_[priority_count];
  std::vector<dispatch_worker*> workers_;   // registered
  std::vector<dispatch_worker*> sleepers_;  // asleep, last in first out
  std::uint64_t sleeps_ = 0;
  bool closed_ = false;

  // Read by every idle worker: written only by submits and claims.
  alignas(64) std::atomic<std::size_t> queued_{0};  // in the FIFOs, unclaimed
  std::atomic<std::uint64_t> submitted_{0};
  std::atomic<std::size_t> worker_count_{0};  // workers_.size(), for claim()
  // Flipped at every busy/idle change of every worker: a line of its own.
  alignas(64) std::atomic<int> idle_{0};  // workers spinning or asleep (a hint, no lock)
  std::atomic<int> spinning_{0};          // workers in the idle poll loop
  alignas(64) std::atomic<std::uint64_t> executed_{0};
  std::atomic<std::size_t> held_{0};  // submissions held back by a pool (hold())
  std::atomic<std::uint64_t> handoffs_{0};
  std::atomic<std::uint64_t> cancelled_{0};
  // cancel_end_[level]: queue positions below this were submitted before a
  // cancel_all() call; attach_taken() cancels such a task's run (one a
  // worker had taken out of the queue before that call swept it). Read at
  // every attach of a taken task, written only by cancel_all(): a line of
  // its own, away from the counters above.
  alignas(64) std::atomic<std::uint64_t> cancel_end_[priority_count] = {};

  // Cold: blocking waits of wait() and quit().
  alignas(64) std::atomic<int> waiters_{0};
  // The loosest thresholds any waiter has: workers notify only when the
  // counters are within them (not at every completion).
  std::atomic<std::size_t> wake_undispatched_{0}, wake_unexecuted_{0};
  std::vector<std::pair<std::size_t, std::size_t>> waiting_;  // under wait_mutex_
  std::mutex wait_mutex_;
  std::condition_variable wait_cv_;
  std::uint64_t quit_asked_ = 0;  // under lock_
  std::uint64_t quit_done_ = 0;   // under wait_mutex_
};

// dispatch_worker: one pool thread's executor plus the dispatcher's loop.
// Everything here happens on the thread that created it.
class dispatch_worker {
 public:
  // create() makes an executor with opts, binds it to this thread and
  // registers with wd.
  static result<std::unique_ptr<dispatch_worker>> create(work_dispatcher& wd,
                                                         const executor_options& opts = {}) noexcept;
  // ~dispatch_worker() deregisters, then destroys the executor. Its thread.
  ~dispatch_worker();
  dispatch_worker(const dispatch_worker&) = delete;
  dispatch_worker& operator=(const dispatch_worker&) = delete;

  // run() runs local work, takes dispatched work when the local queue is
  // empty, and spins then sleeps while there is none. Returns the number of
  // items done once it has done some and runs dry (call it again);
  // errc::executor_closed once told to quit and its tasks have completed.
  result<std::size_t> run() noexcept;

  executor& exec() noexcept { return *ex_; }
  const executor& exec() const noexcept { return *ex_; }
  // current() is the worker running on this thread, if any.
  static dispatch_worker* current() noexcept;

 private:
  friend class work_dispatcher;
  enum class mode : std::uint8_t { busy, spinning, sleeping };
  dispatch_worker(work_dispatcher& wd, std::unique_ptr<executor> ex) noexcept;
  result<std::size_t> run_local(std::size_t max) noexcept;
  bool take_some() noexcept;
  bool may_stop() const noexcept;
  void flush_executed() noexcept;

  work_dispatcher& wd_;
  std::unique_ptr<executor> ex_;
  std::unique_ptr<task> nudge_;  // attached from outside to end a sleep (quit)
  std::size_t local_executed_ = 0;
  bool idle_counted_ = false;  // counted in wd_.idle_
  void set_idle(bool idle) noexcept;
  // Set under wd_.lock_; read by this thread.
  alignas(64) std::atomic<mode> mode_{mode::busy};
  std::atomic<bool> quit_requested_{false};
  std::atomic<bool> nudged_{false};          // nudge_ is attached
  std::atomic<std::size_t> outstanding_{0};  // dispatched here, not completed
  std::atomic<int> attaching_{0};            // other threads inside ex_->attach()
};

}  // namespace prio
