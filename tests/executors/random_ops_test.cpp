// Description: a seeded random mix, on one executor, of everything a task
// does (yield, timers, NOPs, reads that time out, operations abandoned in
// flight, priority changes, computing) in all five switchers, and everything
// done to tasks (attach, re-attach, a refused double attach, cancel from the
// executor's thread and from another, cancel_all, priority changes from
// outside, run() with every kind of limit), on rings small enough that tasks
// wait for submission slots. Each run must end exactly once, with its
// script's value or, only if it was cancelled, ECANCELED; nothing may hang;
// the counts must add up. A failure names its seed.
#include <liburing.h>

#include <atomic>
#include <random>
#include <thread>

#include "exec_helpers.hpp"
#include "prio/io/nop.hpp"

namespace prio::test {
namespace {

constexpr int driver_steps = 20000;    // the executor thread's actions per seed
constexpr int remote_attaches = 1500;  // the other thread's

enum class step : std::uint8_t {
  yield, sleep, nop, nop_timeout, read_timeout, two_nops, abandon, any_timeout, cpu, io, spin, misuse, cancel_self, count
};

// cancel_all_epoch: odd while a cancel_all() is under way, one more at its
// start and at its end. A run recorded at epoch e before its attach may end
// in ECANCELED through cancel_all if the epoch has moved since, or is odd.
std::atomic<std::uint64_t> cancel_all_epoch{0};

struct actor {
  std::unique_ptr<task> t;
  std::uint64_t seed = 0;
  int index = 0;
  bool remote = false;                        // attached and checked by the remote thread
  std::atomic<std::uint64_t> cancelled_run{0};  // a cancel was aimed at this run
  std::uint64_t epoch_at_attach = 0;          // written by the attacher, before attach
  int attaches = 0;                           // by the attacher
  int completions = 0;                        // executor's thread (on_complete)
  int checked = 0;                            // outcomes checked by the attacher
  int pipe_fd = -1;                           // a read end nothing is ever written to
};

// The script of one run: its steps follow from the seed and the run's number,
// so the body and whoever checks the outcome agree on it.
std::mt19937_64 run_rng(const actor& a, std::uint64_t run) {
  std::seed_seq s{a.seed, static_cast<std::uint64_t>(a.index), run};
  return std::mt19937_64(s);
}
int script_length(std::mt19937_64& rng) { return static_cast<int>(rng() % 11); }
step pick(std::mt19937_64& rng) {
  const auto s = static_cast<step>(rng() % static_cast<unsigned>(step::count));
  return s == step::cancel_self && rng() % 4 != 0 ? step::spin : s;  // rarer: it ends the run
}
std::chrono::nanoseconds small_delay(std::mt19937_64& rng) { return std::chrono::microseconds(rng() % 60); }
priority any_priority(std::mt19937_64& rng) { return static_cast<priority>(rng() % 3); }

struct prep_read_pipe {
  int fd;
  char* buf;
  void operator()(io_uring_sqe* sqe) const noexcept { io_uring_prep_read(sqe, fd, buf, 1, 0); }
};

bool is(const std::error_code& e, int errno_value) { return e == std::error_code(errno_value, std::system_category()); }

// waits(): the steps that suspend (or submit); once a run is cancelled each
// of them must fail with ECANCELED.
bool waits(step s) { return s < step::cpu; }

// after_cancel(): a waiting step that began in a cancelled run failed with
// ECANCELED.
void after_cancel(step s, const result<void>& r) {
  if (!waits(s)) return;
  EXPECT_TRUE(!r && is(r.error(), ECANCELED)) << "step " << int(s) << " in a cancelled run returned "
                                               << (r ? std::string("success") : r.error().message());
}

// a cancel that came while the task slept or waited to be resumed ends
// that wait with ECANCELED (the executor's thread cancels only between
// slices, so it never finds the task running).
void cancel_not_lost(task& self, step s, bool cancelled_before, const result<void>& r) {
  if (cancelled_before || !self.cancel_requested() || (s != step::yield && s != step::sleep)) return;
  EXPECT_FALSE(r) << "a cancel during step " << int(s) << " was lost: the wait succeeded";
}

// any_outcome(): suspend_until_completed_io() with only a read of the empty
// pipe in flight: ETIME, or ECANCELED in a cancelled run.
result<void> any_outcome(task& self, const result<io_status*>& v, const io_status& st) {
  if (!v) return failure(v.error());
  EXPECT_EQ(*v, &st);
  EXPECT_TRUE(self.cancel_requested() && st.res == -ECANCELED) << "the read of an empty pipe completed: " << st.res;
  return failure(errno_error(ECANCELED));
}

// allowed(): whether the body goes on after a step's error: after ETIME
// where a timeout is the expected end, after ECANCELED (only in a cancelled
// run) if keep_going, the body's choice.
bool allowed(task& self, step s, const std::error_code& e, bool keep_going) {
  if (is(e, ECANCELED)) {
    EXPECT_TRUE(self.cancel_requested()) << "ECANCELED in a run nobody cancelled, step " << int(s);
    return keep_going;  // a body that cleans up goes on; its waits keep failing
  }
  if ((s == step::read_timeout || s == step::nop_timeout || s == step::any_timeout) && is(e, ETIME)) return true;
  ADD_FAILURE() << "step " << int(s) << " failed: " << e.message();
  return false;
}

// misuse(): what a body may not do is refused: running its own executor
// from inside a task, attaching itself again.
void misuse(task& self) {
  executor& ex = *self.current_executor();
  auto r = ex.run(1, 0ns);
  EXPECT_FALSE(r);
  if (!r) {
    EXPECT_EQ(r.error(), std::errc::resource_deadlock_would_occur) << r.error().message();
  }
  auto a = ex.attach(self);
  EXPECT_FALSE(a);
  if (!a) {
    EXPECT_EQ(a.error(), errc::task_busy) << a.error().message();
  }
}

// cancel_self(): a body cancels its own run; its next wait fails.
void cancel_self(task& self, actor& a) {
  a.cancelled_run.store(self.run_id(), std::memory_order_release);
  auto r = self.cancel();
  EXPECT_TRUE(r) << "a task cancelling itself: " << r.error().message();
  EXPECT_TRUE(self.cancel_requested());
}

void spin(std::mt19937_64& rng) {
  volatile std::uint64_t x = rng();
  for (int i = 0; i < 200; ++i) x = x * 6364136223846793005ull + 1;
}

// other_step(): the steps that do not wait, the same in every body.
void other_step(task& self, actor& a, step s, std::mt19937_64& rng) {
  switch (s) {
    case step::cpu: self.set_cpu_priority(any_priority(rng)); break;
    case step::io: self.set_io_priority(any_priority(rng)); break;
    case step::spin: spin(rng); break;
    case step::misuse: misuse(self); break;
    case step::cancel_self: cancel_self(self, a); break;
    default: ADD_FAILURE() << "step " << int(s) << " is a wait"; break;
  }
}

// ends_body(): the checks after a step (`cancelled`: the run was cancelled
// before it began); whether the body returns r's error now.
bool ends_body(task& self, step s, bool cancelled, const result<void>& r, bool keep_going) {
  if (cancelled) after_cancel(s, r);
  cancel_not_lost(self, s, cancelled, r);
  return !r && !allowed(self, s, r.error(), keep_going);
}

result<std::int64_t> stackful_body(task& self, actor& a) {
  auto rng = run_rng(a, self.run_id());
  const int n = script_length(rng);
  char buf[2];
  for (int i = 0; i < n; ++i) {
    const step s = pick(rng);
    const bool cancelled = self.cancel_requested();
    result<void> r = success();
    switch (s) {
      case step::yield: r = self.yield(); break;
      case step::sleep: r = self.suspend_for(small_delay(rng)); break;
      case step::nop:
        if (auto v = nop(self); !v) r = failure(v.error());
        break;
      case step::nop_timeout:
        if (auto v = perform(self, detail::prep_nop{}, std::chrono::milliseconds(50)); !v) r = failure(v.error());
        break;
      case step::read_timeout: {
        auto v = perform(self, prep_read_pipe{a.pipe_fd, buf}, small_delay(rng) + std::chrono::microseconds(5));
        EXPECT_FALSE(v) << "a read of an empty pipe returned " << *v;
        if (!v) r = failure(v.error());
        break;
      }
      case step::two_nops: {  // wait for one, leave the other to its record's end
        io_status x, y;
        r = initiate_nop(self, x);
        if (r) r = initiate_nop(self, y);
        if (r) r = wait_io(self, x);
        break;
      }
      case step::abandon: {  // a read in flight when its record goes away
        io_status st;
        r = initiate(self, st, prep_read_pipe{a.pipe_fd, buf});
        break;
      }
      case step::any_timeout: {
        io_status st;
        r = initiate(self, st, prep_read_pipe{a.pipe_fd, buf});
        if (r) r = any_outcome(self, self.suspend_until_completed_io(small_delay(rng)), st);
        break;
      }
      default: other_step(self, a, s, rng); break;
    }
    if (ends_body(self, s, cancelled, r, i % 3 == 1)) return failure(r.error());
  }
  return std::int64_t{n};
}

co<result<std::int64_t>> coroutine_body(task& self, actor& a) {
  auto rng = run_rng(a, self.run_id());
  const int n = script_length(rng);
  char buf[2];
  for (int i = 0; i < n; ++i) {
    const step s = pick(rng);
    const bool cancelled = self.cancel_requested();
    result<void> r = success();
    switch (s) {
      case step::yield: r = co_await self.async_yield(); break;
      case step::sleep: r = co_await self.async_suspend_for(small_delay(rng)); break;
      case step::nop:
        if (auto v = co_await async_nop(self); !v) r = failure(v.error());
        break;
      case step::nop_timeout:
        if (auto v = co_await async_perform(self, detail::prep_nop{}, std::chrono::milliseconds(50)); !v)
          r = failure(v.error());
        break;
      case step::read_timeout: {
        auto v = co_await async_perform(self, prep_read_pipe{a.pipe_fd, buf},
                                        small_delay(rng) + std::chrono::microseconds(5));
        EXPECT_FALSE(v) << "a read of an empty pipe returned " << *v;
        if (!v) r = failure(v.error());
        break;
      }
      case step::two_nops: {
        io_status x, y;
        r = co_await async_initiate_nop(self, x);
        if (r) r = co_await async_initiate_nop(self, y);
        if (r) r = co_await async_wait_io(self, x);
        break;
      }
      case step::abandon: {
        io_status st;
        r = co_await async_initiate(self, st, prep_read_pipe{a.pipe_fd, buf});
        break;
      }
      case step::any_timeout: {
        io_status st;
        r = co_await async_initiate(self, st, prep_read_pipe{a.pipe_fd, buf});
        if (r) r = any_outcome(self, co_await self.async_completed_io(small_delay(rng)), st);
        break;
      }
      default: other_step(self, a, s, rng); break;
    }
    if (ends_body(self, s, cancelled, r, i % 3 == 1)) co_return failure(r.error());
  }
  co_return std::int64_t{n};
}

// A task that cannot suspend computes (on the executor's own stack); a
// wait is refused, not performed.
result<std::int64_t> none_body(task& self, actor& a) {
  auto rng = run_rng(a, self.run_id());
  const int n = script_length(rng);
  for (int i = 0; i < n; ++i) spin(rng);
  misuse(self);
  auto v = nop(self);
  EXPECT_FALSE(v);
  if (!v) {
    EXPECT_EQ(v.error(), errc::cannot_suspend) << v.error().message();
  }
  return std::int64_t{n};
}

// check_outcome(): the run that just ended (run number `run`) returned its
// script's length, or ECANCELED because a cancel was aimed at it.
void check_outcome(actor& a, std::uint64_t run) {
  ++a.checked;
  const auto& o = a.t->outcome();
  auto rng = run_rng(a, run);
  const int n = script_length(rng);
  if (o) {
    EXPECT_EQ(*o, n) << "actor " << a.index << " run " << run;
    return;
  }
  ASSERT_TRUE(is_cancelled(o)) << "actor " << a.index << " run " << run << ": " << o.error().message();
  const std::uint64_t e = cancel_all_epoch.load(std::memory_order_acquire);
  const bool by_cancel_all = e != a.epoch_at_attach || (e & 1) != 0;
  EXPECT_TRUE(a.cancelled_run.load(std::memory_order_acquire) == run || by_cancel_all)
      << "actor " << a.index << " run " << run << " ended ECANCELED; no cancel was aimed at it";
}

void on_complete(task& t, void* arg) {
  auto& a = *static_cast<actor*>(arg);
  ++a.completions;
  // The state is published before this call, so the remote thread may have
  // attached its task again by now; a local task is still as it ended.
  if (a.remote) return;
  EXPECT_EQ(t.state(), task_state::completed);
  check_outcome(a, t.run_id());
}

void attach_again(executor& ex, actor& a) {
  a.epoch_at_attach = cancel_all_epoch.load(std::memory_order_acquire);
  auto r = ex.attach(*a.t);
  ASSERT_TRUE(r) << "attach: " << r.error().message();
  ++a.attaches;
}

struct RandomOps : ::testing::TestWithParam<std::uint64_t> {};

TEST_P(RandomOps, EveryRunEndsOnceWithItsValueOrCancelled) {
  const std::uint64_t seed = GetParam();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  executor_options o;
  const unsigned entries[] = {4, 8, 256};
  o.ring_entries = entries[rng() % 3];
  o.low_priority_io_cap = rng() % 2 ? 2 : 0;
  o.track_task_time = rng() % 4 != 0;
  auto ex = make_executor(o);
  ASSERT_TRUE(ex);
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));  // bind to this thread
  test_pipe p;
  ASSERT_TRUE(p.ok());

