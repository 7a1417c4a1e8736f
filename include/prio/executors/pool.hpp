// pool.hpp: the runtime object: a work dispatcher plus one executor thread
// per core, configured from config/config.
//
//   auto opts = pool_options::load("config/config");   // + PRIO_<OPTION> env
//   auto p = pool::create(*opts);
//   auto j = (*p)->submit([] { work(); }, {.cpu = priority::high});
//   (*p)->cancel(*j);                                   // if it must not run
//   (*p)->submit(my_task);                              // a task you own
//   (*p)->wait();                                       // all executed
//   (*p)->shutdown();                                   // or let ~pool do it
//
// A submitted callable runs in a task the pool keeps: tasks come from a free
// list and return to it when they complete, so steady state allocates
// nothing (a new task is created only when every pooled one is busy). Each
// switcher kind has at most max_pooled_tasks of them (a stackful one holds
// a stack and two memory mappings); callables submitted beyond that wait in
// the pool's backlog (pool_backlog.hpp) and move into the first pooled task
// of their kind to complete, highest CPU priority first.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "prio/executors/executor.hpp"
#include "prio/executors/pool_backlog.hpp"
#include "prio/executors/task.hpp"
#include "prio/executors/work_dispatcher.hpp"
#include "prio/runtime/config.hpp"
#include "prio/runtime/result.hpp"

namespace prio {

struct pool_options {
  unsigned threads = 0;          // 0: one per CPU this process may run on
  executor_options exec{};       // ring_entries, low_priority_io_cap
  switcher_kind switcher = switcher_kind::asm_switch;  // of pooled tasks
  std::size_t stack_size = 0;    // of pooled stackful tasks; 0: the default
  // The most pooled tasks of each switcher kind (>= 1). Callables submitted
  // while that many are out wait in the backlog, unrun, until one completes:
  // a callable that waits for one behind it in the backlog waits forever.
  std::size_t max_pooled_tasks = 4096;
  bool cpu_pinning = false;      // thread i on the i-th allowed CPU
  std::chrono::microseconds spin_before_sleep{50};
  // Registered (fixed) buffers each executor with a ring gets at start
  // (io/registered_buffers.hpp; a task finds them at
  // t.current_executor()->buffers()). Both 0: none. Registration failing
  // (ENOMEM: the memlock limit of an unprivileged process) fails create().
  unsigned registered_buffers_small = 64;
  unsigned registered_buffers_large = 4;

  // from_config() takes the pool's options out of c (default_schema() keys).
  static pool_options from_config(const config& c);
  // load() reads path (PRIO_<OPTION> overrides applied); errors name the
  // file and line. A missing file is an error unless missing_ok.
  static result<pool_options, config_error> load(const std::string& path = "config/config",
                                                 bool missing_ok = false);
};

// call_options: how a submitted callable runs.
struct call_options {
  priority cpu = priority::normal;
  priority io = priority::normal;
  std::optional<switcher_kind> switcher = std::nullopt;  // default: pool_options::switcher
};

class pool {
 public:
  // job: one submission of a callable, as submit(f) returns it, for
  // cancel(job). Copyable; valid while its pool lives; a default job names
  // none. It stays exact when the pooled task is reused for later callables.
  class job {
   public:
    job() noexcept = default;
    // submission(): the pooled task's submission number, or the backlog's
    // number for a callable that had to wait there; 0: none.
    std::uint64_t submission() const noexcept { return submission_; }
    bool held() const noexcept { return held_ != nullptr; }  // it went to the backlog

   private:
    friend class pool;
    job(task* t, std::uint64_t n) noexcept : t_(t), submission_(n) {}
    explicit job(detail::backlog_job& j) noexcept : submission_(j.seq), held_(&j) {}
    task* t_ = nullptr;
    std::uint64_t submission_ = 0;
    detail::backlog_job* held_ = nullptr;
  };

