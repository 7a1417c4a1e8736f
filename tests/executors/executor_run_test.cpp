// Description: executor::run() return values, timeouts, polling, errors.
#include <thread>

#include "exec_helpers.hpp"

namespace prio::test {
namespace {

result<std::int64_t> return_seven(task&) { return std::int64_t{7}; }

TEST(ExecutorRun, PollWithNothingToDoTimesOut) {
  auto ex = make_executor();
  auto r = ex->run(SIZE_MAX, 0ns);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::stream_timeout);
}

TEST(ExecutorRun, TimeoutWithNothingToDo) {
  auto ex = make_executor();
  auto r = ex->run(SIZE_MAX, 2ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::stream_timeout);
}

TEST(ExecutorRun, ComputeOnlyTimeout) {
  auto ex = make_executor({.ring_entries = 0});
  EXPECT_FALSE(ex->has_ring());
  auto r = ex->run(SIZE_MAX, 1ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::stream_timeout);
}

TEST(ExecutorRun, ReturnsItemsDone) {
  auto ex = make_executor();
  std::vector<std::unique_ptr<task>> ts;
  for (int i = 0; i < 5; ++i) {
    ts.push_back(make_task(switcher_kind::none));
    ts.back()->set_body(&return_seven);
    ASSERT_TRUE(ex->attach(*ts.back()));
  }
  auto r = ex->run(0, 0ns);  // up to none: none, even with work waiting
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0u);
  for (auto& t : ts) EXPECT_EQ(t->state(), task_state::pending);
  r = ex->run(3, 0ns);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 3u);
  r = ex->run(SIZE_MAX, 0ns);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 2u);
  for (auto& t : ts) {
    EXPECT_EQ(t->state(), task_state::completed);
    ASSERT_TRUE(t->outcome());
    EXPECT_EQ(*t->outcome(), 7);
  }
  r = ex->run(SIZE_MAX, 0ns);
  EXPECT_FALSE(r);
}

TEST(ExecutorRun, SuspensionsCountAsItems) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::asm_switch);
  t->set_body([](task& self) -> result<std::int64_t> {
    for (int i = 0; i < 3; ++i) PRIO_TRY(self.yield());
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t));
  std::size_t total = 0;
  while (t->state() != task_state::completed) {
    auto r = ex->run(1, 0ns);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 1u);
    total += *r;
  }
  EXPECT_EQ(total, 4u);  // a launch and three resumes
}

TEST(ExecutorRun, RunFromWrongThreadIsAnError) {
  auto ex = make_executor();
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));  // binds to this thread
  std::thread other([&] {
    auto r = ex->run(SIZE_MAX, 0ns);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), make_error_code(errc::not_on_executor));
  });
  other.join();
}

TEST(ExecutorRun, RingFlagsReported) {
  auto ex = make_executor();
  EXPECT_TRUE(ex->has_ring());
  EXPECT_FALSE(ex->ring_flags_text().empty());
  EXPECT_GT(ex->max_in_flight(), 0u);
  RecordProperty("ring_flags", ex->ring_flags_text());
}

TEST(ExecutorRun, AttachRejectsBadTasks) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::asm_switch);
  auto r = ex->attach(*t);  // no body
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
  t->set_body(&return_seven);
  ASSERT_TRUE(ex->attach(*t));
  r = ex->attach(*t);  // twice
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::task_busy));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  // A coroutine body on a stackful switcher is refused.
  t->set_body(+[](task&) -> co<result<std::int64_t>> { co_return std::int64_t{1}; });
  r = ex->attach(*t);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
}

TEST(ExecutorRun, TimerBoundsTheWait) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::asm_switch);
  t->set_body([](task& self) -> result<std::int64_t> {
    PRIO_TRY(self.suspend_for(1ms));
    return std::int64_t{1};
  });
  ASSERT_TRUE(ex->attach(*t));
  // An infinite run() must come back once the timer fires.
  while (t->state() != task_state::completed) ASSERT_TRUE(ex->run(SIZE_MAX, forever));
  EXPECT_EQ(*t->outcome(), 1);
}

// A sleep and a run() timeout of nanoseconds::max() - 1 (not `forever`)
// last: they ended at once when the conversion wrapped.
TEST(ExecutorRun, HugeTimeoutsDoNotWrap) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::asm_switch);
  t->set_body([](task& self) -> result<std::int64_t> {
    PRIO_TRY(self.suspend_for(std::chrono::nanoseconds::max() - 1ns));
    return std::int64_t{1};
  });
  ASSERT_TRUE(ex->attach(*t));
  ASSERT_TRUE(ex->run(1, 0ns));
  auto r = ex->run(SIZE_MAX, 20ms);  // nothing to do for centuries
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::stream_timeout);
  EXPECT_EQ(t->state(), task_state::suspended_timer);
  std::thread waker([&] { ex->wake(); });  // a huge run() timeout waits, until woken
  r = ex->run(SIZE_MAX, std::chrono::nanoseconds::max() - 1ns);
  waker.join();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, 0u);
  EXPECT_EQ(t->state(), task_state::suspended_timer);
  ASSERT_TRUE(t->cancel());
  drive(*ex, [&] { return t->state() == task_state::completed; });
}

}  // namespace
}  // namespace prio::test
