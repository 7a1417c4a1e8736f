// Description: time tracking adds up: per task stamps are ordered, the total
// executed by tasks fits inside the executor's time in task code, which fits
// inside its time in run(); counters match the work done; an executor told
// not to track task time counts the same and keeps its stamps ordered.
#include "exec_helpers.hpp"
#include "prio/io/nop.hpp"

namespace prio::test {
namespace {

TEST(Stats, TimesAddUp) {
  auto ex = make_executor();
  std::vector<std::unique_ptr<task>> ts;
  tsc::ticks executed = 0;
  for (int i = 0; i < 8; ++i) {
    ts.push_back(make_task(switcher_kind::asm_switch, static_cast<priority>(i % 3)));
    ts.back()->set_body([](task& self) -> result<std::int64_t> {
      volatile double x = 1;
      for (int k = 0; k < 10000; ++k) x = x * 1.0000001;
      PRIO_TRY(nop(self));
      PRIO_TRY(self.suspend_for(100us));
      PRIO_TRY(self.yield());
      return std::int64_t{0};
    });
    ts.back()->set_on_complete(
        [](task& t, void* acc) { *static_cast<tsc::ticks*>(acc) += t.times().executed; }, &executed);
    ASSERT_TRUE(ex->attach(*ts.back()));
  }
  drive(*ex, [&] { return all_completed(ts); });
  const executor_stats s = ex->stats();
  EXPECT_EQ(s.launched, 8u);
  EXPECT_EQ(s.completed, 8u);
  EXPECT_EQ(s.resumed, 24u);  // after the NOP, the timer and the yield
  EXPECT_EQ(s.timers, 0u);
  EXPECT_EQ(s.runnable, 0u);
  EXPECT_EQ(s.io_in_flight, 0u);
  EXPECT_GE(s.reaped_cqes, 8u);
  EXPECT_GT(executed, 0u);
  EXPECT_LE(executed, s.in_tasks);
  EXPECT_LE(s.in_tasks + s.sleeping, s.in_run);
  EXPECT_LE(s.in_io_uring + s.in_tasks, s.in_run);
  for (auto& t : ts) {
    const task_times& tt = t->times();
    EXPECT_LE(tt.attached, tt.launched);
    EXPECT_LE(tt.launched, tt.suspended);
    EXPECT_LE(tt.suspended, tt.completed);
    EXPECT_LE(tt.resumed, tt.completed);
    EXPECT_GE(tt.completed - tt.launched, tt.executed);
    EXPECT_GE(tsc::to_ns(tt.completed - tt.launched), 100000u);  // it slept 100 us
    EXPECT_EQ(tt.resumptions, 3u);
  }
}

// track_task_time = false: the counters are the same, the per-slice times
// stay 0, and the stamps are still ordered (the armed timer forces a fresh
// clock, so the 100 us sleep shows).
TEST(Stats, UntrackedExecutorCountsButKeepsNoTaskTime) {
  executor_options o;
  o.track_task_time = false;
  auto ex = make_executor(o);
  std::vector<std::unique_ptr<task>> ts;
  for (int i = 0; i < 8; ++i) {
    ts.push_back(make_task(switcher_kind::asm_switch, static_cast<priority>(i % 3)));
    ts.back()->set_body([](task& self) -> result<std::int64_t> {
      PRIO_TRY(nop(self));
      PRIO_TRY(self.suspend_for(100us));
      PRIO_TRY(self.yield());
      return std::int64_t{0};
    });
    ASSERT_TRUE(ex->attach(*ts.back()));
  }
  drive(*ex, [&] { return all_completed(ts); });
  const executor_stats s = ex->stats();
  EXPECT_EQ(s.launched, 8u);
  EXPECT_EQ(s.completed, 8u);
  EXPECT_EQ(s.resumed, 24u);
  EXPECT_EQ(s.in_tasks, 0u);
  EXPECT_GT(s.in_run, 0u);
  for (auto& t : ts) {
    const task_times& tt = t->times();
    EXPECT_EQ(tt.executed, 0u);
    EXPECT_EQ(tt.resumptions, 3u);
    EXPECT_LE(tt.attached, tt.launched);
    EXPECT_LE(tt.launched, tt.suspended);
    EXPECT_LE(tt.suspended, tt.completed);
    EXPECT_GE(tsc::to_ns(tt.completed - tt.launched), 100000u);  // it slept 100 us
  }
}

TEST(Stats, NopStampsOrdered) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::asm_switch);
  io_status st;
  t->set_body([&](task& self) -> result<std::int64_t> {
    PRIO_TRY(initiate_nop(self, st));
    auto r = self.suspend_until_completed_io();
    if (!r) return failure(r.error());
    EXPECT_EQ(*r, &st);
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  ASSERT_TRUE(t->outcome());
  EXPECT_EQ(st.state, io_state::reaped);
  EXPECT_GT(st.initiated, 0u);
  EXPECT_LE(st.initiated, st.completed);
  EXPECT_LE(st.completed, st.reaped);
}

}  // namespace
}  // namespace prio::test

namespace prio::test {
namespace {

TEST(Stats, SnapshotCountsSleepersAndQueues) {
  auto ex = make_executor();
  std::vector<std::unique_ptr<task>> sleepers;
  for (int i = 0; i < 3; ++i) {
    sleepers.push_back(make_task(switcher_kind::asm_switch));
    sleepers.back()->set_body([](task& self) -> result<std::int64_t> {
      PRIO_TRY(self.suspend_for(1h));
      return std::int64_t{0};
    });
    ASSERT_TRUE(ex->attach(*sleepers.back()));
  }
  ASSERT_TRUE(ex->run(3, 0ns));
  EXPECT_EQ(ex->stats().timers, 3u);
  ASSERT_TRUE(sleepers[1]->cancel());
  EXPECT_EQ(ex->stats().timers, 2u);
  EXPECT_EQ(ex->stats().runnable, 1u);
  for (auto& t : sleepers) (void)t->cancel();
  drive(*ex, [&] { return all_completed(sleepers); });
  EXPECT_EQ(ex->stats().timers, 0u);
}

}  // namespace
}  // namespace prio::test
