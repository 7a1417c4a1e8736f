// work_dispatcher.cpp: the dispatcher's queues, hand-off to sleepers, wait,
// quit and close. The worker's loop is in work_dispatcher_worker.cpp.
//
// One spinlock guards the three priority FIFOs and the worker/sleeper lists;
// it is held for a few pointer moves, never across a syscall. Counters that
// waiters read (queued, submitted, executed) are atomics so the fast paths
// of wait() and of idle workers take no lock. queued_ counts the tasks in
// the FIFOs that nobody has claimed: a taker claims with a CAS on it, then
// pops under the lock (the FIFOs hold at least every claimed task).
#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>

#include "prio/executors/work_dispatcher.hpp"

namespace prio {

namespace {
constexpr std::size_t max_handoffs = 16;  // sleepers woken by one call

// task::dispatch_word_: bits 0-1 how far the submission got, bit 2 a
// cancel() that came while it was queued or taken (the attacher acts on
// it), bits 3.. the submission's number (task::submit_seq_) while queued or
// taken, the run number once it runs. Queued -> taken changes under the
// lock; taken -> running is the attacher's CAS (no lock), against
// cancel()'s CAS that sets the mark: the submission number keeps a later
// submission's "taken" from looking like this one's.
constexpr std::uint64_t sub_none = 0, sub_queued = 1, sub_taken = 2, sub_running = 3;
constexpr std::uint64_t sub_state = 3, sub_cancel = 4;
constexpr unsigned sub_run_shift = 3;
}  // namespace

namespace detail {
bool task_fifo::reserve(std::size_t n) noexcept {
  const std::uint64_t need = tail_ - head_ + n;  // holes take room too
  const std::uint64_t cap = slots_ ? mask_ + 1 : 0;
  if (need <= cap) return true;
  std::uint64_t new_cap = cap ? cap : 256;
  while (new_cap < need) new_cap *= 2;
  std::unique_ptr<task*[]> s(new (std::nothrow) task*[new_cap]);
  if (!s) return false;
  // Same positions in the new ring: those the waiting tasks hold stay valid.
  for (std::uint64_t i = head_; i != tail_; ++i) s[i & (new_cap - 1)] = slots_[i & mask_];
  slots_ = std::move(s);
  mask_ = new_cap - 1;
  return true;
}

task* task_fifo::pop() noexcept {
  task* t = slots_[head_++ & mask_];
  trim();  // a hole after it goes now: the next pop finds a task first
  return t;
}

bool task_fifo::remove(task* t, std::uint64_t pos) noexcept {
  if (pos < head_ || pos >= tail_ || slots_[pos & mask_] != t) return false;
  slots_[pos & mask_] = nullptr;
  ++holes_;
  trim();
  return true;
}

void task_fifo::trim() noexcept {
  while (holes_ != 0 && head_ != tail_ && !slots_[head_ & mask_]) {
    ++head_;
    --holes_;
  }
  while (holes_ != 0 && head_ != tail_ && !slots_[(tail_ - 1) & mask_]) {
    --tail_;
    --holes_;
  }
}
}  // namespace detail

result<std::unique_ptr<work_dispatcher>> work_dispatcher::create(const work_dispatcher_options& o) noexcept {
  std::unique_ptr<work_dispatcher> wd(new (std::nothrow) work_dispatcher(o));
  if (!wd) return failure(errno_error(ENOMEM));
  for (auto& q : wd->queues_)
    if (!q.reserve(1024)) return failure(errno_error(ENOMEM));
  return wd;
}

work_dispatcher::~work_dispatcher() {
  if (closed_) return;
  if (close()) return;
  lock_.lock();
  const std::size_t workers = workers_.size(), queued = queued_.load();
  std::fprintf(stderr,
               "prio: work_dispatcher destroyed with %zu executor(s) registered and %zu task(s) "
               "never dispatched; quit() and wait() before destroying it\n",
               workers, queued);
  if (workers != 0) std::abort();  // their threads still use this object
  for (auto& q : queues_)
    while (q.size() != 0) {
      task* t = q.pop();
      t->set_on_complete(nullptr, nullptr);
      forget_submission(*t);
    }
  lock_.unlock();
}

result<std::uint64_t> work_dispatcher::submit_numbered(task& t, const channel* ch) noexcept {
  task* p = &t;
  std::uint64_t n = 0;
  PRIO_TRY(submit_tasks(std::span<task* const>(&p, 1), ch ? *ch : default_channel_, &n));
  return n;
}

void work_dispatcher::hold(std::size_t n) noexcept {
  held_.fetch_add(n, std::memory_order_seq_cst);
  submitted_.fetch_add(n, std::memory_order_seq_cst);
}

result<std::uint64_t> work_dispatcher::submit_held(task& t, const channel& ch) noexcept {
  task* p = &t;
  std::uint64_t n = 0;
  PRIO_TRY(submit_tasks(std::span<task* const>(&p, 1), ch, &n, true));
  return n;
}

void work_dispatcher::drop_held(std::size_t n) noexcept {
  if (n == 0) return;
  held_.fetch_sub(n, std::memory_order_seq_cst);
  cancelled_.fetch_add(n, std::memory_order_relaxed);
  note_executed(n);
}

result<void> work_dispatcher::submit_tasks(std::span<task* const> tasks, const channel& ch,
                                           std::uint64_t* numbers, bool held) noexcept {
  if (ch.wd != this) return failure(errno_error(EINVAL));
  for (task* t : tasks) {
    if (!t) return failure(errno_error(EINVAL));
    const task_state s = t->state();
    if (s != task_state::idle && s != task_state::completed) return failure(errc::task_busy);
    // Submitted already (queued, or taken and not attached yet).
    if (t->dispatcher_.load(std::memory_order_acquire) != nullptr) return failure(errc::task_busy);
  }
  if (tasks.empty()) return success();
  std::size_t need[priority_count] = {};
  for (task* t : tasks) ++need[index(t->cpu_priority())];

  // Hand-offs: (worker, task) pairs attached after the lock is released.
  dispatch_worker* to_w[max_handoffs];
  task* to_t[max_handoffs];

  lock_.lock();
  if (closed_) {
    lock_.unlock();
    return failure(errc::executor_closed);
  }
  for (int i = 0; i < priority_count; ++i) {
    if (need[i] && !queues_[i].reserve(need[i])) {
      lock_.unlock();
      return failure(errno_error(ENOMEM));
    }
  }
  for (task* t : tasks) {
    t->set_on_complete(&work_dispatcher::task_completed, const_cast<channel*>(&ch));
    t->queue_level_ = index(t->cpu_priority());
    t->queue_pos_ = queues_[t->queue_level_].push(t);
    const std::uint64_t seq = t->submit_seq_.load(std::memory_order_relaxed) + 1;
    t->submit_seq_.store(seq, std::memory_order_release);
    t->dispatch_word_.store(sub_queued | (seq << sub_run_shift), std::memory_order_release);
    t->dispatcher_.store(this, std::memory_order_release);
    if (numbers) *numbers++ = seq;
  }
  if (!held) submitted_.fetch_add(tasks.size(), std::memory_order_seq_cst);
  queued_.fetch_add(tasks.size(), std::memory_order_seq_cst);  // after the pushes: see claim()
  if (held) held_.fetch_sub(tasks.size(), std::memory_order_seq_cst);  // after: never both uncounted
  const std::size_t handoffs = pick_sleepers(to_w, to_t, max_handoffs);
  lock_.unlock();
  deliver(to_w, to_t, handoffs);
  return success();
}

std::size_t work_dispatcher::pick_sleepers(dispatch_worker** to_w, task** to_t, std::size_t max) noexcept {
  // One task per sleeper, highest priority first: a sleeper that is handed
  // its work directly needs no second trip through the lock. Only tasks the
  // spinning workers leave over go to sleepers: a spinner starts a task in
  // a fraction of a microsecond, a sleeper's wake-up takes several. A worker
  // counted in spinning_ checks queued_ again when it stops counting
  // (stop_spinning(): it takes these tasks or hands them to sleepers).
  std::size_t n = 0;
  while (!sleepers_.empty() && n < max &&
         more_than_spinners_take() && claim(1) != 0) {
    dispatch_worker* w = sleepers_.back();
    sleepers_.pop_back();
    w->mode_.store(dispatch_worker::mode::busy, std::memory_order_relaxed);
    to_w[n] = w;
    pop_claimed(&to_t[n], 1);
    w->outstanding_.fetch_add(1, std::memory_order_relaxed);
    w->attaching_.fetch_add(1, std::memory_order_relaxed);
    ++n;
  }
  return n;
}

void work_dispatcher::deliver(dispatch_worker** to_w, task** to_t, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    dispatch_worker& w = *to_w[i];
    if (auto r = attach_taken(*w.ex_, *to_t[i]); !r) {
      // Cannot happen for a task that passed submit()'s checks unless the
      // caller attached it elsewhere meanwhile; count it as done.
      std::fprintf(stderr, "prio: work_dispatcher: hand-off failed: %s\n", r.error().message().c_str());
      w.outstanding_.fetch_sub(1, std::memory_order_relaxed);
      note_executed(1);
    }
    w.attaching_.fetch_sub(1, std::memory_order_release);
  }
  if (n) handoffs_.fetch_add(n, std::memory_order_relaxed);
}

