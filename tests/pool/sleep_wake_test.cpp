// Description: a pool whose executors are all asleep wakes for one task: the
// task is handed to exactly one sleeper (no thundering herd) and runs; with
// I/O-capable executors and compute-only ones alike.
#include "pool_helpers.hpp"

namespace prio::test {
namespace {

class SleepWake : public ::testing::TestWithParam<pool_case> {};

TEST_P(SleepWake, OneTaskWakesOneSleeper) {
  const auto [n, ring] = GetParam();
  auto p = make_asleep_pool(n, ring);
  ASSERT_TRUE(p);
  work_dispatcher& wd = p->dispatcher();
  for (int round = 0; round < 3; ++round) {
    const auto before = wd.stats();
    std::atomic<bool> ran{false};
    ASSERT_TRUE(p->submit([&ran] { ran.store(true); }, {.cpu = priority::high}));
    ASSERT_TRUE(p->wait(30s));
    EXPECT_TRUE(ran.load());
    ASSERT_TRUE(eventually([&] { return wd.stats().sleeping == n; }));
    const auto after = wd.stats();
    EXPECT_EQ(after.handoffs, before.handoffs + 1);
    // Only the woken executor went back to sleep: the others never woke.
    EXPECT_EQ(after.sleeps, before.sleeps + 1);
  }
}

TEST_P(SleepWake, BatchWakesOneSleeperPerTask) {
  const auto [n, ring] = GetParam();
  auto p = make_asleep_pool(n, ring);
  ASSERT_TRUE(p);
  work_dispatcher& wd = p->dispatcher();
  const auto before = wd.stats();
  std::vector<std::unique_ptr<task>> ts;
  std::vector<task*> batch;
  std::atomic<int> ran{0};
  for (unsigned i = 0; i < 2 * n; ++i) {
    ts.push_back(make_task());
    ts.back()->set_body([&ran](task&) -> result<std::int64_t> {
      ran.fetch_add(1);
      return std::int64_t{0};
    });
    batch.push_back(ts.back().get());
  }
  ASSERT_TRUE(wd.submit(batch));
  ASSERT_TRUE(p->wait(30s));
  EXPECT_EQ(ran.load(), static_cast<int>(2 * n));
  EXPECT_EQ(wd.stats().handoffs, before.handoffs + n);  // each sleeper got one directly
}

INSTANTIATE_TEST_SUITE_P(Pool, SleepWake, ::testing::ValuesIn(ring_and_compute_cases()), pool_case_name);

}  // namespace
}  // namespace prio::test