  // create() starts the executor threads; it returns once each has its
  // executor (or the first error, after stopping the others).
  static result<std::unique_ptr<pool>> create(const pool_options& o = {}) noexcept;
  // ~pool() is shutdown(forever): it waits for all work, so call
  // cancel_all() first if some of it waits for something that will not come.
  ~pool();
  pool(const pool&) = delete;
  pool& operator=(const pool&) = delete;

  // submit() a task you own (see work_dispatcher::submit). Any thread.
  result<void> submit(task& t) noexcept { return wd_->submit(t); }
  result<void> submit(std::span<task* const> ts) noexcept { return wd_->submit(ts); }
  // cancel() withdraws or cancels a task you submitted (see
  // work_dispatcher::cancel). Any thread.
  result<void> cancel(task& t) noexcept { return wd_->cancel(t); }
  // cancel_all() cancels all work submitted before the call (see
  // work_dispatcher::cancel_all): queued work never runs, running work's
  // waits return ECANCELED. For a prompt stop: cancel_all(), then
  // shutdown(). Returns how many queued submissions left unrun. Any thread.
  result<std::size_t> cancel_all() noexcept;
  // submit(f, o) runs f() or f(task&) (returning void or result<int64_t>) in
  // a pooled task. f must fit task::inline_capacity bytes (compile-time
  // check). Any thread. With max_pooled_tasks of the kind out (or a new one
  // failing to be made while others are out) f waits in the backlog; ENOMEM
  // if a new task was needed and none could be made. The job it returns is
  // the handle cancel(job) takes.
  template <class F>
    requires(std::is_invocable_v<std::decay_t<F>&> || std::is_invocable_v<std::decay_t<F>&, task&>)
  result<job> submit(F&& f, call_options o = {}) noexcept;
  // cancel(j) withdraws a job still queued (f is destroyed without running,
  // on this thread) or cancels it where it runs (the waits of an f(task&)
  // return ECANCELED from its thread's next turn; an f() that never waits
  // runs to its end). EINVAL once the job has ended, for a default job and
  // for another pool's job. Any thread.
  result<void> cancel(const job& j) noexcept {
    if (j.held_) return cancel_held(j);
    if (!j.t_) return failure(errno_error(EINVAL));
    return wd_->cancel(*j.t_, j.submission_);
  }

  // wait() blocks until every submitted task has completed (or timeout:
  // ETIME); wait(a, b, timeout) is work_dispatcher::wait. Not on a pool thread.
  result<void> wait(std::chrono::nanoseconds timeout = forever) noexcept { return wd_->wait(0, 0, timeout); }
  result<void> wait(std::size_t max_undispatched, std::size_t max_unexecuted,
                    std::chrono::nanoseconds timeout = forever) noexcept {
    return wd_->wait(max_undispatched, max_unexecuted, timeout);
  }

  // shutdown() waits for all work (ETIME at the deadline: nothing stopped),
  // then stops and joins every thread. Idempotent. Not on a pool thread.
  result<void> shutdown(std::chrono::nanoseconds timeout = forever) noexcept;

  unsigned threads() const noexcept { return static_cast<unsigned>(threads_.size()); }
  const pool_options& options() const noexcept { return opts_; }
  work_dispatcher& dispatcher() noexcept { return *wd_; }
  // final_stats() are each executor's stats as it stopped (after shutdown()).
  const std::vector<executor_stats>& final_stats() const noexcept { return final_stats_; }
  // live_stats() are each pool thread's executor stats now: its executor's
  // published_stats() while the thread runs (executor.hpp says how fresh),
  // its final stats once it has stopped. Any thread; ENOMEM only if the
  // vector cannot be allocated.
  result<std::vector<executor_stats>> live_stats() const noexcept;
  // pooled_tasks() is how many tasks the pool has created for callables.
  std::size_t pooled_tasks() const noexcept;
  // backlogged() is how many callables wait in the backlog now.
  std::size_t backlogged() noexcept;

 private:
  struct pooled {
    mpsc_node free_node;
    std::unique_ptr<task> t;
    detail::backlog_job* job = nullptr;  // the backlog's job it runs, if any
  };
  struct free_list {
    mpsc_queue<pooled, &pooled::free_node> q;  // pushed by workers, popped under lock
    detail::spinlock pop_lock;
  };