void work_dispatcher::stop_spinning() noexcept {
  spinning_.fetch_sub(1, std::memory_order_seq_cst);
  // A submit that still counted this worker may have left it tasks, and it
  // will not take them now: it runs what it found (perhaps for long),
  // quits, or failed. Whatever the remaining spinners cannot take goes to
  // sleepers. (seq_cst against pick_sleepers(): its queued_ increment comes
  // before its spinning_ read, our decrement before our queued_ read, so
  // one of the two sees the other.)
  if (!more_than_spinners_take()) return;
  dispatch_worker* to_w[max_handoffs];
  task* to_t[max_handoffs];
  lock_.lock();
  const std::size_t n = pick_sleepers(to_w, to_t, max_handoffs);
  lock_.unlock();
  deliver(to_w, to_t, n);
}

std::size_t work_dispatcher::claim(std::size_t max) noexcept {
  std::size_t q = queued_.load(std::memory_order_relaxed), n;
  do {
    if (q == 0) return 0;
    // A share when many wait (so idle workers get the rest), else one.
    const std::size_t share = q / (2 * std::max<std::size_t>(worker_count_.load(std::memory_order_relaxed), 1));
    n = std::min(max, std::max<std::size_t>(share, 1));
  } while (!queued_.compare_exchange_weak(q, q - n, std::memory_order_seq_cst, std::memory_order_relaxed));
  return n;
}

