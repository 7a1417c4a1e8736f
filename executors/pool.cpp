// pool.cpp: starting and stopping the executor threads, and the free lists
// of pooled tasks behind submit(callable).
#include "prio/executors/pool.hpp"

#include <pthread.h>
#include <sched.h>

#include <cstdio>

#include "prio/io/registered_buffers.hpp"  // the pool composes the I/O layer's buffers

namespace prio {

namespace {
// allowed_cpus() lists the CPUs this process may run on, in order.
std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  if (cpus.empty()) {
    const unsigned n = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned c = 0; c < n; ++c) cpus.push_back(static_cast<int>(c));
  }
  return cpus;
}
}  // namespace

pool::pool(const pool_options& o) noexcept : opts_(o) {}

result<std::unique_ptr<pool>> pool::create(const pool_options& o) noexcept {
  if (o.switcher == switcher_kind::coroutine) return failure(errno_error(EINVAL));  // callables are stackful
  if (o.max_pooled_tasks == 0) return failure(errno_error(EINVAL));
  try {
    std::unique_ptr<pool> p(new pool(o));
    work_dispatcher_options wo;
    wo.spin_before_sleep = o.spin_before_sleep;
    auto wd = work_dispatcher::create(wo);
    if (!wd) return failure(wd.error());
    p->wd_ = std::move(*wd);
    p->pooled_channel_ = {p->wd_.get(), &pool::recycle, p.get()};
    const std::vector<int> cpus = allowed_cpus();
    const unsigned n = o.threads ? o.threads : static_cast<unsigned>(cpus.size());
    p->final_stats_.resize(n);
    p->running_.assign(n, nullptr);
    p->threads_.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
      const int cpu = o.cpu_pinning ? cpus[i % cpus.size()] : -1;
      p->threads_.emplace_back([pp = p.get(), i, cpu] {
        if (cpu >= 0) {
          cpu_set_t set;
          CPU_ZERO(&set);
          CPU_SET(cpu, &set);
          pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
        }
        pp->thread_main(i);
      });
    }
    std::unique_lock<std::mutex> lk(p->start_mutex_);
    p->start_cv_.wait(lk, [&] { return p->started_ == n; });
    if (p->start_error_) {
      const std::error_code e = p->start_error_;
      lk.unlock();
      (void)p->shutdown();
      return failure(e);
    }
    return p;
  } catch (const std::bad_alloc&) {
    return failure(errno_error(ENOMEM));
  } catch (const std::system_error& e) {  // std::thread could not start one
    return failure(e.code());
  }
}

pool::~pool() { (void)shutdown(); }

void pool::thread_main(unsigned i) noexcept {
  auto w = dispatch_worker::create(*wd_, opts_.exec);
  std::error_code error = w ? std::error_code{} : w.error();
  // Declared after w: destroyed first, on this thread, before its executor.
  std::unique_ptr<registered_buffers> bufs;
  if (w && (*w)->exec().has_ring() && opts_.registered_buffers_small + opts_.registered_buffers_large != 0) {
    registered_buffer_options bo;
    bo.small_count = opts_.registered_buffers_small;
    bo.large_count = opts_.registered_buffers_large;
    if (auto b = registered_buffers::create((*w)->exec(), bo); b) {
      bufs = std::move(*b);
    } else {
      error = b.error();
      std::fprintf(stderr,
                   "prio: pool thread %u: registering %u small + %u large buffers: %s "
                   "(lower registered_buffers_small/_large or raise RLIMIT_MEMLOCK)\n",
                   i, bo.small_count, bo.large_count, error.message().c_str());
    }
  }
  {
    std::lock_guard<std::mutex> g(start_mutex_);
    if (error && !start_error_) start_error_ = error;
    if (!error) running_[i] = &(*w)->exec();
    ++started_;
    start_cv_.notify_all();
  }
  if (error) return;  // w, if made, deregisters as it goes
  for (;;) {
    auto r = (*w)->run();
    if (r) continue;
    if (r.error() != errc::executor_closed)
      std::fprintf(stderr, "prio: pool thread %u: run(): %s\n", i, r.error().message().c_str());
    break;
  }
  bufs.reset();  // every task has completed: no buffer is claimed or in use
  std::lock_guard<std::mutex> g(start_mutex_);
  final_stats_[i] = (*w)->exec().stats();
  running_[i] = nullptr;  // before w (and its executor) goes
}

