// Description: a suspended context may be resumed by another thread (the
// pool moves tasks); its body sees its own stack and the hand-over, ordered
// by the threads' own synchronisation, is race-free under TSan.
#include <thread>

#include "switcher_param.hpp"

namespace prio::test {
namespace {

class thread_migration : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(thread_migration, resume_on_another_thread) {
  auto c = make(GetParam());
  ASSERT_TRUE(c);
  stepper s;
  s.yields = 4;
  start_steps(*c, s);
  c->resume();  // step 1 on this thread
  for (int i = 0; i < 4; ++i) {
    std::thread t([&] { c->resume(); });
    t.join();
    EXPECT_EQ(s.steps, i + 2);
  }
  EXPECT_EQ(c->state(), context_state::finished);
}

INSTANTIATE_TEST_SUITE_P(suspending, thread_migration, ::testing::ValuesIn(suspending_switchers),
                         kind_name);

}  // namespace
}  // namespace prio::test
