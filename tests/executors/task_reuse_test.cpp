// Description: a task is created once and attached, run and completed 1,000
// times, with stamps and outcome reset on each run; its body changes only
// between runs.
#include "exec_helpers.hpp"

#include <string>
#include <vector>

namespace prio::test {
namespace {

class TaskReuse : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(TaskReuse, ThousandRuns) {
  auto ex = make_executor();
  auto t = make_task(GetParam());
  int runs = 0;
  const bool can_suspend = GetParam() != switcher_kind::none;
  t->set_body([&runs, can_suspend](task& self) -> result<std::int64_t> {
    ++runs;
    if (can_suspend) PRIO_TRY(self.yield());
    return std::int64_t{runs};
  });
  for (int i = 1; i <= 1000; ++i) {
    ASSERT_TRUE(ex->attach(*t)) << "run " << i;
    drive(*ex, [&] { return t->state() == task_state::completed; });
    ASSERT_TRUE(t->outcome());
    ASSERT_EQ(*t->outcome(), i);
    EXPECT_GE(t->times().completed, t->times().launched);
    EXPECT_GE(t->times().launched, t->times().attached);
    EXPECT_EQ(t->times().resumptions, can_suspend ? 1u : 0u);
  }
  EXPECT_EQ(runs, 1000);
}

TEST(TaskReuse, CoroutineThousandRuns) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::coroutine);
  int runs = 0;
  t->set_body([&runs](task& self) -> co<result<std::int64_t>> {
    ++runs;
    auto y = co_await self.async_yield();
    if (!y) co_return failure(y.error());
    co_return std::int64_t{runs};
  });
  for (int i = 1; i <= 1000; ++i) {
    ASSERT_TRUE(ex->attach(*t));
    drive(*ex, [&] { return t->state() == task_state::completed; });
    ASSERT_TRUE(t->outcome());
    ASSERT_EQ(*t->outcome(), i);
  }
}

// A new body for an attached task (waiting to launch, or running: from its
// own body) is refused with a line on stderr; the body it runs stays, and
// after completion set_body() works again.
TEST(TaskReuse, SetBodyWhileAttachedIsIgnored) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::asm_switch);
  std::vector<std::string> ran;
  t->set_body([&](task& self) -> result<std::int64_t> {
    ran.push_back("first");
    self.set_body([&](task&) -> result<std::int64_t> { ran.push_back("from inside"); return 2; });
    PRIO_TRY(self.yield());
    ran.push_back("first, after the yield");
    return 1;
  });
  ASSERT_TRUE(ex->attach(*t));
  ::testing::internal::CaptureStderr();
  t->set_body([&](task&) -> result<std::int64_t> { ran.push_back("while pending"); return 3; });
  drive(*ex, [&] { return t->state() == task_state::completed; });
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(ran, (std::vector<std::string>{"first", "first, after the yield"}));
  ASSERT_TRUE(t->outcome());
  EXPECT_EQ(*t->outcome(), 1);
  EXPECT_NE(err.find("set_body() while attached (state pending) ignored"), std::string::npos) << err;
  EXPECT_NE(err.find("set_body() while attached (state running) ignored"), std::string::npos) << err;
  t->set_body([&](task&) -> result<std::int64_t> { ran.push_back("after completion"); return 4; });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_EQ(ran.back(), "after completion");
  EXPECT_EQ(*t->outcome(), 4);
}

TEST(TaskReuse, ReattachFromCompletionCallback) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::asm_switch);
  struct state {
    executor* ex;
    int left = 100;
    int runs = 0;
  } st{ex.get()};
  t->set_body([&st](task&) -> result<std::int64_t> {
    ++st.runs;
    return std::int64_t{0};
  });
  t->set_on_complete(
      [](task& self, void* arg) {
        auto* s = static_cast<state*>(arg);
        if (--s->left > 0) {
          ASSERT_TRUE(s->ex->attach(self));
        }
      },
      &st);
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return st.left == 0; });
  EXPECT_EQ(st.runs, 100);
}

INSTANTIATE_TEST_SUITE_P(Switchers, TaskReuse, ::testing::ValuesIn(run_to_completion), kind_name);

}  // namespace
}  // namespace prio::test
