// executor.hpp: one per kernel thread; owns an io_uring ring and runs tasks.
//
// run() launches, resumes and completes tasks: the highest non-empty CPU
// priority level first, FIFO within a level. Timers live in user space (a
// pairing heap; no SQE per sleeping task) and bound the ring wait. I/O is
// submitted in batches: once per round of runnable tasks and before sleeping.
//
// Threading: an executor is bound to the first thread that calls run(); from
// then on run(), the I/O mechanism and everything a task does must happen on
// that thread (errc::not_on_executor otherwise). attach() and wake() may be
// called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>

#include "prio/executors/io_status.hpp"
#include "prio/executors/priority.hpp"
#include "prio/executors/task.hpp"
#include "prio/runtime/clock.hpp"
#include "prio/runtime/intrusive.hpp"
#include "prio/runtime/pairing_heap.hpp"
#include "prio/runtime/result.hpp"
#include "prio/runtime/seqlock.hpp"

struct io_uring;
struct io_uring_sqe;
struct io_uring_cqe;

namespace prio {

class registered_buffers;  // io/registered_buffers.hpp

struct executor_options {
  unsigned ring_entries = 256;        // SQ entries; 0 makes a compute-only executor
  unsigned cq_entries = 0;            // 0: twice ring_entries
  unsigned fixed_files = 1024;        // sparse fixed-file table size (0: none)
  unsigned low_priority_io_cap = 0;   // max in-flight low-priority I/O (0: no cap)
  // spin_before_sleep: how long an idle run() keeps polling for new work
  // before it blocks in the kernel (0: block at once). Spinning saves the
  // wake-up syscalls of a busy cross-thread producer.
  std::chrono::nanoseconds spin_before_sleep{0};
  // submit_interval: while tasks keep the CPU busy (no idle moment to enter
  // the kernel), prepared SQEs are submitted and completions collected at
  // least this often, so CPU-bound tasks cannot starve I/O.
  std::chrono::nanoseconds submit_interval{std::chrono::microseconds(50)};
  // track_task_time: read the clock at the end of every task slice, so each
  // task's times().executed and stats().in_tasks add up. false saves that
  // TSC read (15-18 ns on the machines measured, where a whole NOP round
  // trip takes 90-100 ns): executed and in_tasks stay 0, task stamps are the
  // executor's last clock read (so in_io_uring also counts the task time
  // since it), and the clock is still read whenever timers are armed and
  // every 8th slice (submit_interval, stamps). Inline I/O waits likewise.
  bool track_task_time = true;
  // stats_publish_interval: how often a busy executor publishes its
  // published_stats() snapshot for other threads (at a run() return, or a
  // busy run()'s periodic submit, once this much of its clock has passed);
  // it also publishes before it sleeps. Each publish copies the ~150-byte
  // stats record.
  std::chrono::nanoseconds stats_publish_interval{std::chrono::microseconds(100)};
};

// What the executor has done and where its time went (ticks of tsc::now()).
struct executor_stats {
  // (The first eight are what the hot path counts: one cache line.)
  tsc::ticks in_tasks = 0;     // inside task code (resume to suspend)
  tsc::ticks in_io_uring = 0;  // in non-blocking io_uring_enter calls
  std::uint64_t resumed = 0, enters = 0, submitted_sqes = 0, reaped_cqes = 0;
  std::uint64_t launched = 0, completed = 0;
  tsc::ticks in_run = 0;       // inside run()
  tsc::ticks sleeping = 0;     // blocked waiting for completions, timers or a wake
  std::uint64_t cancelled = 0;
  std::uint64_t abandoned_io = 0;  // io_status destroyed in flight (cancelled, waited for)
  std::uint64_t remote_attaches = 0, wakeups = 0, slot_waits = 0;
  std::size_t runnable = 0, timers = 0, io_in_flight = 0;
  std::size_t tasks = 0;  // attached and not completed (the bound thread's view)
};

class executor {
 public:
  static result<std::unique_ptr<executor>> create(const executor_options& opts = {}) noexcept;
  // ~executor() must run on the bound thread (or before any run()). Pending
  // tasks complete with errc::executor_closed; I/O in flight is cancelled and
  // drained; tasks suspended mid-body are reported on stderr.
  ~executor();
  executor(const executor&) = delete;
  executor& operator=(const executor&) = delete;

