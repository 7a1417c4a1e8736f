// Description: cancel() called from a thread other than the task's
// executor's: the request reaches the executor (waking it if it sleeps) and
// cancels the run in every state; a request that loses the race with the
// run's end is dropped (never cancels the next run, never touches a task
// destroyed after its run); the executor's thread sees no data race.
#include <atomic>
#include <thread>

#include "exec_helpers.hpp"
#include "prio/io/nop.hpp"

namespace prio::test {
namespace {

// cancel_from_other_thread() calls t.cancel() on a new thread and returns
// its result.
result<void> cancel_from_other_thread(task& t) {
  result<void> r = success();
  std::thread([&] { r = t.cancel(); }).join();
  return r;
}

// A sleeping executor (run() blocked in the kernel with a timer an hour
// away) is woken by the request and resumes the task with ECANCELED.
TEST(CrossThreadCancel, WakesSleepingExecutorAndCancelsTimerWait) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::asm_switch);
  std::atomic<bool> waiting{false};
  std::error_code seen;
  wait_an_hour(*t, waiting, seen, 7);
  ASSERT_TRUE(ex->attach(*t));
  std::thread canceller([&] {
    while (!waiting.load(std::memory_order_acquire)) std::this_thread::yield();
    // The task has suspended (or is about to): either way the request
    // reaches it, waking the executor if it sleeps by then.
    EXPECT_TRUE(t->cancel());
  });
  drive(*ex, [&] { return t->state() == task_state::completed; });
  canceller.join();
  EXPECT_EQ(seen, std::errc::operation_canceled);
  EXPECT_EQ(*t->outcome(), 7);
  EXPECT_EQ(ex->stats().cancelled, 1u);
}

TEST(CrossThreadCancel, Pending) {
  auto ex = make_executor();
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));  // bind to this thread
  auto t = make_task(switcher_kind::asm_switch);
  bool ran = false;
  t->set_body([&](task&) -> result<std::int64_t> {
    ran = true;
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t));
  ASSERT_EQ(t->state(), task_state::pending);
  ASSERT_TRUE(cancel_from_other_thread(*t));
  EXPECT_EQ(t->state(), task_state::pending) << "the request waits for the executor's thread";
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_FALSE(ran);
  EXPECT_TRUE(is_cancelled(t->outcome()));
}

// Attached from one thread, cancelled from another, both before the
// executor's thread ever looked at its queues.
TEST(CrossThreadCancel, PendingInRemoteQueue) {
  auto ex = make_executor();
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));
  auto t = make_task(switcher_kind::asm_switch);
  bool ran = false;
  t->set_body([&](task&) -> result<std::int64_t> {
    ran = true;
    return std::int64_t{0};
  });
  std::thread([&] { ASSERT_TRUE(ex->attach(*t)); }).join();
  ASSERT_TRUE(cancel_from_other_thread(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_FALSE(ran);
  EXPECT_TRUE(is_cancelled(t->outcome()));
}

result<void> cancel_from_other_thread_run(task& t, std::uint64_t run) {
  result<void> r = success();
  std::thread([&] { r = t.cancel(run); }).join();
  return r;
}

// An executor that has never run (bound to no thread) takes the request at
// its first run().
TEST(CrossThreadCancel, BeforeTheExecutorEverRan) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::asm_switch);
  t->set_body([](task&) -> result<std::int64_t> { return std::int64_t{1}; });
  ASSERT_TRUE(ex->attach(*t));
  ASSERT_TRUE(t->cancel());
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_TRUE(is_cancelled(t->outcome()));
}