  const switcher_kind kinds[] = {switcher_kind::none, switcher_kind::sjlj, switcher_kind::ucontext,
                                 switcher_kind::asm_switch, switcher_kind::coroutine};
  constexpr int local_count = 30, remote_count = 8;
  std::vector<std::unique_ptr<actor>> actors;
  for (int i = 0; i < local_count + remote_count; ++i) {
    auto a = std::make_unique<actor>();
    a->seed = seed;
    a->index = i;
    a->remote = i >= local_count;
    a->pipe_fd = p.read_end();
    const switcher_kind k = kinds[rng() % 5];
    a->t = make_task(k, any_priority(rng), any_priority(rng));
    ASSERT_TRUE(a->t);
    actor* ap = a.get();
    if (k == switcher_kind::coroutine)
      a->t->set_body([ap](task& self) -> co<result<std::int64_t>> { return coroutine_body(self, *ap); });
    else if (k == switcher_kind::none)
      a->t->set_body([ap](task& self) { return none_body(self, *ap); });
    else
      a->t->set_body([ap](task& self) { return stackful_body(self, *ap); });
    a->t->set_on_complete(&on_complete, ap);
    actors.push_back(std::move(a));
  }

  // The remote thread attaches its actors again as they complete (checking
  // each outcome first) and cancels their runs now and then.
  std::atomic<bool> remote_done{false}, stop{false};
  std::thread remote([&] {
    std::mt19937_64 r(seed ^ 0x9e3779b97f4a7c15ull);
    int attaches = 0;
    while (attaches < remote_attaches && !stop.load(std::memory_order_relaxed)) {
      actor& a = *actors[local_count + r() % remote_count];
      if (a.t->state() == task_state::completed || a.t->state() == task_state::idle) {
        if (a.attaches > 0) check_outcome(a, a.t->run_id());
        attach_again(*ex, a);
        ++attaches;
      } else if (r() % 4 == 0) {
        const std::uint64_t run = a.t->run_id();
        a.cancelled_run.store(run, std::memory_order_release);
        (void)a.t->cancel(run);  // EINVAL if that run ended meanwhile
      } else {
        std::this_thread::yield();
      }
    }
    remote_done.store(true, std::memory_order_release);
    ex->wake();  // the executor may be asleep in the loop below
  });
  struct joiner {  // a failed assertion below still stops and joins it
    std::atomic<bool>& stop;
    std::thread& t;
    ~joiner() {
      stop.store(true, std::memory_order_relaxed);
      if (t.joinable()) t.join();
    }
  } join_remote{stop, remote};