  // attach() queues t to launch at its CPU priority. Any thread: on the bound
  // thread it takes no lock; from another it is a wait-free push plus a wake.
  // Errors: errc::task_busy if t is attached somewhere, errc::executor_closed,
  // EINVAL if t has no body or a coroutine body on a stackful switcher.
  result<void> attach(task& t) noexcept;
  // attach(ts) attaches every task of ts, or none: the first task that
  // attach(task&) would refuse makes it return that error with every task
  // of ts as it was. From another thread the batch costs one queue exchange
  // and at most one wake, not one per task. nullptr entries are EINVAL.
  result<void> attach(std::span<task* const> ts) noexcept;

  // run() does up to max_items units of work (a launch or a resume each) and
  // returns how many. It blocks only while it has done nothing: until work
  // arrives or timeout passes (then ETIME). timeout 0 polls; forever waits.
  // max_items 0 does nothing and returns 0.
  result<std::size_t> run(std::size_t max_items = SIZE_MAX,
                          std::chrono::nanoseconds timeout = forever) noexcept;

  // wake() makes run() return: a run() blocked waiting for work returns at
  // once with the items it has done (possibly 0, not ETIME); if none is
  // blocked, the next run() that would block returns instead. Any thread;
  // for a thread that loops on run() and checks a stop flag between calls.
  void wake() noexcept;

  // cancel_all() cancels every task attached here whose attach() returned
  // before the call, each as task::cancel() would (the task calling it from
  // its body included: its next wait returns ECANCELED). On the bound
  // thread it acts at once (while another thread is between the two steps
  // of an attach, at the next turn of run() instead); from any other thread,
  // or before the first run(), at the executor's next turn: a sleeping run()
  // is woken. Tasks attached later run as usual. errc::executor_closed
  // after shutdown. Any thread.
  result<void> cancel_all() noexcept;
  // cancel_and_drain() stops the executor's work cleanly: it cancels every
  // task (cancel_all(), again every few hundred items for tasks attached
  // meanwhile) and runs until none is left attached, so each body returns
  // through its own code (its waits fail with ECANCELED at once) and its
  // I/O is drained. ETIME if tasks are still attached when timeout has
  // passed (attached again and again, or I/O the kernel will not cancel);
  // destroying the executor would then detach them mid-body. Cooperative:
  // a body that computes, or loops on its failing waits, keeps the thread.
  // The executor stays usable. On the bound thread (or before the first
  // run()), not from inside a task (EDEADLK).
  result<void> cancel_and_drain(std::chrono::nanoseconds timeout = forever) noexcept;

  // stats() is the executor's counters as they are now: the bound thread
  // only (anywhere else it races with the run loop).
  executor_stats stats() const noexcept;
  // published_stats() is a stats() snapshot for any thread (a monitoring
  // or metrics thread): the one the executor last published. It publishes
  // before it sleeps; when run() returns, or while a busy run() submits
  // I/O (every submit_interval), once executor_options::
  // stats_publish_interval (100 us) of its clock has passed since the last;
  // on publish_stats(); and at shutdown. A busy run() without I/O
  // (compute-only tasks, always runnable) publishes when it returns.
  // stats_version() counts the publishes.
  executor_stats published_stats() const noexcept { return published_.read(); }
  std::uint64_t stats_version() const noexcept { return published_.version(); }
  // publish_stats() publishes now: on the bound thread (errc::not_on_executor
  // elsewhere), or before the first run() on one thread at a time.
  result<void> publish_stats() noexcept;
  bool has_ring() const noexcept { return ring_ != nullptr; }
  // ring_flags() are the IORING_SETUP_* flags the ring was created with;
  // ring_flags_text() says which, e.g. "SINGLE_ISSUER|DEFER_TASKRUN".
  unsigned ring_flags() const noexcept { return ring_flags_; }
  const std::string& ring_flags_text() const noexcept { return ring_flags_text_; }
  unsigned fixed_file_slots() const noexcept { return fixed_files_; }
  // ring_fd_registered(): the ring's fd is in the bound thread's registered
  // ring table (Linux 5.18+), so io_uring_enter skips looking it up. Set
  // once the executor is bound.
  bool ring_fd_registered() const noexcept { return ring_fd_registered_; }
  unsigned max_in_flight() const noexcept { return max_in_flight_; }
  bool on_bound_thread() const noexcept;
  // now() is the executor's cached clock: the TSC as of the current task
  // slice or completion batch (bound thread); up to 8 slices old with
  // track_task_time off.
  tsc::ticks now() const noexcept { return now_; }