result<std::vector<executor_stats>> pool::live_stats() const noexcept {
  try {
    std::lock_guard<std::mutex> g(start_mutex_);
    std::vector<executor_stats> out(final_stats_.size());
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = running_[i] ? running_[i]->published_stats() : final_stats_[i];
    return out;
  } catch (const std::bad_alloc&) {
    return failure(errno_error(ENOMEM));
  }
}

result<void> pool::shutdown(std::chrono::nanoseconds timeout) noexcept {
  if (stopped_) return success();
  if (dispatch_worker::current()) return failure(errno_error(EDEADLK));
  // One absolute deadline for the wait and the quit together.
  const auto deadline = detail::deadline_after(timeout);
  const bool bounded = deadline != std::chrono::steady_clock::time_point::max();
  auto left = [&] {
    if (!bounded) return forever;
    return std::max(std::chrono::nanoseconds(0), deadline - std::chrono::steady_clock::now());
  };
  if (!start_error_) PRIO_TRY(wd_->wait(0, 0, left()));
  PRIO_TRY(wd_->quit(SIZE_MAX, left()));
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  stopped_ = true;
  return wd_->close();
}

// --- pooled tasks -----------------------------------------------------------------

result<pool::pooled*> pool::take_task(switcher_kind k) noexcept {
  const int i = static_cast<int>(k);
  free_list& fl = free_[i];
  fl.pop_lock.lock();
  pooled* p = fl.q.pop();
  fl.pop_lock.unlock();
  if (p) return p;
  // Every pooled task of this kind is out: a new one, within the bound.
  if (created_[i].load(std::memory_order_relaxed) >= opts_.max_pooled_tasks) return static_cast<pooled*>(nullptr);
  if (created_[i].fetch_add(1, std::memory_order_relaxed) >= opts_.max_pooled_tasks) {
    created_[i].fetch_sub(1, std::memory_order_relaxed);
    return static_cast<pooled*>(nullptr);
  }
  auto made = new_task(k);
  if (made) return made;
  // (No stack or no memory.) With others of this kind out, f waits for one.
  if (created_[i].fetch_sub(1, std::memory_order_relaxed) > 1) return static_cast<pooled*>(nullptr);
  return failure(made.error());
}

result<pool::pooled*> pool::new_task(switcher_kind k) noexcept {
  task_options to;
  to.switcher = k;
  to.stack_size = opts_.stack_size;
  auto t = task::create(to);
  if (!t) return failure(t.error());
  try {
    auto p = std::make_unique<pooled>();
    p->t = std::move(*t);
    p->t->set_user_ptr(p.get());
    std::lock_guard<std::mutex> g(start_mutex_);
    all_.push_back(std::move(p));
    return all_.back().get();
  } catch (const std::bad_alloc&) {
    return failure(errno_error(ENOMEM));
  }
}

result<pool::job> pool::submit_pooled(pooled& p, const call_options& o, bool backlog_locked) noexcept {
  p.t->set_cpu_priority(o.cpu);
  p.t->set_io_priority(o.io);
  task* const t = p.t.get();  // p may be recycled and reused as soon as it is submitted
  auto n = wd_->submit_numbered(*t, &pooled_channel_);
  if (!n) {
    unused(p, backlog_locked);
    return failure(n.error());
  }
  return job(t, *n);
}

void pool::recycle(task& t, void* self) noexcept {
  auto* p = static_cast<pooled*>(t.user_ptr());
  pool& pl = *static_cast<pool*>(self);
  t.set_body(static_cast<task_fn>(nullptr), p);  // destroy the callable now, not at reuse
  const switcher_kind k = t.switcher();
  if (p->job || pl.backlog_.waiting(k) != 0) {
    std::lock_guard<std::mutex> g(pl.backlog_.lock());
    if (p->job) {  // its backlog job has ended: the record is free (its number spent)
      pl.backlog_.release(*p->job);
      p->job = nullptr;
    }
    // Callables wait: p takes the first one, without a trip through the
    // free list.
    if (detail::backlog_job* j = pl.backlog_.pop(k)) {
      pl.install(*p, *j);
      return;
    }
  }
  pl.give_back(*p, k);
}

void pool::unused(pooled& p, bool backlog_locked) noexcept {
  const switcher_kind k = p.t->switcher();
  p.t->set_body(static_cast<task_fn>(nullptr), &p);
  if (backlog_locked)  // (the lock's next holder drains: see submit_backlogged())
    free_[static_cast<int>(k)].q.push(p);
  else
    give_back(p, k);
}

