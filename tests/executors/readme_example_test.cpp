// Description: the README's first example compiles and does what it says.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "prio/executors/executor.hpp"
#include "prio/io/nop.hpp"

using namespace std::chrono_literals;

TEST(ReadmeExample, TaskOnAnExecutor) {
  auto ex = prio::executor::create({.ring_entries = 256}).value();      // expensive
  auto t = prio::task::create({.switcher = prio::switcher_kind::asm_switch,
                               .cpu = prio::priority::high}).value();  // expensive
  t->set_body([](prio::task& self) -> prio::result<std::int64_t> {
    PRIO_TRY(self.suspend_for(1ms));     // a user-space timer: no SQE
    PRIO_TRY(prio::nop(self));           // suspend -> IORING_OP_NOP -> resume
    return std::int64_t{42};
  });
  for (int i = 0; i < 3; ++i) {          // cheap and allocation-free from here on
    ASSERT_TRUE(ex->attach(*t));
    while (t->state() != prio::task_state::completed) ASSERT_TRUE(ex->run(SIZE_MAX, 1s));
    ASSERT_TRUE(t->outcome());
    EXPECT_EQ(*t->outcome(), 42);
  }
}
