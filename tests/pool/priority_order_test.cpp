// Description: across the pool, work is dispatched highest CPU priority
// first: no task starts while a task of a higher priority is still waiting
// to be dispatched, and with one thread tasks start in priority order.
#include <algorithm>
#include <mutex>
#include <random>

#include "pool_helpers.hpp"

namespace prio::test {
namespace {

class PriorityOrder : public ::testing::TestWithParam<unsigned> {};

TEST_P(PriorityOrder, HigherLevelsDispatchedFirst) {
  const unsigned threads = GetParam();
  constexpr int kPerLevel = 300;
  auto p = make_pool(threads);
  ASSERT_TRUE(p);
  work_dispatcher& wd = p->dispatcher();

  struct record {
    std::mutex m;
    std::vector<priority> started;
    std::atomic<int> violations{0};
  } rec;
  std::vector<std::unique_ptr<task>> ts;
  std::vector<task*> batch;
  for (int lvl = 0; lvl < priority_count; ++lvl) {
    for (int i = 0; i < kPerLevel; ++i) {
      const auto prio_level = static_cast<priority>(lvl);
      ts.push_back(make_task(prio_level));
      ts.back()->set_body([&rec, &wd, prio_level](task&) -> result<std::int64_t> {
        // Every strictly higher level must have left the dispatcher already.
        for (int h = 0; h < index(prio_level); ++h)
          if (wd.undispatched(static_cast<priority>(h)) != 0) rec.violations.fetch_add(1);
        std::lock_guard<std::mutex> g(rec.m);
        rec.started.push_back(prio_level);
        return std::int64_t{0};
      });
      batch.push_back(ts.back().get());
    }
  }
  std::shuffle(batch.begin(), batch.end(), std::mt19937(42));
  // One submission: every task is queued before any can be taken.
  ASSERT_TRUE(wd.submit(batch));
  ASSERT_TRUE(p->wait(30s));
  EXPECT_EQ(rec.violations.load(), 0);
  ASSERT_EQ(rec.started.size(), batch.size());
  if (threads == 1) {
    EXPECT_TRUE(std::is_sorted(rec.started.begin(), rec.started.end()));
  }
  for (auto& t : ts) EXPECT_EQ(t->state(), task_state::completed);
}

TEST_P(PriorityOrder, CallablesCarryTheirPriority) {
  auto p = make_pool(GetParam());
  ASSERT_TRUE(p);
  std::atomic<int> seen[priority_count] = {};
  for (int i = 0; i < 300; ++i) {
    const auto lvl = static_cast<priority>(i % 3);
    ASSERT_TRUE(p->submit(
        [&seen, lvl](task& t) {
          if (t.cpu_priority() == lvl) seen[index(lvl)].fetch_add(1);
        },
        {.cpu = lvl}));
  }
  ASSERT_TRUE(p->wait(30s));
  for (auto& s : seen) EXPECT_EQ(s.load(), 100);
}

INSTANTIATE_TEST_SUITE_P(Pool, PriorityOrder, ::testing::ValuesIn(thread_counts), threads_name);

}  // namespace
}  // namespace prio::test
