// Description: CPU priority order: highest non-empty level first, FIFO within
// a level, and a late high-priority task overtakes at the next suspension.
#include "exec_helpers.hpp"

namespace prio::test {
namespace {

struct order_log {
  std::vector<int> seen;
};

class PriorityOrder : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(PriorityOrder, CompletionOrderFollowsPriority) {
  auto ex = make_executor();
  order_log log;
  std::vector<std::unique_ptr<task>> ts;
  const priority levels[] = {priority::low, priority::normal, priority::high};
  // Attach 3 per level, interleaved: low, normal, high, low, normal, high ...
  for (int i = 0; i < 9; ++i) {
    ts.push_back(make_task(GetParam(), levels[i % 3]));
    const int id = i;
    ts.back()->set_body([&log, id](task&) -> result<std::int64_t> {
      log.seen.push_back(id);
      return std::int64_t{0};
    });
    ASSERT_TRUE(ex->attach(*ts.back()));
  }
  drive(*ex, [&] { return all_completed(ts); });
  // high: 2, 5, 8; normal: 1, 4, 7; low: 0, 3, 6
  EXPECT_EQ(log.seen, (std::vector<int>{2, 5, 8, 1, 4, 7, 0, 3, 6}));
}

INSTANTIATE_TEST_SUITE_P(Switchers, PriorityOrder, ::testing::ValuesIn(run_to_completion), kind_name);

class LateHigh : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(LateHigh, OvertakesAtNextSuspensionPoint) {
  auto ex = make_executor();
  std::vector<std::string> log;
  auto high = make_task(GetParam(), priority::high);
  high->set_body([&](task&) -> result<std::int64_t> {
    log.push_back("high");
    return std::int64_t{0};
  });
  auto low1 = make_task(GetParam(), priority::low);
  auto low2 = make_task(GetParam(), priority::low);
  low1->set_body([&](task& self) -> result<std::int64_t> {
    log.push_back("low1-a");
    // Attached while low tasks run: must run before low1 resumes and before low2.
    if (!executor::current()->attach(*high)) return failure(errno_error(EIO));
    PRIO_TRY(self.yield());
    log.push_back("low1-b");
    return std::int64_t{0};
  });
  low2->set_body([&](task&) -> result<std::int64_t> {
    log.push_back("low2");
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*low1));
  ASSERT_TRUE(ex->attach(*low2));
  drive(*ex, [&] {
    return low1->state() == task_state::completed && low2->state() == task_state::completed &&
           high->state() == task_state::completed;
  });
  EXPECT_EQ(log, (std::vector<std::string>{"low1-a", "high", "low2", "low1-b"}));
}

TEST_P(LateHigh, RaisingPriorityWhileQueuedMovesTheTask) {
  auto ex = make_executor();
  std::vector<int> log;
  auto a = make_task(GetParam(), priority::low);
  auto b = make_task(GetParam(), priority::low);
  a->set_body([&](task&) -> result<std::int64_t> { log.push_back(1); return std::int64_t{0}; });
  b->set_body([&](task&) -> result<std::int64_t> { log.push_back(2); return std::int64_t{0}; });
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));  // binds the executor: attach below is local
  ASSERT_TRUE(ex->attach(*a));
  ASSERT_TRUE(ex->attach(*b));
  b->set_cpu_priority(priority::high);
  drive(*ex, [&] { return a->state() == task_state::completed && b->state() == task_state::completed; });
  EXPECT_EQ(log, (std::vector<int>{2, 1}));
}

INSTANTIATE_TEST_SUITE_P(Switchers, LateHigh, ::testing::ValuesIn(stackful), kind_name);

}  // namespace
}  // namespace prio::test
