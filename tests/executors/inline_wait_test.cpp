// Description: a task that is alone on its executor waits for its I/O
// without a switch (executor::wait_inline): run(max_items) still counts each
// of its resumes and stops at max_items; the stats and stamps still add up;
// an attach from another thread still gets its turn; another task's
// completion callback still runs on the executor's stack, never on the
// waiting task's; and a wait whose completion is not in yet costs no second
// io_uring_enter.
#include <pthread.h>

#include <atomic>
#include <thread>

#include "exec_helpers.hpp"
#include "prio/io/nop.hpp"

namespace prio::test {
namespace {

class InlineWait : public ::testing::TestWithParam<switcher_kind> {};

// A lone task making n NOP round trips.
void nop_body(task& t, int n) {
  t.set_body([n](task& self) -> result<std::int64_t> {
    for (int i = 0; i < n; ++i) PRIO_TRY(nop(self));
    return std::int64_t{n};
  });
}

// t's body reads n single bytes from fd, one perform() each; returns n.
void pipe_reads_body(task& t, int fd, int n) {
  t.set_body([fd, n](task& self) -> result<std::int64_t> {
    char c;
    for (int i = 0; i < n; ++i) {
      auto got = perform(self, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fd, &c, 1, 0); });
      if (!got) return failure(got.error());
      if (*got != 1) return std::int64_t{-1};
    }
    return std::int64_t{n};
  });
}

TEST_P(InlineWait, RunCountsEveryResumeAndStopsAtMaxItems) {
  auto ex = make_executor();
  auto t = make_task(GetParam());
  nop_body(*t, 10);
  ASSERT_TRUE(ex->attach(*t));
  auto r = ex->run(3, 0s);  // the launch and two resumes
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, 3u);
  EXPECT_EQ(t->times().resumptions, 2u);
  EXPECT_EQ(ex->stats().resumed, 2u);
  EXPECT_NE(t->state(), task_state::completed);
  std::size_t items = *r;
  while (t->state() != task_state::completed) {
    auto more = ex->run(SIZE_MAX, 10s);
    ASSERT_TRUE(more) << more.error().message();
    items += *more;
  }
  EXPECT_EQ(items, 11u);  // 1 launch + 10 resumes, each counted once
  EXPECT_EQ(t->times().resumptions, 10u);
  EXPECT_EQ(ex->stats().resumed, 10u);
  EXPECT_EQ(ex->stats().reaped_cqes, 10u);  // inline or not, each CQE counted once
  ASSERT_TRUE(t->outcome());
  EXPECT_EQ(*t->outcome(), 10);
}

TEST_P(InlineWait, TimesAddUp) {
  for (bool tracked : {true, false}) {
    executor_options o;
    o.track_task_time = tracked;
    auto ex = make_executor(o);
    auto t = make_task(GetParam());
    t->set_body([](task& self) -> result<std::int64_t> {
      for (int i = 0; i < 200; ++i) {
        volatile double x = 1;
        for (int k = 0; k < 1000; ++k) x = x * 1.0000001;
        PRIO_TRY(nop(self));
      }
      return std::int64_t{0};
    });
    ASSERT_TRUE(ex->attach(*t));
    drive(*ex, [&] { return t->state() == task_state::completed; });
    const executor_stats s = ex->stats();
    const task_times& tt = t->times();
    EXPECT_EQ(s.resumed, 200u);
    EXPECT_EQ(tt.resumptions, 200u);
    EXPECT_GE(s.enters, 200u);  // one per NOP at least: each waits for the last
    EXPECT_LE(tt.launched, tt.resumed);
    EXPECT_LE(tt.resumed, tt.completed);
    EXPECT_LE(tt.suspended, tt.completed);
    EXPECT_GE(tt.completed - tt.launched, tt.executed);
    EXPECT_LE(s.in_io_uring + s.in_tasks, s.in_run);
    if (tracked) {
      EXPECT_GT(tt.executed, 0u);
      EXPECT_LE(tt.executed, s.in_tasks);
    } else {
      EXPECT_EQ(tt.executed, 0u);
      EXPECT_EQ(s.in_tasks, 0u);
    }
  }
}