class CrossThreadCancelStackful : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(CrossThreadCancelStackful, Runnable) {
  auto ex = make_executor();
  auto t = make_task(GetParam());
  std::error_code seen;
  t->set_body([&](task& self) -> result<std::int64_t> {
    auto r = self.yield();
    if (!r) seen = r.error();
    return std::int64_t{1};
  });
  ASSERT_TRUE(ex->attach(*t));
  ASSERT_TRUE(ex->run(1, 0ns));  // launches; it yields
  ASSERT_EQ(t->state(), task_state::runnable);
  ASSERT_TRUE(cancel_from_other_thread(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_EQ(seen, std::errc::operation_canceled);
}

// Running on the executor's thread while another thread cancels: noticed at
// a suspension point once the executor has taken the request in.
TEST_P(CrossThreadCancelStackful, Running) {
  auto ex = make_executor();
  auto t = make_task(GetParam());
  std::atomic<int> step{0};
  int yields_ok = 0;
  std::error_code seen;
  t->set_body([&](task& self) -> result<std::int64_t> {
    step.store(1, std::memory_order_release);
    while (step.load(std::memory_order_acquire) != 2) std::this_thread::yield();  // cancel() has returned
    for (;;) {
      auto r = self.yield();
      if (!r) {
        seen = r.error();
        break;
      }
      ++yields_ok;
    }
    return std::int64_t{2};
  });
  ASSERT_TRUE(ex->attach(*t));
  std::thread canceller([&] {
    while (step.load(std::memory_order_acquire) != 1) std::this_thread::yield();
    EXPECT_EQ(t->state(), task_state::running);
    EXPECT_TRUE(t->cancel());
    step.store(2, std::memory_order_release);
  });
  drive(*ex, [&] { return t->state() == task_state::completed; });
  canceller.join();
  EXPECT_EQ(seen, std::errc::operation_canceled);
  // The executor takes requests in between slices: the first yield may still
  // succeed (the request is taken while the task waits in the run queue).
  EXPECT_LE(yields_ok, 1);
  EXPECT_EQ(*t->outcome(), 2);
}

TEST_P(CrossThreadCancelStackful, SuspendedOnIo) {
  auto ex = make_executor();
  auto t = make_task(GetParam());
  test_pipe p;
  ASSERT_TRUE(p.ok());
  std::error_code seen;
  t->set_body([&](task& self) -> result<std::int64_t> {
    char buf[8];
    auto r = perform(self, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, p.read_end(), buf, sizeof(buf), 0); });
    if (!r) seen = r.error();
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t));
  ASSERT_TRUE(ex->run(1, 0ns));
  ASSERT_EQ(t->state(), task_state::suspended_io);
  ASSERT_TRUE(cancel_from_other_thread(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_EQ(seen, std::errc::operation_canceled);
  EXPECT_EQ(ex->stats().io_in_flight, 0u);
}

TEST_P(CrossThreadCancelStackful, SuspendedWaitingForSlot) {
  auto ex = make_executor({.ring_entries = 1, .cq_entries = 1});
  ASSERT_EQ(ex->max_in_flight(), 1u);
  test_pipe p;
  ASSERT_TRUE(p.ok());
  auto holder = make_task(GetParam());
  auto waiter = make_task(GetParam());
  std::error_code holder_seen, waiter_seen;
  char buf[2][8];
  holder->set_body([&](task& self) -> result<std::int64_t> {
    auto r = perform(self, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, p.read_end(), buf[0], 8, 0); });
    if (!r) holder_seen = r.error();
    return std::int64_t{0};
  });
  waiter->set_body([&](task& self) -> result<std::int64_t> {
    auto r = perform(self, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, p.read_end(), buf[1], 8, 0); });
    if (!r) waiter_seen = r.error();
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*holder));
  ASSERT_TRUE(ex->attach(*waiter));
  ASSERT_TRUE(ex->run(2, 0ns));
  ASSERT_EQ(waiter->state(), task_state::suspended_slot);
  ASSERT_TRUE(cancel_from_other_thread(*waiter));
  ASSERT_TRUE(cancel_from_other_thread(*holder));
  drive(*ex, [&] { return waiter->state() == task_state::completed && holder->state() == task_state::completed; });
  EXPECT_EQ(waiter_seen, std::errc::operation_canceled);
  EXPECT_EQ(holder_seen, std::errc::operation_canceled);
  EXPECT_EQ(ex->stats().io_in_flight, 0u);
}

INSTANTIATE_TEST_SUITE_P(Switchers, CrossThreadCancelStackful, ::testing::ValuesIn(stackful), kind_name);

TEST(CrossThreadCancel, CoroutineSuspendedOnNop) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::coroutine);
  std::atomic<bool> looping{false};
  std::error_code seen;
  std::int64_t nops = 0;
  t->set_body([&](task& self) -> co<result<std::int64_t>> {
    for (;;) {
      looping.store(true, std::memory_order_release);
      auto r = co_await async_nop(self);
      if (!r) {
        seen = r.error();
        break;
      }
      auto y = co_await self.async_yield();  // a wait that sees the cancellation
      if (!y) {
        seen = y.error();
        break;
      }
      ++nops;
    }
    co_return nops;
  });
  ASSERT_TRUE(ex->attach(*t));
  std::thread canceller([&] {
    while (!looping.load(std::memory_order_acquire)) std::this_thread::yield();
    EXPECT_TRUE(t->cancel());
  });
  drive(*ex, [&] { return t->state() == task_state::completed; });
  canceller.join();
  EXPECT_EQ(seen, std::errc::operation_canceled);
}

TEST(CrossThreadCancel, AfterTheRunEndedIsRefusedAndDropped) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::asm_switch);
  t->set_body([](task&) -> result<std::int64_t> { return std::int64_t{3}; });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  auto r = cancel_from_other_thread(*t);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
  // The next run is not affected.
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_EQ(*t->outcome(), 3);
}

