// Description: 1,000,000 tiny callables with random priorities, submitted
// from 4 threads at once, each execute exactly once; submitters throttle
// themselves with wait(max_unexecuted) so pooled tasks stay bounded.
#include <random>

#include "pool_helpers.hpp"

namespace prio::test {
namespace {

class MillionTasks : public ::testing::TestWithParam<unsigned> {};

TEST_P(MillionTasks, EachExecutedExactlyOnce) {
  constexpr std::size_t kSubmitters = 4, kTotal = 1000000, kPer = kTotal / kSubmitters;
  constexpr std::size_t kInFlight = 1 << 14;
  auto p = make_pool(GetParam(), 0);
  ASSERT_TRUE(p);
  std::vector<std::atomic<std::uint8_t>> runs(kTotal);
  std::vector<std::thread> submitters;
  for (std::size_t s = 0; s < kSubmitters; ++s) {
    submitters.emplace_back([&, s] {
      std::mt19937 rng(static_cast<unsigned>(s));
      for (std::size_t i = s * kPer; i < (s + 1) * kPer; ++i) {
        const auto lvl = static_cast<priority>(rng() % 3);
        auto r = p->submit([&runs, i] { runs[i].fetch_add(1, std::memory_order_relaxed); },
                           {.cpu = lvl, .switcher = switcher_kind::none});
        if (!r) {
          ADD_FAILURE() << "submit: " << r.error().message();
          return;
        }
        if (i % 1024 == 0 && !p->wait(SIZE_MAX, kInFlight, 60s)) {
          ADD_FAILURE() << "throttling wait timed out";
          return;
        }
      }
    });
  }
  for (auto& t : submitters) t.join();
  ASSERT_TRUE(p->wait(60s));
  std::size_t wrong = 0;
  for (auto& r : runs) wrong += r.load() != 1;
  EXPECT_EQ(wrong, 0u);
  const auto st = p->dispatcher().stats();
  EXPECT_EQ(st.submitted, kTotal);
  EXPECT_EQ(st.executed, kTotal);
  // Throttled to kInFlight unexecuted per check: far fewer tasks than calls.
  EXPECT_LT(p->pooled_tasks(), kTotal / 4);
}

INSTANTIATE_TEST_SUITE_P(Pool, MillionTasks, ::testing::ValuesIn(thread_counts), threads_name);

}  // namespace
}  // namespace prio::test