// A task alone in an endless NOP loop must still let a task attached from
// another thread run: the loop ends only once that task has.
TEST_P(InlineWait, CrossThreadAttachGetsItsTurn) {
  auto ex = make_executor();
  std::atomic<bool> looping{false}, other_ran{false};
  auto lone = make_task(GetParam(), priority::low);
  lone->set_body([&](task& self) -> result<std::int64_t> {
    std::int64_t n = 0;
    for (; !other_ran.load(std::memory_order_acquire) && n < 10'000'000; ++n) {
      PRIO_TRY(nop(self));
      looping.store(true, std::memory_order_release);
    }
    return n;
  });
  auto other = make_task(GetParam(), priority::high);
  other->set_body([&](task&) -> result<std::int64_t> {
    other_ran.store(true, std::memory_order_release);
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*lone));
  std::thread attacher([&] {
    while (!looping.load(std::memory_order_acquire)) std::this_thread::yield();
    ASSERT_TRUE(ex->attach(*other));
  });
  drive(*ex, [&] { return lone->state() == task_state::completed; });
  attacher.join();
  drive(*ex, [&] { return other->state() == task_state::completed; });
  EXPECT_TRUE(other_ran.load());
  ASSERT_TRUE(lone->outcome());
  EXPECT_LT(*lone->outcome(), 10'000'000);
}

// A task alone in an endless NOP loop while another sleeps: the sleeper's
// deadline still ends its sleep (the loop ends once it has woken).
// (Untracked too: there an inline wait reads the clock only while timers
// are armed, executor::slice_end_clock().)
TEST_P(InlineWait, ATimerElsewhereStillFires) {
  for (bool tracked : {true, false}) {
    SCOPED_TRACE(tracked ? "track_task_time" : "untracked");
    executor_options o;
    o.track_task_time = tracked;
    auto ex = make_executor(o);
    bool woke = false;
    auto sleeper = make_task(GetParam());
    sleeper->set_body([&woke](task& self) -> result<std::int64_t> {
      PRIO_TRY(self.suspend_for(2ms));
      woke = true;
      return std::int64_t{0};
    });
    auto looper = make_task(GetParam());
    looper->set_body([&woke](task& self) -> result<std::int64_t> {
      std::int64_t n = 0;
      for (; !woke && n < 50'000'000; ++n) PRIO_TRY(nop(self));
      return n;
    });
    ASSERT_TRUE(ex->attach(*sleeper));
    ASSERT_TRUE(ex->attach(*looper));
    drive(*ex, [&] { return looper->state() == task_state::completed; });
    EXPECT_TRUE(woke);
    ASSERT_TRUE(looper->outcome());
    EXPECT_LT(*looper->outcome(), 50'000'000);
    EXPECT_GT(ex->stats().resumed, 1u);
  }
}

// Task b leaves with a NOP in flight; its completion (and b's on_complete)
// comes in the same enter as lone task a's own NOP. That callback runs on
// the executor's thread stack (the test's), not on a's.
TEST_P(InlineWait, OtherTasksCallbacksRunOnTheExecutorStack) {
  pthread_attr_t attr;
  ASSERT_EQ(::pthread_getattr_np(::pthread_self(), &attr), 0);
  void* stack_lo = nullptr;
  std::size_t stack_size = 0;
  ASSERT_EQ(::pthread_attr_getstack(&attr, &stack_lo, &stack_size), 0);
  ::pthread_attr_destroy(&attr);
  struct where_t {
    char* lo;
    char* hi;
    bool called = false;
    bool on_thread_stack = false;
  } where{static_cast<char*>(stack_lo), static_cast<char*>(stack_lo) + stack_size};

  executor_options o;
  o.submit_interval = std::chrono::hours(1);  // b's SQEs wait for a's enter
  auto ex = make_executor(o);
  io_status b_st;
  auto b = make_task(GetParam());
  b->set_body([&b_st](task& self) -> result<std::int64_t> {
    PRIO_TRY(initiate_nop(self, b_st));
    return std::int64_t{0};  // leaves with it in flight: the executor drains it
  });
  b->set_on_complete(
      [](task&, void* p) {
        auto* w = static_cast<where_t*>(p);
        char here;
        w->called = true;
        w->on_thread_stack = &here >= w->lo && &here < w->hi;
      },
      &where);
  auto a = make_task(GetParam());
  // A first round trip makes the executor's last enter recent, so the busy
  // loop's periodic submit (submit_interval) leaves b's SQEs alone.
  nop_body(*a, 1);
  ASSERT_TRUE(ex->attach(*a));
  drive(*ex, [&] { return a->state() == task_state::completed; });
  nop_body(*a, 3);
  ASSERT_TRUE(ex->attach(*b));
  ASSERT_TRUE(ex->attach(*a));
  drive(*ex, [&] { return a->state() == task_state::completed && b->state() == task_state::completed; });
  EXPECT_TRUE(where.called);
  EXPECT_TRUE(where.on_thread_stack);
  ASSERT_TRUE(a->outcome());
  EXPECT_EQ(*a->outcome(), 3);
}