void work_dispatcher::pop_claimed(task** out, std::size_t n) noexcept {
  // Highest level first: never a lower level's task while a higher one waits.
  for (int lvl = 0; n != 0 && lvl < priority_count; ++lvl)
    for (auto& q = queues_[lvl]; n != 0 && q.size() != 0; --n) {
      task* t = q.pop();
      // Taken, keeping its number and a cancel mark (set under this lock).
      const std::uint64_t w = t->dispatch_word_.load(std::memory_order_relaxed);
      t->dispatch_word_.store((w & ~sub_state) | sub_taken, std::memory_order_release);
      *out++ = t;
    }
  assert(n == 0 && "claimed more tasks than the FIFOs hold");
}

result<void> work_dispatcher::attach_taken(executor& ex, task& t) noexcept {
  // The attach numbers the run one past the last: t is the dispatcher's
  // until it completes, nobody else claims it in between.
  const std::uint64_t run = t.run_id() + 1;
  // Ours until the submission completes, which cannot happen before the attach.
  const work_dispatcher* wd = t.dispatcher_.load(std::memory_order_acquire);
  const std::uint64_t pos = t.queue_pos_;
  const int level = t.queue_level_;
  if (auto r = ex.attach(t); !r) {
    forget_submission(t);
    return r;
  }
  std::uint64_t w = t.dispatch_word_.load(std::memory_order_acquire);
  while ((w & sub_state) == sub_taken) {  // else it has completed already
    if (t.dispatch_word_.compare_exchange_weak(w, sub_running | (run << sub_run_shift),
                                               std::memory_order_acq_rel, std::memory_order_acquire)) {
      // A cancel() came before it ran, or a cancel_all() after it was taken
      // out of the queue: if that call's executor request came before the
      // attach, the executor cancels the run itself; if after (the attach
      // read its generation, and so sees its cancel_end_), it is ours.
      if ((w & sub_cancel) || (wd && pos < wd->cancel_end_[level].load(std::memory_order_acquire)))
        (void)t.cancel(run);
      break;
    }
  }
  return success();
}