  // current() is the executor whose run() is on this thread's stack.
  static executor* current() noexcept;
  // current_task() is the task running on this thread, if any.
  static task* current_task() noexcept;

  // --- the I/O mechanism, for io/ and for tests (bound thread, inside t) -----
  // ring() is the raw ring; operations only ever use it through try_initiate.
  io_uring* ring() noexcept { return ring_.get(); }

  enum class admission : std::uint8_t { submitted, queued };
  // try_initiate() admits an operation of task t: st gets a submission slot
  // at t's I/O priority and prep(sqe) fills the SQE (not its user_data); a
  // timeout other than forever links an IORING_OP_LINK_TIMEOUT after it. When
  // no slot is free, prep fills a copy kept in the task and the task is queued
  // (FIFO per I/O priority) until one is: `queued`; the caller then suspends.
  // A caller that cannot suspend passes may_wait false and gets
  // errc::cannot_suspend instead of being queued.
  // Errors (nothing submitted): ECANCELED if t is cancelled, EOPNOTSUPP on a
  // compute-only executor, EBUSY if st is still in flight.
  template <class Prep>
  result<admission> try_initiate(task& t, io_status& st, Prep&& prep,
                                 std::chrono::nanoseconds timeout = forever, bool may_wait = true) noexcept;
  // admit() is try_initiate() for an st known to be neither in flight nor
  // waiting for a slot (one made for this operation): no EBUSY check.
  template <class Prep>
  result<admission> admit(task& t, io_status& st, Prep&& prep, std::chrono::nanoseconds timeout = forever,
                          bool may_wait = true) noexcept;

  // cancel_io() asks the kernel to cancel st (ASYNC_CANCEL); st completes
  // once both the operation's and the cancel's CQEs are in.
  void cancel_io(io_status& st) noexcept;

  // reap() takes st, completed, off its task's completed list.
  static void reap(io_status& st) noexcept;
  // reap_awaited() is reap() of a completed st that t, running on this
  // executor, awaited with io_status::reap_on_wake (perform()).
  void reap_awaited(io_status& st) noexcept;
  // abandon() is ~io_status() of an admitted operation: one waiting for a
  // slot leaves the queue; one in flight is cancelled and its CQEs are
  // collected (blocking, on the bound thread) until it has completed.
  static void abandon(io_status& st) noexcept;

  // buffers() is the registered_buffers made for this executor's ring
  // (io/registered_buffers.hpp; a pool makes them from its options), or
  // nullptr. Bound thread.
  registered_buffers* buffers() const noexcept { return buffers_; }

  // --- waits of other layers (a buffer, a resource): bound thread ------------
  // A stackful task waits with t.wait_stackful(task_state::suspended_other,
  // deadline); a coroutine with co_await task::awaiter(t, suspended_other,
  // deadline). Whoever owns the wait queue calls resume_waiter() to make it
  // runnable with `status` as the wait's result. A wait that returns an
  // error (ECANCELED, ETIME) was not resumed by the owner: the waiter must
  // take itself off the owner's queue.
  void resume_waiter(task& t, result<void> status = success()) noexcept;

 private:
  friend class task;
  friend class registered_buffers;  // sets buffers_
  explicit executor(const executor_options& opts) noexcept;
  result<void> init_ring(const executor_options& opts) noexcept;
  result<void> bind_to_this_thread() noexcept;
  // claim() checks and marks t pending for this executor (attach's first
  // half); unclaim() undoes it for a batch that failed further on.
  result<void> claim(task& t) noexcept;
  static void unclaim(task& t) noexcept;