// Many runs, each cancelled from another thread while it runs, races with
// its end included: every run ends either with its own outcome or
// cancelled; a request that lost the race never cancels a later run; and
// each task is destroyed right after its run (a request outliving its run
// would touch freed memory: ASan).
TEST(CrossThreadCancel, RacesWithCompletionAndDestruction) {
  auto ex = make_executor();
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));
  constexpr int runs = 2000;
  std::atomic<task*> target{nullptr};
  std::atomic<int> stop_run{-1}, acked{-1};
  std::atomic<bool> quit{false};
  std::atomic<long> accepted{0}, refused{0}, other{0};
  std::thread canceller([&] {
    int seen_stop = -1;
    while (!quit.load(std::memory_order_acquire)) {
      const int stop = stop_run.load(std::memory_order_acquire);
      if (stop != seen_stop) {  // stop touching the task of run `stop`
        seen_stop = stop;
        acked.store(stop, std::memory_order_release);
        continue;
      }
      task* t = target.load(std::memory_order_acquire);
      if (!t) {
        std::this_thread::yield();
        continue;
      }
      auto r = t->cancel();
      if (r)
        accepted.fetch_add(1, std::memory_order_relaxed);
      else if (r.error() == std::errc::invalid_argument)
        refused.fetch_add(1, std::memory_order_relaxed);
      else
        other.fetch_add(1, std::memory_order_relaxed);
    }
  });
  int own = 0, cancelled = 0;
  for (int i = 0; i < runs; ++i) {
    auto t = make_task(i % 2 ? switcher_kind::asm_switch : switcher_kind::none);
    // Runs of a few slices: the request lands in each phase over the runs.
    // Every 8th run waits for it (an hour's timer that only the request
    // ends), so requests that do arrive in time are guaranteed too.
    const int yields = i % 4;
    const bool waits = i % 8 == 1;
    t->set_body([yields, waits](task& self) -> result<std::int64_t> {
      if (waits) PRIO_TRY(self.suspend_for(1h));
      for (int k = 0; k < yields && self.can_wait_stackful(); ++k) PRIO_TRY(self.yield());
      return std::int64_t{1};
    });
    ASSERT_TRUE(ex->attach(*t));
    target.store(t.get(), std::memory_order_release);
    drive(*ex, [&] { return t->state() == task_state::completed; });
    // Unpublished first: once the canceller sees stop_run, it cannot load t.
    target.store(nullptr, std::memory_order_release);
    stop_run.store(i, std::memory_order_release);
    while (acked.load(std::memory_order_acquire) != i) std::this_thread::yield();
    if (waits) {
      EXPECT_TRUE(is_cancelled(t->outcome())) << "run " << i;
    }
    if (t->outcome() && *t->outcome() == 1)
      ++own;
    else if (is_cancelled(t->outcome()))
      ++cancelled;
    else
      ADD_FAILURE() << "run " << i << " ended with " << t->outcome().error().message();
    // Now destroyed; the next run's task may reuse the memory.
  }
  quit.store(true, std::memory_order_release);
  canceller.join();
  EXPECT_EQ(own + cancelled, runs);
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(accepted.load(), 0);
  EXPECT_EQ(ex->stats().cancelled, static_cast<std::uint64_t>(cancelled))
      << "a run counted cancelled that did not end cancelled";
  // Nothing left behind: the executor is idle, and a fresh run completes.
  auto last = make_task(switcher_kind::none);
  last->set_body([](task&) -> result<std::int64_t> { return std::int64_t{9}; });
  ASSERT_TRUE(ex->attach(*last));
  drive(*ex, [&] { return last->state() == task_state::completed; });
  EXPECT_EQ(*last->outcome(), 9);
}

// A task whose earlier run was cancelled from another thread is reused many
// times with no canceller: no stale request cancels any later run.
TEST(CrossThreadCancel, NoStaleRequestAfterReuse) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::asm_switch);
  t->set_body([](task& self) -> result<std::int64_t> {
    PRIO_TRY(self.suspend_for(1h));
    return std::int64_t{1};
  });
  ASSERT_TRUE(ex->attach(*t));
  ASSERT_TRUE(ex->run(1, 0ns));
  ASSERT_TRUE(cancel_from_other_thread(*t));
  ASSERT_TRUE(cancel_from_other_thread(*t));  // a second request for the same run
  drive(*ex, [&] { return t->state() == task_state::completed; });
  ASSERT_TRUE(is_cancelled(t->outcome()));
  t->set_body([](task& self) -> result<std::int64_t> {
    PRIO_TRY(self.yield());
    return std::int64_t{4};
  });
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(ex->attach(*t));
    drive(*ex, [&] { return t->state() == task_state::completed; });
    ASSERT_EQ(*t->outcome(), 4) << "run " << i;
  }
  EXPECT_EQ(ex->stats().cancelled, 1u);
}