void work_dispatcher::forget_submission(task& t) noexcept {
  t.dispatch_word_.store(sub_none, std::memory_order_release);
  t.dispatcher_.store(nullptr, std::memory_order_release);
}

result<void> work_dispatcher::cancel_submission(task& t, std::uint64_t only) noexcept {
  lock_.lock();
  const std::uint64_t seq = t.submit_seq_.load(std::memory_order_relaxed);  // stable under the lock
  if (t.dispatcher_.load(std::memory_order_acquire) != this || (only != 0 && only != seq)) {
    lock_.unlock();
    return failure(errno_error(EINVAL));  // not submitted here, or that submission has completed
  }
  std::uint64_t w = t.dispatch_word_.load(std::memory_order_acquire);
  if ((w & sub_state) == sub_queued) {
    // Withdrawn if a claim on it is free: a taker that has claimed pops
    // whatever waits, so only an unclaimed task may leave. If every waiting
    // task is claimed, one of those takers pops t: it carries the mark.
    if (claim(1) == 0) {
      t.dispatch_word_.store(w | sub_cancel, std::memory_order_relaxed);
      lock_.unlock();
      cancelled_.fetch_add(1, std::memory_order_relaxed);
      return success();
    }
    withdraw_locked(t);
    cancelled_.fetch_add(1, std::memory_order_relaxed);
    return success();
  }
  lock_.unlock();
  // Taken by a worker: mark it unless its attacher has made it running.
  while ((w & sub_state) == sub_taken && (w >> sub_run_shift) == seq) {
    if (t.dispatch_word_.compare_exchange_weak(w, w | sub_cancel, std::memory_order_acq_rel,
                                               std::memory_order_acquire)) {
      cancelled_.fetch_add(1, std::memory_order_relaxed);
      return success();
    }
  }
  // Running: this submission's run, unless it completed and t was submitted
  // again since (that submission numbered itself before its word changed).
  if ((w & sub_state) != sub_running || t.submit_seq_.load(std::memory_order_acquire) != seq)
    return failure(errno_error(EINVAL));  // completed meanwhile
  auto r = t.cancel(w >> sub_run_shift);  // EINVAL if that run has ended
  if (r) cancelled_.fetch_add(1, std::memory_order_relaxed);
  return r;
}

void work_dispatcher::withdraw_locked(task& t) noexcept {
  const bool removed = queues_[t.queue_level_].remove(&t, t.queue_pos_);
  assert(removed && "a queued task is where its submission put it");
  (void)removed;
  const channel& ch = *static_cast<const channel*>(t.on_complete_arg_);
  t.set_on_complete(nullptr, nullptr);
  forget_submission(t);
  lock_.unlock();
  t.finish_unlaunched(errno_error(ECANCELED));
  // The hook first: wait() returning means every hook has run (the caller
  // may free what the hooks use).
  if (ch.on_complete) ch.on_complete(t, ch.arg);
  note_executed(1);
}

