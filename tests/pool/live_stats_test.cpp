// Description: pool::live_stats() gives any thread each pool executor's
// counters while the pool runs (its published_stats()), never going
// backwards while a monitoring thread polls them, showing every executed
// task once the executors are idle, and each executor's final stats after
// shutdown.
#include "pool_helpers.hpp"

namespace prio::test {
namespace {

std::uint64_t sum_completed(const std::vector<executor_stats>& v) {
  std::uint64_t n = 0;
  for (const executor_stats& s : v) n += s.completed;
  return n;
}

class LiveStats : public ::testing::TestWithParam<unsigned> {};

TEST_P(LiveStats, MonitorSeesTheWorkThenTheFinalStats) {
  const unsigned n = GetParam();
  auto p = make_pool(n);
  ASSERT_TRUE(p);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> polls{0}, backwards{0}, bad_size{0};
  std::thread monitor([&] {
    std::vector<executor_stats> last(n);
    while (!stop.load(std::memory_order_acquire)) {
      auto v = p->live_stats();
      if (!v || v->size() != n) {
        bad_size.fetch_add(1);
        continue;
      }
      for (unsigned i = 0; i < n; ++i) {
        const executor_stats& s = (*v)[i];
        if (s.completed < last[i].completed || s.launched < last[i].launched || s.completed > s.launched)
          backwards.fetch_add(1);
        last[i] = s;
      }
      polls.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::yield();
    }
  });
  constexpr int tasks = 2000;
  std::atomic<int> ran{0};
  for (int k = 0; k < tasks; ++k)
    ASSERT_TRUE(p->submit([&ran] { ran.fetch_add(1, std::memory_order_relaxed); },
                          {.cpu = static_cast<priority>(k % 3)}));
  ASSERT_TRUE(p->wait(60s));
  EXPECT_EQ(ran.load(), tasks);
  // Idle executors sleep, and publish as they go to sleep: every task shows.
  // (Each executor also counts the dispatcher's own wake-up tasks.)
  EXPECT_TRUE(eventually([&] {
    auto v = p->live_stats();
    return v && sum_completed(*v) >= static_cast<std::uint64_t>(tasks);
  })) << "completed never reached " << tasks;
  // The monitor has polled at least once before it is told to stop.
  EXPECT_TRUE(eventually([&] { return polls.load(std::memory_order_relaxed) > 0; }));
  stop.store(true, std::memory_order_release);
  monitor.join();
  EXPECT_EQ(backwards.load(), 0u);
  EXPECT_EQ(bad_size.load(), 0u);

  ASSERT_TRUE(p->shutdown(30s));
  auto v = p->live_stats();
  ASSERT_TRUE(v);
  ASSERT_EQ(v->size(), n);
  for (unsigned i = 0; i < n; ++i) {
    EXPECT_EQ((*v)[i].completed, p->final_stats()[i].completed);
    EXPECT_EQ((*v)[i].launched, p->final_stats()[i].launched);
    EXPECT_EQ((*v)[i].in_run, p->final_stats()[i].in_run);
  }
  EXPECT_GE(sum_completed(*v), static_cast<std::uint64_t>(tasks));
}

INSTANTIATE_TEST_SUITE_P(Pool, LiveStats, ::testing::Values(1u, 2u, 4u), threads_name);

}  // namespace
}  // namespace prio::test