void pool::give_back(pooled& p, switcher_kind k) noexcept {
  free_[static_cast<int>(k)].q.push(p);
  // A submitter announces itself in waiting() before it looks at the free
  // list: either it finds p there, or we see it here and hand p (or another
  // free task) to the oldest callable waiting.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (backlog_.waiting(k) != 0) {
    std::lock_guard<std::mutex> g(backlog_.lock());
    drain_locked(k);
  }
}

// --- the backlog (pool_backlog.hpp) --------------------------------------------------

result<pool::job> pool::submit_backlogged(switcher_kind k, const call_options& o, void* src,
                                          const detail::callable_ops* ops) noexcept {
  std::lock_guard<std::mutex> g(backlog_.lock());
  backlog_.announce(k);  // before any look at the free list: see recycle()
  std::atomic_thread_fence(std::memory_order_seq_cst);
  drain_locked(k);  // free tasks go to the callables that waited first
  if (!backlog_.queued(k)) {
    auto got = take_task(k);
    if (!got || *got) backlog_.retract(k);
    if (!got) return failure(got.error());
    if (*got) {
      ops->install(src, *(*got)->t);
      return submit_pooled(**got, o, true);
    }
  }
  auto j = backlog_.push(k, o.cpu, o.io, src, ops);  // keeps the announcement as its count
  if (!j) {
    backlog_.retract(k);
    return failure(j.error());
  }
  wd_->hold(1);
  return job(**j);
}

void pool::drain_locked(switcher_kind k) noexcept {
  while (backlog_.queued(k)) {
    auto got = take_task(k);
    if (!got || !*got) return;  // none free: the next completion of kind k drains
    install(**got, *backlog_.pop(k));
  }
}

void pool::install(pooled& p, detail::backlog_job& j) noexcept {
  j.ops->install(j.callable, *p.t);
  j.ops->destroy(j.callable);
  p.job = &j;
  j.st = detail::backlog_job::state::installed;
  j.t = p.t.get();
  p.t->set_cpu_priority(j.cpu);
  p.t->set_io_priority(j.io);
  // (If a worker runs it to completion at once, its recycle() waits for
  // this lock: j is complete before it is released.)
  auto n = wd_->submit_held(*p.t, pooled_channel_);
  if (n) {
    j.submission = *n;
    return;
  }
  // The dispatcher refused (ENOMEM growing its queue): the callable ends
  // unrun, as a cancelled one does, and says so.
  std::fprintf(stderr, "prio: pool: a callable from the backlog could not be queued (%s); dropped\n",
               n.error().message().c_str());
  p.job = nullptr;
  backlog_.release(j);
  unused(p, true);
  wd_->drop_held(1);
}

result<void> pool::cancel_held(const job& j) noexcept {
  detail::backlog_job& b = *j.held_;
  if (b.owner != &backlog_) return failure(errno_error(EINVAL));  // another pool's
  std::unique_lock<std::mutex> g(backlog_.lock());
  if (b.st == detail::backlog_job::state::free || b.seq != j.submission_) return failure(errno_error(EINVAL));
  if (b.st == detail::backlog_job::state::queued) {
    backlog_.withdraw(b);
    g.unlock();
    wd_->drop_held(1);
    return success();
  }
  task* const t = b.t;
  const std::uint64_t n = b.submission;
  g.unlock();
  return wd_->cancel(*t, n);  // EINVAL once that run has completed
}

result<std::size_t> pool::cancel_all() noexcept {
  // The backlog first: a callable that leaves it is installed under its
  // lock, so one submitted before this call is either withdrawn here or
  // queued in the dispatcher already, where cancel_all() reaches it.
  std::size_t n;
  {
    std::lock_guard<std::mutex> g(backlog_.lock());
    n = backlog_.withdraw_all();
  }
  wd_->drop_held(n);
  auto r = wd_->cancel_all();
  if (!r) return failure(r.error());
  return *r + n;
}

std::size_t pool::backlogged() noexcept {
  std::lock_guard<std::mutex> g(backlog_.lock());
  return backlog_.queued_jobs();
}

std::size_t pool::pooled_tasks() const noexcept {
  std::lock_guard<std::mutex> g(start_mutex_);
  return all_.size();
}

}  // namespace prio