  // Scheduling.
  void make_runnable(task& t) noexcept;  // queue at t's CPU priority
  void wake_task(task& t, result<void> status) noexcept;
  void wake_awaiting_io(task& t) noexcept;
  task* pop_runnable() noexcept;
  void run_task(task& t) noexcept;
  // wait_inline(): t, running, has just entered a plain I/O wait. If t is
  // the only task that could run, enter the kernel from t's own stack and,
  // when that completes t's wait and wakes nobody else, resume t there
  // without switching (true); otherwise t suspends as usual (false).
  bool wait_inline(task& t) noexcept;
  void finish_task(task& t) noexcept;
  void complete_task(task& t) noexcept;
  // release_task() detaches t from this executor (ex_ = nullptr) unless a
  // cancel request from another thread for t is queued here; then t stays
  // (false) and completes when drain_cancels() takes the request out.
  bool release_task(task& t) noexcept {
    t.set_executor(nullptr);
    // StoreLoad against task::cancel_off_thread(): see completion_fence_.
    if (completion_fence_.load(std::memory_order_relaxed) != 0)
      std::atomic_thread_fence(std::memory_order_seq_cst);
    else
      std::atomic_signal_fence(std::memory_order_seq_cst);
    if (t.remote_cancel_.load(std::memory_order_relaxed) == 0) [[likely]]
      return true;
    return release_task_slow(t);
  }
  // order_with_completions(): a canceller's half of that StoreLoad pairing
  // (any thread, holding a task's request lock).
  void order_with_completions() noexcept;
  [[gnu::cold, gnu::noinline]] bool release_task_slow(task& t) noexcept;
  void drain_remote() noexcept;
  // post_cancel() queues a cancel request for t, attached here (any thread,
  // with t's request lock held); drain_cancels() acts on them (the
  // consumer, when drain_remote() finds the doorbell).
  void post_cancel(task& t) noexcept;
  void ring_cancel_doorbell() noexcept;
  void drain_cancels() noexcept;
  // queue_cancel_of_live_tasks(): cancel_all()'s work on the bound thread:
  // a request for every live task on cancels_ (false: a producer is
  // mid-push in remote_, so some attach may be unseen: asked again).
  bool queue_cancel_of_live_tasks() noexcept;
  // count_unlaunched(): a drain inside run() completed a task cancelled
  // before launch: an item of run()'s count (run(n, forever) waiting for
  // it returns).
  void count_unlaunched() noexcept {
    if (inline_budget_ != 0) --inline_budget_;
  }
  void fire_timers(tsc::ticks now) noexcept;
  void start_wait(task& t, task_state s, tsc::ticks deadline) noexcept;
  void cancel_task(task& t) noexcept;
  void requeue(task& t, priority old) noexcept;