  explicit pool(const pool_options& o) noexcept;
  void thread_main(unsigned i) noexcept;
  // take_task(): a free pooled task of kind k, else a new one while k has
  // fewer than max_pooled_tasks; nullptr when the callable must wait in the
  // backlog. k is a stackful kind or none (submit() checked); a new task's
  // error (ENOMEM) only while no other task of the kind exists.
  result<pooled*> take_task(switcher_kind k) noexcept;
  result<pooled*> new_task(switcher_kind k) noexcept;
  // submit_pooled(): p (its callable set) to the dispatcher; a refused p
  // goes back to the free list.
  result<job> submit_pooled(pooled& p, const call_options& o, bool backlog_locked = false) noexcept;
  // unused(): p's callable, never run, is destroyed and p is free again
  // (only pushed on its free list when the caller holds the backlog lock).
  void unused(pooled& p, bool backlog_locked) noexcept;
  // give_back() puts a free p of kind k on its free list, or hands it to
  // the backlog.
  void give_back(pooled& p, switcher_kind k) noexcept;
  // submit_backlogged(): submit(f)'s path while the backlog of kind k is
  // not empty or take_task() found nothing; src is the callable wrapper.
  result<job> submit_backlogged(switcher_kind k, const call_options& o, void* src,
                                const detail::callable_ops* ops) noexcept;
  // drain_locked() moves kind k's backlog into free (or new) pooled tasks and
  // submits them; install() is one such move. Under backlog_.lock().
  void drain_locked(switcher_kind k) noexcept;
  void install(pooled& p, detail::backlog_job& j) noexcept;
  result<void> cancel_held(const job& j) noexcept;
  static void recycle(task& t, void* self) noexcept;

  pool_options opts_;
  std::unique_ptr<work_dispatcher> wd_;
  work_dispatcher::channel pooled_channel_;
  free_list free_[switcher_kind_count];
  std::atomic<std::size_t> created_[switcher_kind_count] = {};  // pooled tasks of each kind
  detail::pool_backlog backlog_;

  std::vector<std::thread> threads_;
  std::vector<executor_stats> final_stats_;  // each written under start_mutex_
  mutable std::mutex start_mutex_;  // guards the fields below and pooled creation
  std::vector<const executor*> running_;  // thread i's executor while it runs
  std::condition_variable start_cv_;
  unsigned started_ = 0;
  std::error_code start_error_;
  std::vector<std::unique_ptr<pooled>> all_;
  bool stopped_ = false;
};

template <class F>
  requires(std::is_invocable_v<std::decay_t<F>&> || std::is_invocable_v<std::decay_t<F>&, task&>)
result<pool::job> pool::submit(F&& f, call_options o) noexcept {
  using D = std::decay_t<F>;
  const switcher_kind k = o.switcher.value_or(opts_.switcher);
  if (k == switcher_kind::coroutine || static_cast<int>(k) >= switcher_kind_count)
    return failure(errno_error(EINVAL));  // callables run on stacks (or none)
  auto w = [fn = D(std::forward<F>(f))](task& t) mutable -> result<std::int64_t> {
    if constexpr (std::is_invocable_v<D&, task&>) {
      using R = std::invoke_result_t<D&, task&>;
      if constexpr (std::is_void_v<R>) {
        fn(t);
        return std::int64_t{0};
      } else {
        return fn(t);
      }
    } else {
      using R = std::invoke_result_t<D&>;
      if constexpr (std::is_void_v<R>) {
        fn();
        return std::int64_t{0};
      } else {
        return fn();
      }
    }
  };
  using W = decltype(w);
  if (backlog_.waiting(k) == 0) {  // else older callables of kind k wait: no overtaking them
    auto got = take_task(k);
    if (!got) return failure(got.error());
    if (*got) {
      (*got)->t->set_body(std::move(w));
      return submit_pooled(**got, o);
    }
  }
  return submit_backlogged(k, o, &w, &detail::callable_ops_for<W>);
}

}  // namespace prio
