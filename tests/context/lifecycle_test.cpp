// Description: every switcher goes idle -> ready -> running -> suspended ->
// finished, and start() after finish reruns the body on the same context.
#include "switcher_param.hpp"

namespace prio::test {
namespace {

class lifecycle : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(lifecycle, create_resume_suspend_finish) {
  auto c = make(GetParam());
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind(), GetParam());
  EXPECT_EQ(c->state(), context_state::idle);
  stepper s;
  s.yields = GetParam() == switcher_kind::none ? 0 : 3;
  start_steps(*c, s);
  EXPECT_EQ(c->state(), context_state::ready);
  EXPECT_EQ(s.steps, 0) << "start() must not run the body";
  for (int i = 0; i < s.yields; ++i) {
    c->resume();
    EXPECT_EQ(c->state(), context_state::suspended);
    EXPECT_EQ(s.steps, i + 1);
  }
  c->resume();
  EXPECT_EQ(c->state(), context_state::finished);
  EXPECT_EQ(s.steps, s.yields + 1);
  EXPECT_EQ(s.failed_suspends, 0);
  EXPECT_EQ(c->take_exception(), nullptr);
}

TEST_P(lifecycle, restart_reuses_context_and_stack) {
  auto c = make(GetParam());
  ASSERT_TRUE(c);
  const stack_region first = c->stack();
  for (int round = 0; round < 5; ++round) {
    stepper s;
    s.yields = GetParam() == switcher_kind::none ? 0 : 2;
    start_steps(*c, s);
    while (c->state() != context_state::finished) c->resume();
    EXPECT_EQ(s.steps, s.yields + 1);
    EXPECT_EQ(c->stack().base, first.base);
  }
}

TEST_P(lifecycle, resume_in_wrong_state_is_ignored) {
  auto c = make(GetParam());
  ASSERT_TRUE(c);
  c->resume();  // idle: nothing to run
  EXPECT_EQ(c->state(), context_state::idle);
  stepper s;
  start_steps(*c, s);
  c->resume();
  EXPECT_EQ(c->state(), context_state::finished);
  c->resume();  // finished: nothing to run
  EXPECT_EQ(c->state(), context_state::finished);
  EXPECT_EQ(s.steps, 1);
}

TEST_P(lifecycle, saved_sp_inside_stack_while_suspended) {
  if (GetParam() == switcher_kind::none || GetParam() == switcher_kind::coroutine)
    GTEST_SKIP() << "stackless switcher";
  auto c = make(GetParam());
  ASSERT_TRUE(c);
  EXPECT_GT(c->stack().size, 0u);
  stepper s;
  s.yields = 1;
  start_steps(*c, s);
  EXPECT_EQ(c->saved_sp(), nullptr);
  c->resume();
  auto* sp = static_cast<char*>(c->saved_sp());
  ASSERT_NE(sp, nullptr);
  EXPECT_GE(sp, static_cast<char*>(c->stack().base));
  EXPECT_LT(sp, static_cast<char*>(c->stack().top()));
  c->resume();
  EXPECT_EQ(c->saved_sp(), nullptr);
}

// fill_stack() writes every byte of a frame far deeper than resume()'s.
[[gnu::noinline]] int fill_stack() {
  volatile char buf[16 * 1024];
  for (std::size_t i = 0; i < sizeof buf; ++i) buf[i] = static_cast<char>(i);
  return buf[sizeof buf - 1];
}

// Under ASan: the first resume() launches the body, and the frames that did
// it (sjlj's launch()) are abandoned by the switch back; none of them may
// leave poisoned shadow on the resumer's stack, where later calls reach
// (this reported stack-use-after-scope before fiber_annotations kept the
// resume token in the context). Without sanitizers it checks only the states.
TEST_P(lifecycle, first_launch_leaves_resumer_stack_clean) {
  auto c = make(GetParam());
  ASSERT_TRUE(c);
  stepper s;
  s.yields = GetParam() == switcher_kind::none ? 0 : 1;
  start_steps(*c, s);
  c->resume();
  EXPECT_NE(fill_stack(), 0);
  while (c->state() != context_state::finished) c->resume();
  EXPECT_NE(fill_stack(), 0);
  EXPECT_EQ(s.steps, s.yields + 1);
}

INSTANTIATE_TEST_SUITE_P(switchers, lifecycle, ::testing::ValuesIn(all_switchers), kind_name);

}  // namespace
}  // namespace prio::test