  // I/O.
  // acquire_sqes() makes sure n SQEs are free and hands out the first, for an
  // operation at level p, or nullptr when it must wait for a slot (inline:
  // every operation passes here; making room in a full SQ is out of line).
  io_uring_sqe* acquire_sqes(priority p, unsigned n) noexcept;
  io_uring_sqe* make_sq_room_and_get() noexcept;
  io_uring_sqe* get_sqe() noexcept;
  // commit() makes st, prepared in sqe, an operation in flight of task t.
  void commit(task& t, io_status& st, io_uring_sqe* sqe, std::chrono::nanoseconds timeout) noexcept;
  void link_timeout(io_status& st, io_uring_sqe* sqe, std::chrono::nanoseconds timeout) noexcept;
  void queue_for_slot(task& t, io_status& st, std::chrono::nanoseconds timeout) noexcept;
  void grant_slots() noexcept;
  bool slot_available(priority p) const noexcept;
  // reap_cqes() stamps the batch with now_: run()'s loop read the clock at
  // most a few steps earlier (end of a slice, an enter, a spin, a sleep).
  // Inline, as run() calls it on every turn of its loop, mostly to find the
  // CQ empty; reap_ready_cqes() is the out-of-line rest.
  unsigned reap_cqes() noexcept;
  unsigned reap_ready_cqes() noexcept;
  void handle_cqe(std::uint64_t user_data, std::int32_t res, std::uint32_t flags) noexcept;
  enum class io_wake : std::uint8_t;
  io_wake settle_io(io_status& st) noexcept;
  void settled(io_status& st, io_wake w) noexcept;
  void io_finished(io_status& st) noexcept;
  void io_finished_other(task& t, io_status& st) noexcept;
  void cancel_all_io(task& t) noexcept;
  void arm_wake_read() noexcept;
  void signal() noexcept;  // ends a sleep in wait_for_events()
  // submit_nonblocking() enters the kernel to submit and collect without
  // waiting; the time from `since` on counts as in io_uring. run()'s loop
  // passes now_; callers inside task code let it read the clock.
  void submit_nonblocking(tsc::ticks since) noexcept;
  // entered(): the bookkeeping after every io_uring_enter of the executor:
  // sqes were prepared before it, submitted says the kernel took them, and
  // the CQ may hold new entries.
  void entered(std::size_t sqes, bool submitted) noexcept;
  // enter() submits what is queued and waits for wait_nr CQEs (0: none);
  // submit_nonblocking() is enter(t0, 0). Returns what the kernel returned.
  int enter(tsc::ticks t0, unsigned wait_nr) noexcept;
  // wait_out() is abandon()'s wait for st's CQEs (bound thread), also from a
  // completion callback inside reap_ready_cqes().
  void wait_out(io_status& st) noexcept;
  // leave_slot_queue() takes t, waiting for a submission slot, off the queue;
  // the operation it deferred goes back to idle.
  void leave_slot_queue(task& t) noexcept;
  void submit_nonblocking() noexcept { submit_nonblocking(clock()); }
  tsc::ticks clock() const noexcept { return tsc::now(hw_clock_); }
  // slice_end_clock(): the time a task slice ends (run_task(), an inline
  // wait): a fresh read when tracking task time; untracked, only while
  // timers are armed (deadlines need it) and every 8th slice (stamps,
  // submit_interval), else the executor's last read.
  tsc::ticks slice_end_clock() noexcept {
    if (track_task_time_ || !timers_.empty() || (++untracked_slices_ & 7) == 0) [[likely]]
      return clock();
    return now_;
  }
  // entered_at(): an enter (or a sleep) ended at `now`: the busy loop's
  // next non-blocking submit is due submit_interval_ later (saturating).
  void entered_at(tsc::ticks now) noexcept {
    submit_due_ = now + submit_interval_ < now ? UINT64_MAX : now + submit_interval_;
  }
  void wait_for_events(tsc::ticks deadline) noexcept;
  bool spin_for_work(tsc::ticks deadline) noexcept;
  void shutdown() noexcept;
  void drain_ring_for_shutdown() noexcept;
  static task* task_of_timer(heap_node* n) noexcept;

  struct ring_deleter {
    void operator()(io_uring* r) const noexcept;
  };

