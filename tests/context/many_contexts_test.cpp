// Description: 10,000 contexts (2,000 under TSan) of each switcher live (suspended) at once, and
// every one of them then runs to completion.
#include "prio_build_config.h"
#include "switcher_param.hpp"

namespace prio::test {
namespace {

#if PRIO_SANITIZE_THREAD
// TSan gives every fiber one of its at most 8128 thread slots.
constexpr int live = 2'000;
#else
constexpr int live = 10'000;
#endif
constexpr std::size_t small_stack = 32 * 1024;

class many_contexts : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(many_contexts, ten_thousand_live) {
  std::vector<std::unique_ptr<context>> ctxs(live);
  std::vector<stepper> steps(live);
  for (int i = 0; i < live; ++i) {
    ctxs[i] = make(GetParam(), small_stack);
    ASSERT_TRUE(ctxs[i]) << i;
    steps[i].yields = GetParam() == switcher_kind::none ? 0 : 2;
    start_steps(*ctxs[i], steps[i]);
  }
  // Interleave: every context advances one step per sweep.
  for (int sweep = 0; sweep <= steps[0].yields; ++sweep)
    for (int i = 0; i < live; ++i) ctxs[i]->resume();
  for (int i = 0; i < live; ++i) {
    ASSERT_EQ(ctxs[i]->state(), context_state::finished) << i;
    ASSERT_EQ(steps[i].steps, steps[i].yields + 1) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(switchers, many_contexts, ::testing::ValuesIn(all_switchers), kind_name);

}  // namespace
}  // namespace prio::test
