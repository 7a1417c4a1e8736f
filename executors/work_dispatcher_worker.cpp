// work_dispatcher_worker.cpp: a pool thread's loop (run local work, take
// dispatched work, spin, sleep), worker registration and quit().
//
// Sleeping happens inside executor::run(): the executor blocks in io_uring
// (or ppoll when compute-only), so completions of its own I/O and timers
// wake it as well as work handed over by the dispatcher. Anything that must
// end a sleep attaches a task to the sleeper's executor, which is the
// executor's own lost-wake-up-free cross-thread path.
#include <liburing.h>

#include <algorithm>
#include <cstdio>

#include "prio/executors/work_dispatcher.hpp"
#include "prio/runtime/spin.hpp"
#include "prio/runtime/tls.hpp"

namespace prio {

namespace {
PRIO_HOT_TLS constinit thread_local dispatch_worker* tl_worker = nullptr;
// Work done between returns from executor::run(): each return submits the
// SQEs the round's tasks prepared, so a high-priority task's I/O waits for
// at most this many lower-priority slices before it reaches the kernel.
constexpr std::size_t round_items = 8;
constexpr std::size_t max_take = 32;
// The idle spin: pure pause loops first, then a sched_yield() every few.
constexpr unsigned pure_spins = 64;
constexpr unsigned yield_every = 8;
}  // namespace

dispatch_worker* dispatch_worker::current() noexcept { return tl_worker; }

dispatch_worker::dispatch_worker(work_dispatcher& wd, std::unique_ptr<executor> ex) noexcept
    : wd_(wd), ex_(std::move(ex)) {}

result<std::unique_ptr<dispatch_worker>> dispatch_worker::create(work_dispatcher& wd,
                                                                 const executor_options& opts) noexcept {
  if (tl_worker) return failure(errno_error(EBUSY));  // one worker per thread
  auto ex = executor::create(opts);
  if (!ex) return failure(ex.error());
  if (auto r = (*ex)->run(SIZE_MAX, std::chrono::nanoseconds(0)); !r && r.error() != std::errc::stream_timeout)
    return failure(r.error());  // binding the ring to this thread failed
  auto nudge = task::create(task_options{switcher_kind::none, priority::high, priority::high, 0, nullptr});
  if (!nudge) return failure(nudge.error());
  std::unique_ptr<dispatch_worker> w(new (std::nothrow) dispatch_worker(wd, std::move(*ex)));
  if (!w) return failure(errno_error(ENOMEM));
  w->nudge_ = std::move(*nudge);
  w->nudge_->set_body([](task&) -> result<std::int64_t> { return std::int64_t{0}; });
  w->nudge_->set_on_complete(
      [](task&, void* self) { static_cast<dispatch_worker*>(self)->nudged_.store(false); }, w.get());
  tl_worker = w.get();
  wd.add_worker(*w);
  return w;
}

dispatch_worker::~dispatch_worker() {
  wd_.remove_worker(*this);
  // Nobody can find this worker any more; let attaches in progress finish.
  while (attaching_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  ex_.reset();  // tasks it still holds complete with executor_closed
  nudge_.reset();
  flush_executed();
  if (tl_worker == this) tl_worker = nullptr;
}

void dispatch_worker::flush_executed() noexcept {
  if (local_executed_ == 0) return;
  wd_.note_executed(local_executed_);
  local_executed_ = 0;
}

result<std::size_t> dispatch_worker::run_local(std::size_t max) noexcept {
  auto r = ex_->run(max, std::chrono::nanoseconds(0));
  if (r) return *r;
  if (r.error() == std::errc::stream_timeout) return std::size_t{0};
  return failure(r.error());
}

bool dispatch_worker::take_some() noexcept {
  task* got[max_take];
  const std::size_t n = wd_.take(*this, got, max_take);
  for (std::size_t i = 0; i < n; ++i) {
    if (auto r = work_dispatcher::attach_taken(*ex_, *got[i]); !r) {
      std::fprintf(stderr, "prio: dispatch_worker: attach failed: %s\n", r.error().message().c_str());
      got[i]->set_on_complete(nullptr, nullptr);
      outstanding_.fetch_sub(1, std::memory_order_relaxed);
      ++local_executed_;
    }
  }
  return n != 0;
}

bool dispatch_worker::may_stop() const noexcept {
  return outstanding_.load(std::memory_order_acquire) == 0 && !nudged_.load(std::memory_order_acquire) &&
         attaching_.load(std::memory_order_acquire) == 0;
}

result<std::size_t> dispatch_worker::run() noexcept {
  if (tl_worker != this) return failure(errc::not_on_executor);
  std::size_t done = 0;
  for (;;) {
    mode_.store(mode::busy, std::memory_order_relaxed);
    set_idle(false);
    auto n = run_local(round_items);
    if (!n) return failure(n.error());
    done += *n;
    if (*n == round_items) {
      // Still busy. run() enters the kernel only when nothing is runnable, so
      // with a DEFER_TASKRUN ring a stream of runnable tasks would hold back
      // completions (and the high-priority tasks waiting for them): collect
      // them once per round.
      if (ex_->has_ring() && ex_->stats().io_in_flight != 0) io_uring_get_events(ex_->ring());
      // Long-running local tasks must not starve the dispatcher's queue:
      // a busy worker still accepts a share of new work once per round,
      // which its executor then orders by priority with the rest.
      // Only when no worker is idle: an idle one takes it sooner, and a busy
      // one would keep it behind its own higher-priority work.
      if (!quit_requested_.load(std::memory_order_relaxed) && wd_.queued_.load(std::memory_order_relaxed) != 0 &&
          wd_.idle_.load(std::memory_order_relaxed) == 0)
        take_some();
      break;
    }
    const bool quitting = quit_requested_.load(std::memory_order_acquire);
    if (!quitting && wd_.queued_.load(std::memory_order_relaxed) != 0 && take_some()) continue;
    flush_executed();
    if (done != 0) break;
    if (quitting) {
      if (may_stop()) {
        set_idle(false);
        wd_.remove_worker(*this);
        return failure(errc::executor_closed);
      }
      // Only an attach in progress (a nudge finishing): it is brief.
      if (outstanding_.load(std::memory_order_acquire) == 0 && !nudged_.load(std::memory_order_acquire)) {
        std::this_thread::yield();
        continue;
      }
      // Its tasks are suspended (I/O, timers): block until one moves.
      if (auto r = ex_->run(SIZE_MAX, forever); r) done += *r;
      continue;
    }
    // Idle: poll the dispatcher (and now and then the ring) for a while.
    mode_.store(mode::spinning, std::memory_order_relaxed);
    set_idle(true);
    wd_.start_spinning();  // before the polls
    const tsc::ticks until = tsc::now() + tsc::from_duration(wd_.spin_before_sleep());
    bool found = false, counted = true;  // counted: in wd_.spinning_
    for (unsigned i = 1; !found; ++i) {
      if (quit_requested_.load(std::memory_order_relaxed)) break;
      if (wd_.queued_.load(std::memory_order_relaxed) != 0 && take_some()) found = true;
      if (!found && i % 16 == 0) {
        // Local work may run for long: not counted as spinning meanwhile
        // (submit() leaves tasks to spinners, see pick_sleepers()).
        wd_.stop_spinning();
        counted = false;
        auto m = run_local(round_items);
        if (!m) return failure(m.error());
        if (*m != 0) {
          done += *m;
          found = true;
          break;
        }
        wd_.start_spinning();
        counted = true;
      }
      if (found || tsc::now() >= until) break;
      // After a short pure spin, give the core away now and then: with more
      // runnable threads than cores (the threads submitting the work among
      // them) a spinning worker would hold a core the submitter needs.
      // sched_yield() returns at once when nothing else wants the core.
      if (i >= pure_spins && i % yield_every == 0)
        std::this_thread::yield();
      else
        cpu_relax();
    }
    if (counted) wd_.stop_spinning();
    if (found || quit_requested_.load(std::memory_order_relaxed)) continue;
    // Sleep until work is handed over, a quit nudges us, or local I/O moves.
    // Then one round, as when busy: the woken worker is still counted idle
    // (busy workers leave the queue to idle ones) until the loop's top, so
    // it must come back there even if what woke it keeps its executor busy.
    if (!wd_.start_sleep(*this)) continue;
    auto r = ex_->run(round_items, forever);
    wd_.end_sleep(*this);
    if (!r) return failure(r.error());
    done += *r;
  }
  flush_executed();
  set_idle(false);
  return done;
}

void dispatch_worker::set_idle(bool idle) noexcept {
  if (idle == idle_counted_) return;
  idle_counted_ = idle;
  wd_.idle_.fetch_add(idle ? 1 : -1, std::memory_order_relaxed);
}

// --- the dispatcher's side -------------------------------------------------------

void work_dispatcher::add_worker(dispatch_worker& w) noexcept {
  lock_.lock();
  workers_.push_back(&w);
  worker_count_.store(workers_.size(), std::memory_order_relaxed);
  // sleepers_ never holds more than workers_: keep push_back allocation-free.
  if (sleepers_.capacity() < workers_.size()) sleepers_.reserve(2 * workers_.size());
  lock_.unlock();
}

void work_dispatcher::remove_worker(dispatch_worker& w) noexcept {
  lock_.lock();
  auto it = std::find(workers_.begin(), workers_.end(), &w);
  const bool found = it != workers_.end();
  if (found) workers_.erase(it);
  worker_count_.store(workers_.size(), std::memory_order_relaxed);
  if (auto s = std::find(sleepers_.begin(), sleepers_.end(), &w); s != sleepers_.end()) sleepers_.erase(s);
  lock_.unlock();
  if (found && w.quit_requested_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> g(wait_mutex_);
    ++quit_done_;
    wait_cv_.notify_all();
  }
}

bool work_dispatcher::start_sleep(dispatch_worker& w) noexcept {
  lock_.lock();
  const bool sleep = queued_.load(std::memory_order_relaxed) == 0 &&
                     !w.quit_requested_.load(std::memory_order_relaxed);
  if (sleep) {
    sleepers_.push_back(&w);  // reserved in add_worker: no allocation here
    ++sleeps_;
    w.mode_.store(dispatch_worker::mode::sleeping, std::memory_order_relaxed);
  }
  lock_.unlock();
  return sleep;
}

void work_dispatcher::end_sleep(dispatch_worker& w) noexcept {
  // Whoever woke us by a hand-off or a quit took us off the list already.
  if (w.mode_.load(std::memory_order_relaxed) != dispatch_worker::mode::sleeping) return;
  lock_.lock();
  if (w.mode_.load(std::memory_order_relaxed) == dispatch_worker::mode::sleeping) {
    sleepers_.erase(std::find(sleepers_.begin(), sleepers_.end(), &w));
    w.mode_.store(dispatch_worker::mode::busy, std::memory_order_relaxed);
  }
  lock_.unlock();
}

void work_dispatcher::nudge(dispatch_worker& w) noexcept {
  bool expected = false;
  if (w.nudged_.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
    if (!w.ex_->attach(*w.nudge_)) w.nudged_.store(false, std::memory_order_release);
  }
}

result<std::size_t> work_dispatcher::quit(std::size_t n, std::chrono::nanoseconds timeout) noexcept {
  if (dispatch_worker::current()) return failure(errno_error(EDEADLK));
  const auto deadline = detail::deadline_after(timeout);
  std::vector<dispatch_worker*> wake;
  std::uint64_t target;
  std::size_t asked = 0;
  lock_.lock();
  const std::size_t registered = workers_.size();
  lock_.unlock();
  wake.reserve(registered + 16);  // no allocation under the lock below
  lock_.lock();
  // Idle ones first: sleepers, then spinners, then the rest (busy ones stop
  // once their local work is done). Only sleeping changes under the lock, so
  // the last pass takes anything not asleep.
  for (auto m : {dispatch_worker::mode::sleeping, dispatch_worker::mode::spinning, dispatch_worker::mode::busy}) {
    for (dispatch_worker* w : workers_) {
      if (asked == n) break;
      const auto wm = w->mode_.load(std::memory_order_relaxed);
      const bool match = m == dispatch_worker::mode::busy ? wm != dispatch_worker::mode::sleeping : wm == m;
      if (w->quit_requested_.load(std::memory_order_relaxed) || !match) continue;
      const bool sleeping = m == dispatch_worker::mode::sleeping;
      if (sleeping && wake.size() == wake.capacity()) continue;  // registered since we looked
      w->quit_requested_.store(true, std::memory_order_release);
      ++asked;
      if (sleeping) {
        sleepers_.erase(std::find(sleepers_.begin(), sleepers_.end(), w));
        w->mode_.store(dispatch_worker::mode::busy, std::memory_order_relaxed);
        w->attaching_.fetch_add(1, std::memory_order_relaxed);
        wake.push_back(w);
      }
    }
  }
  quit_asked_ += asked;
  target = quit_asked_;
  lock_.unlock();
  for (dispatch_worker* w : wake) {
    nudge(*w);
    w->attaching_.fetch_sub(1, std::memory_order_release);
  }
  std::unique_lock<std::mutex> lk(wait_mutex_);
  auto stopped = [&] { return quit_done_ >= target; };
  if (deadline == std::chrono::steady_clock::time_point::max()) {
    wait_cv_.wait(lk, stopped);
  } else if (!wait_cv_.wait_until(lk, deadline, stopped)) {
    return failure(errno_error(ETIME));
  }
  return asked;
}

}  // namespace prio