  // Hot state first, laid out by cache line: a QD1 read or a NOP round trip
  // runs the loop once per syscall, and the kernel's own work in between
  // evicts most of L1, so every line the loop touches is a miss each time.
  // Line 0: the scalars every turn of the loop reads.
  // now_: the executor's clock, read once per task slice and per completion
  // batch; I/O and task stamps use it so the hot path reads the TSC about
  // once per resume (a TSC read costs 6-20 ns, more than a switch).
  alignas(64) tsc::ticks now_ = 0;
  tsc::ticks submit_due_ = 0;                // the last io_uring_enter + submit_interval_
  tsc::ticks submit_interval_ = 0;
  std::unique_ptr<io_uring, ring_deleter> ring_;
  unsigned unsubmitted_ = 0;                 // SQEs prepared since the last enter
  unsigned in_flight_ = 0;                   // admitted operations
  unsigned max_in_flight_ = 0;
  unsigned in_flight_prio_[priority_count] = {};
  unsigned slot_waiting_ = 0;                // tasks in slot_waiters_, all levels
  // cq_unseen_: CQEs may have been posted since the last look. A
  // DEFER_TASKRUN ring posts them only inside io_uring_enter, so the run
  // loop looks after an enter (and at the start of each run(), for enters
  // made outside it); other rings post any time: cq_always_ keeps it set.
  bool cq_unseen_ = false;
  bool cq_always_ = false;
  bool reaping_ = false;  // inside reap_ready_cqes(): its CQEs are not consumed yet
  bool ring_fd_registered_ = false;
  const bool hw_clock_ = tsc::detail::use_hardware();  // clock(): no global read
  // Line 1: the timer heap's root and the run queues of the two upper levels.
  pairing_heap timers_;
  intrusive_list<task, &task::run_node_> runnable_[priority_count];
  // Line 2 (after the low level's run queue): where the ring's memory is,
  // copied out of liburing's io_uring record at setup. The record spreads
  // these over four lines; what the hot path still reads there (SQE
  // head/tail, the SQ mask and size, the CQ head/tail pointers) is in one.
  unsigned* sq_khead_ = nullptr;
  unsigned* sq_ktail_ = nullptr;
  io_uring_sqe* sqes_ = nullptr;
  io_uring_cqe* cqes_ = nullptr;
  int enter_fd_ = -1;  // the ring's fd, or its registered index (ring_fd_registered_)
  unsigned cq_mask_ = 0;
  unsigned low_cap_ = 0;
  const bool track_task_time_;           // executor_options::track_task_time
  std::uint8_t untracked_slices_ = 0;    // slices since the last clock read, untracked
  tsc::ticks spin_ticks_ = 0;
  // slice_start_: when the running task's current slice began (run_task(),
  // or the end of an inline wait). inline_budget_: the items run() has
  // left: launches and resumes, its own and wait_inline()'s.
  // entered_inline_: an inline wait entered the kernel since run()'s last
  // enter of its own (cleared by entered() and at each run()).
  tsc::ticks slice_start_ = 0;
  std::size_t inline_budget_ = 0;
  bool entered_inline_ = false;
  intrusive_list<task, &task::run_node_> slot_waiters_[priority_count];
  // The counters the hot path bumps lead executor_stats: one more line.
  alignas(64) executor_stats stats_{};
  // published_stats(): written by the bound thread only, on its own lines
  // (readers on other cores pull these, not the hot ones).
  tsc::ticks published_at_ = 0;
  tsc::ticks run_started_ = 0;  // the run() in progress began (0: none)
  const tsc::ticks publish_ticks_;  // executor_options::stats_publish_interval
  void publish_stats_if_due(tsc::ticks now) noexcept {
    if (now - published_at_ >= publish_ticks_) publish_stats_at(now);
  }
  void publish_stats_at(tsc::ticks now) noexcept;
  bool bound_here_or_unbound() const noexcept;
  alignas(64) seqlock_cell<executor_stats> published_;

  // Cross-thread.
  mpsc_queue<task, &task::remote_node_> remote_;
  // Cancel requests from other threads. A request rings the doorbell (a
  // marker in remote_) unless it is rung already, so the run loop notices
  // them with the check it makes for remote attaches anyway.
  mpsc_queue<task, &task::cancel_node_> cancels_;
  mpsc_node cancel_doorbell_;
  std::atomic<bool> cancel_rung_{false};
  std::atomic<bool> cancel_all_requested_{false};  // cancel_all(): rings the doorbell too
  // cancel_all() generations: each call starts the next and asks for every
  // run attached under an older one to be cancelled; attach() stamps each
  // task with the generation it reads (task::attach_gen_). So a request
  // that lands at the executor's next turn spares what was attached after
  // the call.
  std::atomic<std::uint64_t> cancel_gen_{0};
  // completion_fence_: how release_task() orders its detach before it reads
  // the task's request lock. 0: a compiler barrier, and a cancel() from
  // another thread pays a membarrier (runtime/asymmetric_fence.hpp). The
  // first such cancel() switches it to 2 (through 1 while its membarrier is
  // not done): a full fence at each completion from then on, and cancels
  // from other threads pay a fence, not a system call and an interrupt of
  // every core the process runs on. 2 from the start where membarrier is
  // unavailable. An executor nobody cancels across threads pays nothing.
  std::atomic<std::uint8_t> completion_fence_{0};
  alignas(64) std::atomic<bool> sleeping_{false};
  std::atomic<bool> wake_pending_{false};  // the eventfd was written
  std::atomic<bool> wake_requested_{false};  // wake(): run() returns
  int wake_fd_ = -1;                         // eventfd
  std::uint64_t wake_buf_ = 0;
  bool wake_armed_ = false;

  std::atomic<std::thread::id> owner_{};
  std::atomic<bool> closed_{false};
  unsigned ring_flags_ = 0;
  std::string ring_flags_text_;
  unsigned fixed_files_ = 0;
  intrusive_list<task, &task::live_node_> live_;  // attached, not completed
  registered_buffers* buffers_ = nullptr;
};

}  // namespace prio

#include "prio/executors/executor_inl.hpp"