  int cancel_alls = 0;
  for (int i = 0; i < driver_steps; ++i) {
    actor& a = *actors[rng() % local_count];
    const task_state s = a.t->state();
    const bool attached = s != task_state::completed && s != task_state::idle;
    switch (rng() % 12) {
      case 0:
      case 1:
      case 2: {
        auto r = ex->run(1 + rng() % 8, 0ns);
        if (!r) {
          ASSERT_EQ(r.error(), std::errc::stream_timeout) << r.error().message();
        }
        break;
      }
      case 3: {
        auto r = ex->run(SIZE_MAX, rng() % 2 ? 0ns : 200us);
        if (!r) {
          ASSERT_EQ(r.error(), std::errc::stream_timeout) << r.error().message();
        }
        break;
      }
      case 4:
      case 5:
      case 6:
        if (!attached) attach_again(*ex, a);
        break;
      case 7:
        if (attached) {  // a second attach is refused and changes nothing
          auto r = ex->attach(*a.t);
          ASSERT_FALSE(r);
          EXPECT_EQ(r.error(), errc::task_busy);
        }
        break;
      case 8:
      case 9:
        if (attached) {
          a.cancelled_run.store(a.t->run_id(), std::memory_order_release);
          auto r = a.t->cancel();
          EXPECT_TRUE(r) << "cancel of an attached task: " << r.error().message();
        }
        break;
      case 10:
        a.t->set_cpu_priority(any_priority(rng));
        a.t->set_io_priority(any_priority(rng));
        break;
      case 11:
        if (rng() % 50 == 0) {
          cancel_all_epoch.fetch_add(1, std::memory_order_acq_rel);
          EXPECT_TRUE(ex->cancel_all());
          cancel_all_epoch.fetch_add(1, std::memory_order_acq_rel);
          ++cancel_alls;
        }
        break;
    }
  }
  // The remote thread's last runs: each run() returns once something
  // happened; ten seconds of nothing while it still waits is a hang.
  while (!remote_done.load(std::memory_order_acquire)) {
    auto r = ex->run(SIZE_MAX, 10s);
    ASSERT_TRUE(r || remote_done.load(std::memory_order_acquire))
        << "the remote thread waits for runs that never end: " << r.error().message();
  }
  remote.join();
  // The end: every run finishes on its own, or (odd seeds) cancel_and_drain()
  // stops them all, after which the executor still runs new work.
  const auto all_done = [&] {
    for (auto& a : actors)
      if (a->attaches > 0 && a->t->state() != task_state::completed) return false;
    return true;
  };
  if (seed % 2 == 0) {
    drive(*ex, all_done);
  } else {
    cancel_all_epoch.fetch_add(1, std::memory_order_acq_rel);
    auto r = ex->cancel_and_drain(10s);
    cancel_all_epoch.fetch_add(1, std::memory_order_acq_rel);
    ASSERT_TRUE(r) << "cancel_and_drain: " << r.error().message();
    ASSERT_TRUE(all_done());
    actor& a = *actors[0];
    attach_again(*ex, a);
    drive(*ex, [&] { return a.t->state() == task_state::completed; });
  }

  std::uint64_t completions = 0;
  for (auto& a : actors) {
    if (a->remote && a->attaches > 0) check_outcome(*a, a->t->run_id());
    EXPECT_EQ(a->completions, a->attaches) << "actor " << a->index;
    EXPECT_EQ(a->checked, a->attaches) << "actor " << a->index;
    EXPECT_EQ(a->t->io_in_flight(), 0u) << "actor " << a->index;
    completions += static_cast<std::uint64_t>(a->completions);
  }
  const executor_stats st = ex->stats();
  EXPECT_EQ(st.completed, completions);
  EXPECT_EQ(st.tasks, 0u);
  EXPECT_LE(st.in_tasks, st.in_run);
  RecordProperty("cancel_alls", cancel_alls);
  RecordProperty("completions", static_cast<int>(completions));
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomOps, ::testing::Values(1, 2, 3, 4, 5, 6, 7, 8));

}  // namespace
}  // namespace prio::test