result<std::size_t> work_dispatcher::cancel_all() noexcept {
  // The workers to ask, listed under the lock (no allocation there).
  std::vector<dispatch_worker*> ask;
  lock_.lock();
  const std::size_t registered = workers_.size();
  lock_.unlock();
  try {
    ask.reserve(registered + 16);
  } catch (const std::bad_alloc&) {
    return failure(errno_error(ENOMEM));
  }
  // The queue first: only tasks queued now (a hook may submit again; those
  // are later submissions), one per lock hold so hooks run unlocked. A task
  // that a taker has claimed stays for it, with the mark that cancels it
  // when attached.
  std::size_t withdrawn = 0, marked = 0;
  std::uint64_t end[priority_count];
  lock_.lock();
  for (int i = 0; i < priority_count; ++i) {
    end[i] = queues_[i].end();
    if (cancel_end_[i].load(std::memory_order_relaxed) < end[i]) cancel_end_[i].store(end[i], std::memory_order_release);
  }
  for (;;) {
    task* t = nullptr;
    for (int i = 0; i < priority_count && !t; ++i)
      if (queues_[i].size() != 0 && queues_[i].front()->queue_pos_ < end[i]) t = queues_[i].front();
    if (!t) break;
    if (claim(1) == 0) {  // every task left is claimed
      for (int i = 0; i < priority_count; ++i)
        queues_[i].for_each([&](task& c) {
          const std::uint64_t w = c.dispatch_word_.load(std::memory_order_relaxed);
          if (c.queue_pos_ < end[i] && !(w & sub_cancel)) {
            c.dispatch_word_.store(w | sub_cancel, std::memory_order_relaxed);
            ++marked;
          }
        });
      break;
    }
    withdraw_locked(*t);
    ++withdrawn;
    lock_.lock();
  }
  // Then the workers: whatever a worker took before the sweep above is
  // attached to its executor before that executor next runs, so its next
  // turn (where the request lands) sees it.
  for (dispatch_worker* w : workers_) {
    if (ask.size() == ask.capacity()) break;  // registered since we looked: holds nothing older
    w->attaching_.fetch_add(1, std::memory_order_relaxed);  // keeps w (and its executor) alive
    ask.push_back(w);
  }
  lock_.unlock();
  cancelled_.fetch_add(withdrawn + marked, std::memory_order_relaxed);
  for (dispatch_worker* w : ask) {
    (void)w->ex_->cancel_all();  // executor_closed only while it is destroyed
    w->attaching_.fetch_sub(1, std::memory_order_release);
  }
  return withdrawn;
}

std::size_t work_dispatcher::take(dispatch_worker& w, task** out, std::size_t max) noexcept {
  // Claim first, lock after: only a worker that has won tasks takes the
  // lock. Idle workers polling an almost empty queue used to all take it
  // and find nothing; with 16 of them the convoy cost the submitting thread
  // most of its throughput.
  const std::size_t n = claim(max);
  if (n == 0) return 0;
  lock_.lock();
  pop_claimed(out, n);
  w.outstanding_.fetch_add(n, std::memory_order_relaxed);
  lock_.unlock();
  maybe_notify();
  return n;
}

void work_dispatcher::task_completed(task& t, void* ch_ptr) noexcept {
  const channel& ch = *static_cast<const channel*>(ch_ptr);
  t.set_on_complete(nullptr, nullptr);  // the task is free again
  forget_submission(t);
  // Counted executed only after the hook has run (see withdraw_locked()).
  work_dispatcher* const wd = ch.wd;
  dispatch_worker* const w = dispatch_worker::current();
  if (w) w->outstanding_.fetch_sub(1, std::memory_order_relaxed);
  if (ch.on_complete) ch.on_complete(t, ch.arg);
  if (w)
    ++w->local_executed_;  // published in batches by the worker, after this
  else
    wd->note_executed(1);
}

