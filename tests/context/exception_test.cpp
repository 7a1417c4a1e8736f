// Description: an exception escaping a body never terminates the process: it
// finishes the context and is handed out once by take_exception(); the
// context is reusable afterwards.
#include "switcher_param.hpp"

namespace prio::test {
namespace {

class body_exception : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(body_exception, becomes_take_exception) {
  auto c = make(GetParam());
  ASSERT_TRUE(c);
  for (int round = 0; round < 3; ++round) {
    stepper s;
    s.yields = GetParam() == switcher_kind::none ? 0 : 1;
    s.throw_at_end = round != 1;
    start_steps(*c, s);
    while (c->state() != context_state::finished) c->resume();
    std::exception_ptr e = c->take_exception();
    if (s.throw_at_end) {
      ASSERT_NE(e, nullptr) << "round " << round;
      EXPECT_THROW(std::rethrow_exception(e), std::runtime_error);
    } else {
      EXPECT_EQ(e, nullptr) << "round " << round;
    }
    EXPECT_EQ(c->take_exception(), nullptr) << "take_exception() clears";
  }
}

void throw_int(void*) { throw 42; }

TEST_P(body_exception, any_type_immediately) {
  if (GetParam() == switcher_kind::coroutine) GTEST_SKIP() << "entry must set a root";
  auto c = make(GetParam());
  ASSERT_TRUE(c);
  c->start(&throw_int, nullptr);
  c->resume();
  EXPECT_EQ(c->state(), context_state::finished);
  try {
    std::rethrow_exception(c->take_exception());
  } catch (int v) {
    EXPECT_EQ(v, 42);
  }
}

INSTANTIATE_TEST_SUITE_P(switchers, body_exception, ::testing::ValuesIn(all_switchers), kind_name);

}  // namespace
}  // namespace prio::test