// A read from an empty pipe is not complete after the enter that submits
// it: run() returns without entering again for it, and each later round (the
// test writes a byte, run() waits for it and the task submits the next read)
// costs two enters: the wait and the submission.
TEST_P(InlineWait, AnIncompleteWaitCostsNoSecondEnter) {
  test_pipe p;
  ASSERT_TRUE(p.ok());
  auto ex = make_executor();
  auto t = make_task(GetParam());
  pipe_reads_body(*t, p.read_end(), 5);
  ASSERT_TRUE(ex->attach(*t));
  auto r = ex->run(SIZE_MAX, 0s);  // launch: the first read is submitted
  ASSERT_TRUE(r) << r.error().message();
  for (int i = 0; i < 5; ++i) {
    const std::uint64_t enters = ex->stats().enters;
    ASSERT_EQ(::write(p.write_end(), "x", 1), 1);
    auto more = ex->run(SIZE_MAX, 10s);
    ASSERT_TRUE(more) << more.error().message();
    EXPECT_EQ(*more, 1u);
    EXPECT_EQ(ex->stats().enters - enters, i < 4 ? 2u : 1u) << "round " << i;  // the last submits nothing
  }
  drive(*ex, [&] { return t->state() == task_state::completed; });
  ASSERT_TRUE(t->outcome()) << t->outcome().error().message();
  EXPECT_EQ(*t->outcome(), 5);
}

// After an inline wait entered and suspended, a polling run() (timeout 0)
// must still enter to collect what completed since.
TEST_P(InlineWait, PollingRunStillCollects) {
  test_pipe p;
  ASSERT_TRUE(p.ok());
  auto ex = make_executor();
  auto t = make_task(GetParam());
  pipe_reads_body(*t, p.read_end(), 1);
  ASSERT_TRUE(ex->attach(*t));
  auto r = ex->run(SIZE_MAX, 0s);  // the read is submitted inline and not complete
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, 1u);
  ASSERT_EQ(::write(p.write_end(), "x", 1), 1);
  // The pipe read completes at once in the kernel; each poll enters to look.
  for (int i = 0; i < 1000 && t->state() != task_state::completed; ++i) (void)ex->run(SIZE_MAX, 0s);
  ASSERT_EQ(t->state(), task_state::completed);
  ASSERT_TRUE(t->outcome()) << t->outcome().error().message();
  EXPECT_EQ(*t->outcome(), 1);
}

INSTANTIATE_TEST_SUITE_P(Stackful, InlineWait, ::testing::ValuesIn(stackful), kind_name);

// Coroutine bodies go on inline the same way (await_suspend returns false):
// the same counts, and the NOP results are theirs.
TEST(InlineWaitCoroutine, RunCountsEveryResumeAndStopsAtMaxItems) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::coroutine);
  t->set_body([](task& self) -> co<result<std::int64_t>> {
    std::int64_t ok = 0;
    for (int i = 0; i < 10; ++i) {
      auto r = co_await async_nop(self);
      if (!r) co_return failure(r.error());
      ok += *r == 0;
    }
    co_return ok;
  });
  ASSERT_TRUE(ex->attach(*t));
  auto r = ex->run(3, 0s);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, 3u);
  EXPECT_EQ(t->times().resumptions, 2u);
  std::size_t items = *r;
  while (t->state() != task_state::completed) {
    auto more = ex->run(SIZE_MAX, 10s);
    ASSERT_TRUE(more) << more.error().message();
    items += *more;
  }
  EXPECT_EQ(items, 11u);
  EXPECT_EQ(t->times().resumptions, 10u);
  EXPECT_EQ(ex->stats().resumed, 10u);
  ASSERT_TRUE(t->outcome());
  EXPECT_EQ(*t->outcome(), 10);
}

// Many in flight from a coroutine: each completion is handed out once, in
// order, whether it came inline or through the run loop.
TEST(InlineWaitCoroutine, CompletedIoIsHandedOutOnce) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::coroutine);
  t->set_body([](task& self) -> co<result<std::int64_t>> {
    io_status st[2];
    std::int64_t reaped = 0;
    for (int round = 0; round < 50; ++round) {
      for (auto& s : st) {
        auto r = co_await async_initiate_nop(self, s);
        if (!r) co_return failure(r.error());
      }
      for (int k = 0; k < 2; ++k) {
        auto d = co_await self.async_completed_io();
        if (!d) co_return failure(d.error());
        if (*d != &st[0] && *d != &st[1]) co_return std::int64_t{-1};
        ++reaped;
      }
    }
    co_return reaped;
  });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  ASSERT_TRUE(t->outcome()) << t->outcome().error().message();
  EXPECT_EQ(*t->outcome(), 100);
}

}  // namespace
}  // namespace prio::test
