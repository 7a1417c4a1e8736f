// Description: attach from 4 other threads while the executor runs (and
// sleeps): every task runs exactly once, and a sleeping executor wakes.
#include <atomic>
#include <thread>

#include "exec_helpers.hpp"

namespace prio::test {
namespace {

TEST(CrossThreadAttach, FourThreadsEveryTaskOnce) {
  constexpr int kThreads = 4, kPerThread = 250, kRounds = 4;
  auto ex = make_executor();
  std::vector<std::unique_ptr<task>> ts;
  std::vector<std::atomic<int>> runs(kThreads * kPerThread);
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    ts.push_back(make_task(i % 2 ? switcher_kind::asm_switch : switcher_kind::none,
                           static_cast<priority>(i % 3)));
    ts.back()->set_body([&runs, i](task&) -> result<std::int64_t> {
      runs[i].fetch_add(1, std::memory_order_relaxed);
      return std::int64_t{0};
    });
  }
  std::atomic<int> completed{0};
  for (auto& t : ts)
    t->set_on_complete([](task&, void* c) { static_cast<std::atomic<int>*>(c)->fetch_add(1); },
                       &completed);
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));  // bind to this thread
  for (int round = 1; round <= kRounds; ++round) {
    std::atomic<bool> go{false};
    std::vector<std::thread> producers;
    for (int p = 0; p < kThreads; ++p) {
      producers.emplace_back([&, p] {
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        for (int i = 0; i < kPerThread; ++i) {
          auto r = ex->attach(*ts[p * kPerThread + i]);
          if (!r) ADD_FAILURE() << "attach: " << r.error().message();
        }
      });
    }
    go.store(true, std::memory_order_release);
    const int target = round * kThreads * kPerThread;
    // run() blocks (forever) while idle: each attach must wake it.
    while (completed.load() < target) ASSERT_TRUE(ex->run(SIZE_MAX, forever));
    for (auto& th : producers) th.join();
    for (auto& r : runs) ASSERT_EQ(r.load(), round);
  }
  EXPECT_EQ(ex->stats().remote_attaches, std::uint64_t(kRounds * kThreads * kPerThread));
}

TEST(CrossThreadAttach, ExecutorOnItsOwnThread) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::asm_switch);
  std::atomic<bool> done{false};
  t->set_body([&](task& self) -> result<std::int64_t> {
    PRIO_TRY(self.yield());
    done.store(true);
    return std::int64_t{42};
  });
  std::atomic<bool> bound{false};
  std::thread runner([&] {
    (void)ex->run(SIZE_MAX, 0ns);
    bound.store(true);
    while (!done.load()) {
      auto r = ex->run(SIZE_MAX, 5s);
      if (!r && r.error() != std::errc::stream_timeout) ADD_FAILURE() << r.error().message();
    }
  });
  while (!bound.load()) std::this_thread::yield();
  ASSERT_TRUE(ex->attach(*t));
  runner.join();
  EXPECT_EQ(*t->outcome(), 42);
}

}  // namespace
}  // namespace prio::test
