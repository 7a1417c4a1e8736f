// Description: a worker woken from its sleep by a hand-off goes back to the
// dispatcher's queue between rounds, even while the task it was handed keeps
// its executor busy. Every worker here sleeps, is handed one task that
// yields in a loop until told to stop (so its executor always has something
// runnable), and only a high-priority task submitted afterwards, which waits
// in the dispatcher's queue, can tell them to stop. Before the fix a woken
// worker stayed inside its executor's run() for as long as that executor had
// work, still counted as idle, so busy workers left the queue to it and the
// high-priority task waited until the low-priority work ended on its own.
#include "pool_helpers.hpp"

namespace prio::test {
namespace {

class WokenWorker : public ::testing::TestWithParam<pool_case> {};

TEST_P(WokenWorker, TakesQueuedWorkWhileItsHandedTaskKeepsItBusy) {
  const auto [n, ring] = GetParam();
  auto p = make_asleep_pool(n, ring);
  ASSERT_TRUE(p);
  work_dispatcher& wd = p->dispatcher();
  const auto before = wd.stats();

  std::atomic<bool> stop{false};
  std::atomic<unsigned> busy{0};
  std::atomic<int> yield_errors{0};
  for (unsigned i = 0; i < n; ++i) {
    auto j = p->submit(
        [&](task& t) {
          busy.fetch_add(1);
          while (!stop.load(std::memory_order_acquire))
            if (!t.yield()) {
              yield_errors.fetch_add(1);
              break;
            }
        },
        {.cpu = priority::low});
    ASSERT_TRUE(j);
  }
  // Each sleeper was handed one and runs it: nobody is idle any more.
  ASSERT_TRUE(eventually([&] { return busy.load() == n; }));
  EXPECT_EQ(wd.stats().handoffs, before.handoffs + n);

  ASSERT_TRUE(p->submit([&] { stop.store(true, std::memory_order_release); }, {.cpu = priority::high}));
  const bool taken = eventually([&] { return stop.load(std::memory_order_acquire); });
  if (!taken) stop.store(true);  // unblock the busy tasks so that the pool can stop
  EXPECT_TRUE(taken) << "the high-priority task stayed in the dispatcher's queue behind busy low-priority work";
  ASSERT_TRUE(p->wait(30s));
  EXPECT_EQ(yield_errors.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Pool, WokenWorker, ::testing::ValuesIn(ring_and_compute_cases()), pool_case_name);

}  // namespace
}  // namespace prio::test
