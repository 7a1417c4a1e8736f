// Description: a body that overflows its stack faults on the guard page below
// it (the process dies) instead of corrupting neighbouring memory.
#include "prio_build_config.h"
#include "switcher_param.hpp"

namespace prio::test {
namespace {

// overflow() recurses until the stack runs out (the bound is never reached).
[[gnu::noinline]] int overflow(int depth, int limit) {
  volatile char pad[4096];
  pad[0] = static_cast<char>(depth);
  if (depth == limit) return pad[0];
  return overflow(depth + 1, limit) + pad[0];
}

void overflow_body(void*) { (void)overflow(0, 1 << 30); }

void run_overflow(switcher_kind k) {
  auto c = make_context(k, context_options{64 * 1024, nullptr});
  if (!c) std::abort();
  (*c)->start(&overflow_body, nullptr);
  (*c)->resume();
}

class stack_overflow : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(stack_overflow, hits_guard_page) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // Plain builds: SIGSEGV from the guard page. ASan: its SEGV handler (on
  // its alternate signal stack) reports a stack-overflow and aborts.
  EXPECT_DEATH(run_overflow(GetParam()), "");
}

INSTANTIATE_TEST_SUITE_P(stackful, stack_overflow, ::testing::ValuesIn(stackful_switchers),
                         kind_name);

}  // namespace
}  // namespace prio::test