TEST(CrossThreadCancel, RunIdNamesEachAttach) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::asm_switch);
  EXPECT_EQ(t->run_id(), 0u);
  t->set_body([](task& self) -> result<std::int64_t> {
    PRIO_TRY(self.suspend_for(1h));
    return std::int64_t{1};
  });
  ASSERT_TRUE(ex->attach(*t));
  EXPECT_EQ(t->run_id(), 1u);
  ASSERT_TRUE(ex->run(1, 0ns));
  ASSERT_TRUE(t->cancel(1));  // on the executor's thread
  drive(*ex, [&] { return t->state() == task_state::completed; });
  ASSERT_TRUE(is_cancelled(t->outcome()));
  EXPECT_EQ(t->run_id(), 1u) << "the last run's number while detached";
  ASSERT_TRUE(ex->attach(*t));
  ASSERT_EQ(t->run_id(), 2u);
  ASSERT_TRUE(ex->run(1, 0ns));
  ASSERT_EQ(t->state(), task_state::suspended_timer);
  // Run 1 is over: neither thread can cancel it any more, and run 2 goes on.
  auto r = t->cancel(1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
  r = cancel_from_other_thread_run(*t, 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
  EXPECT_FALSE(ex->run(SIZE_MAX, 0ns)) << "nothing to do: run 2 still waits";
  EXPECT_EQ(t->state(), task_state::suspended_timer);
  ASSERT_TRUE(cancel_from_other_thread_run(*t, 2));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_TRUE(is_cancelled(t->outcome()));
  EXPECT_EQ(ex->stats().cancelled, 2u);
}

// One task reused run after run while another thread keeps cancelling the
// run before the current one (a timeout that fired late): every such call
// is refused, and no run ends cancelled, whatever the interleaving.
TEST(CrossThreadCancel, StaleRunIdNeverCancelsALaterRun) {
  auto ex = make_executor();
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));
  auto t = make_task(switcher_kind::asm_switch);
  t->set_body([](task& self) -> result<std::int64_t> {
    for (int k = 0; k < 3; ++k) PRIO_TRY(self.yield());
    return std::int64_t{1};
  });
  std::atomic<std::uint64_t> current{0};
  std::atomic<bool> quit{false};
  std::atomic<long> calls{0}, accepted{0};
  std::thread canceller([&] {
    while (!quit.load(std::memory_order_acquire)) {
      const std::uint64_t run = current.load(std::memory_order_acquire);
      if (run < 2) {
        std::this_thread::yield();
        continue;
      }
      if (t->cancel(run - 1)) accepted.fetch_add(1, std::memory_order_relaxed);
      calls.fetch_add(1, std::memory_order_relaxed);
    }
  });
  constexpr int runs = 2000;
  for (int i = 0; i < runs; ++i) {
    ASSERT_TRUE(ex->attach(*t));
    current.store(t->run_id(), std::memory_order_release);
    drive(*ex, [&] { return t->state() == task_state::completed; });
    ASSERT_TRUE(t->outcome()) << "run " << t->run_id() << ": " << t->outcome().error().message();
    // The canceller has made calls by the end (it may start late).
    if (i == runs - 1)
      while (calls.load(std::memory_order_relaxed) == 0) std::this_thread::yield();
  }
  quit.store(true, std::memory_order_release);
  canceller.join();
  EXPECT_EQ(accepted.load(), 0);
  EXPECT_EQ(ex->stats().cancelled, 0u);
}

// Destroying the executor with requests from other threads queued and
// tasks attached: every task ends (executor_closed), nothing is left queued.
TEST(CrossThreadCancel, ExecutorDestroyedWithRequestsQueued) {
  auto ex = make_executor();
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));
  std::vector<std::unique_ptr<task>> ts;
  for (int i = 0; i < 8; ++i) {
    ts.push_back(make_task(switcher_kind::asm_switch));
    ts.back()->set_body([](task& self) -> result<std::int64_t> {
      (void)self.suspend_for(1h);
      return std::int64_t{0};
    });
    ASSERT_TRUE(ex->attach(*ts.back()));
  }
  ASSERT_TRUE(ex->run(SIZE_MAX, 0ns));
  for (auto& t : ts) ASSERT_EQ(t->state(), task_state::suspended_timer);
  for (auto& t : ts) ASSERT_TRUE(cancel_from_other_thread(*t));
  ex.reset();
  for (auto& t : ts) {
    EXPECT_EQ(t->state(), task_state::completed);
    EXPECT_FALSE(t->outcome());
    EXPECT_EQ(t->outcome().error(), errc::executor_closed);
    EXPECT_FALSE(t->cancel()) << "detached: nothing to cancel";
  }
}

}  // namespace
}  // namespace prio::test
