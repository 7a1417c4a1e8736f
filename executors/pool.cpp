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

result<pool::pooled*> pool::get_task(switcher_kind k) noexcept {
  if (k == switcher_kind::coroutine || static_cast<int>(k) >= switcher_kind_count)
    return failure(errno_error(EINVAL));
  free_list& fl = free_[static_cast<int>(k)];
  fl.pop_lock.lock();
  pooled* p = fl.q.pop();
  fl.pop_lock.unlock();
  if (p) return p;
  return new_task(k);  // every pooled task of this kind is busy: the slow path
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

result<pool::job> pool::submit_pooled(pooled& p, const call_options& o) noexcept {
  p.t->set_cpu_priority(o.cpu);
  p.t->set_io_priority(o.io);
  task* const t = p.t.get();  // p may be recycled and reused as soon as it is submitted
  auto n = wd_->submit_numbered(*t, &pooled_channel_);
  if (!n) {
    recycle(*t, this);
    return failure(n.error());
  }
  return job(t, *n);
}

void pool::recycle(task& t, void* self) noexcept {
  auto* p = static_cast<pooled*>(t.user_ptr());
  t.set_body(static_cast<task_fn>(nullptr), p);  // destroy the callable now, not at reuse
  static_cast<pool*>(self)->free_[static_cast<int>(t.switcher())].q.push(*p);
}

std::size_t pool::pooled_tasks() const noexcept {
  std::lock_guard<std::mutex> g(start_mutex_);
  return all_.size();
}

}  // namespace prio