void work_dispatcher::note_executed(std::size_t n) noexcept {
  executed_.fetch_add(n, std::memory_order_seq_cst);
  maybe_notify();
}

void work_dispatcher::maybe_notify() noexcept {
  if (waiters_.load(std::memory_order_seq_cst) == 0) return;
  const std::uint64_t e = executed_.load(std::memory_order_seq_cst);
  const std::uint64_t s = submitted_.load(std::memory_order_seq_cst);
  if (undispatched_now() <= wake_undispatched_.load(std::memory_order_seq_cst) &&
      s - e <= wake_unexecuted_.load(std::memory_order_seq_cst))
    notify_waiters();
}

void work_dispatcher::notify_waiters() noexcept {
  std::lock_guard<std::mutex> g(wait_mutex_);
  wait_cv_.notify_all();
}

void work_dispatcher::set_wake_thresholds() noexcept {
  std::size_t mu = 0, mx = 0;
  for (auto [a, b] : waiting_) {
    mu = std::max(mu, a);
    mx = std::max(mx, b);
  }
  wake_undispatched_.store(mu, std::memory_order_seq_cst);
  wake_unexecuted_.store(mx, std::memory_order_seq_cst);
}

result<void> work_dispatcher::wait(std::size_t max_undispatched, std::size_t max_unexecuted,
                                   std::chrono::nanoseconds timeout) noexcept {
  if (dispatch_worker::current()) return failure(errno_error(EDEADLK));
  const auto deadline = detail::deadline_after(timeout);  // absolute: retries do not extend it
  const bool bounded = deadline != std::chrono::steady_clock::time_point::max();
  auto done = [&] {
    const std::uint64_t e = executed_.load(std::memory_order_seq_cst);  // before submitted_
    const std::uint64_t s = submitted_.load(std::memory_order_seq_cst);
    return undispatched_now() <= max_undispatched && s - e <= max_unexecuted;
  };
  if (done()) return success();
  std::unique_lock<std::mutex> lk(wait_mutex_);
  try {
    waiting_.emplace_back(max_undispatched, max_unexecuted);
  } catch (const std::bad_alloc&) {
    return failure(errno_error(ENOMEM));
  }
  set_wake_thresholds();
  waiters_.fetch_add(1, std::memory_order_seq_cst);
  bool ok = true;
  while (!done()) {
    if (!bounded) {
      wait_cv_.wait(lk);
    } else if (wait_cv_.wait_until(lk, deadline) == std::cv_status::timeout) {
      ok = done();
      break;
    }
  }
  waiters_.fetch_sub(1, std::memory_order_relaxed);
  waiting_.erase(std::find(waiting_.begin(), waiting_.end(), std::make_pair(max_undispatched, max_unexecuted)));
  set_wake_thresholds();
  if (!ok) return failure(errno_error(ETIME));
  return success();
}

work_dispatcher_stats work_dispatcher::stats() const noexcept {
  work_dispatcher_stats s;
  s.executed = executed_.load();
  s.submitted = submitted_.load();
  s.undispatched = undispatched_now();
  s.held = held_.load();
  s.unexecuted = s.submitted - s.executed;
  s.handoffs = handoffs_.load();
  s.cancelled = cancelled_.load();
  lock_.lock();
  s.executors = workers_.size();
  s.sleeping = sleepers_.size();
  s.quit = quit_asked_;
  s.sleeps = sleeps_;
  lock_.unlock();
  return s;
}

std::size_t work_dispatcher::undispatched(priority p) const noexcept {
  lock_.lock();
  const std::size_t n = queues_[index(p)].size();
  lock_.unlock();
  return n;
}

result<void> work_dispatcher::close() noexcept {
  lock_.lock();
  const bool busy = !workers_.empty() || undispatched_now() != 0;
  if (!busy) closed_ = true;
  lock_.unlock();
  if (busy) return failure(errno_error(EBUSY));
  return success();
}

}  // namespace prio
