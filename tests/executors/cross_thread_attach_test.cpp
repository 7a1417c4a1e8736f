// Description: attach from 4 other threads while the executor runs (and
// sleeps): every task runs exactly once, and a sleeping executor wakes; the
// same in batches (attach(span)), which attach all their tasks or none.
#include <atomic>
#include <thread>

#include "exec_helpers.hpp"

namespace prio::test {
namespace {

// Param: tasks per attach call (1: attach(task&); more: attach(span)).
class CrossThreadAttach : public ::testing::TestWithParam<int> {};

TEST_P(CrossThreadAttach, FourThreadsEveryTaskOnceInOrder) {
  constexpr int kThreads = 4, kPerThread = 240, kRounds = 3;
  const int batch = GetParam();
  auto ex = make_executor();
  std::vector<std::unique_ptr<task>> ts;
  std::vector<task*> raw;
  std::vector<std::atomic<int>> runs(kThreads * kPerThread);
  std::vector<int> order[kThreads];  // per producer, as run (executor thread only)
  for (int i = 0; i < kThreads * kPerThread; ++i) {
    ts.push_back(make_task(i % 2 ? switcher_kind::asm_switch : switcher_kind::none));
    raw.push_back(ts.back().get());
    ts.back()->set_body([&runs, &order, i](task&) -> result<std::int64_t> {
      runs[i].fetch_add(1, std::memory_order_relaxed);
      order[i / kPerThread].push_back(i % kPerThread);
      return std::int64_t{0};
    });
  }
  std::atomic<int> completed{0};
  for (auto& t : ts)
    t->set_on_complete([](task&, void* c) { static_cast<std::atomic<int>*>(c)->fetch_add(1); },
                       &completed);
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));  // bind to this thread
  for (int round = 1; round <= kRounds; ++round) {
    for (auto& o : order) o.clear();
    std::atomic<bool> go{false};
    std::vector<std::thread> producers;
    for (int p = 0; p < kThreads; ++p) {
      producers.emplace_back([&, p] {
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        for (int i = 0; i < kPerThread; i += batch) {
          task** first = raw.data() + p * kPerThread + i;
          auto r = batch == 1 ? ex->attach(**first) : ex->attach(std::span<task* const>(first, batch));
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
    // One priority level: each producer's tasks run in the order attached.
    for (auto& o : order) {
      ASSERT_EQ(o.size(), std::size_t(kPerThread));
      for (int k = 0; k < kPerThread; ++k) ASSERT_EQ(o[k], k);
    }
  }
  EXPECT_EQ(ex->stats().remote_attaches, std::uint64_t(kRounds * kThreads * kPerThread));
}

INSTANTIATE_TEST_SUITE_P(PerCall, CrossThreadAttach, ::testing::Values(1, 24),
                         [](const auto& i) { return i.param == 1 ? std::string("one") : "batch" + std::to_string(i.param); });

TEST(CrossThreadAttachBatch, AllOrNothing) {
  auto ex = make_executor();
  std::vector<std::unique_ptr<task>> ts;
  int ran = 0;
  for (int i = 0; i < 4; ++i) {
    ts.push_back(make_task(switcher_kind::asm_switch));
    ts.back()->set_body([&ran](task&) -> result<std::int64_t> {
      ++ran;
      return std::int64_t{0};
    });
  }
  // ts[0] has run once (completed), ts[1..3] never (idle).
  ASSERT_TRUE(ex->attach(*ts[0]));
  ASSERT_TRUE(ex->run(SIZE_MAX, 0ns));
  ASSERT_EQ(ts[0]->state(), task_state::completed);
  ASSERT_TRUE(ex->attach(*ts[3]));  // pending: busy for a batch
  auto expect_untouched = [&] {
    EXPECT_EQ(ts[0]->state(), task_state::completed);
    EXPECT_EQ(ts[1]->state(), task_state::idle);
    EXPECT_EQ(ts[2]->state(), task_state::idle);
    EXPECT_EQ(ts[3]->state(), task_state::pending);
  };
  task* busy[] = {ts[0].get(), ts[1].get(), ts[3].get(), ts[2].get()};
  auto r = ex->attach(std::span<task* const>(busy));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::task_busy));
  expect_untouched();
  task* twice[] = {ts[1].get(), ts[2].get(), ts[1].get()};
  r = ex->attach(std::span<task* const>(twice));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::task_busy));
  expect_untouched();
  task* null_entry[] = {ts[1].get(), nullptr};
  r = ex->attach(std::span<task* const>(null_entry));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
  expect_untouched();
  ASSERT_TRUE(ex->run(SIZE_MAX, 0ns));  // only ts[3] ran
  EXPECT_EQ(ran, 2);
  EXPECT_EQ(ex->stats().launched, 2u);
  // A good batch on the bound thread: all of it runs.
  task* good[] = {ts[0].get(), ts[1].get(), ts[2].get(), ts[3].get()};
  ASSERT_TRUE(ex->attach(std::span<task* const>(good)));
  ASSERT_TRUE(ex->attach(std::span<task* const>()));  // empty: nothing to do
  ASSERT_TRUE(ex->run(SIZE_MAX, 0ns));
  EXPECT_EQ(ran, 6);
  for (auto& t : ts) EXPECT_EQ(t->state(), task_state::completed);
}

TEST(CrossThreadAttachRunner, ExecutorOnItsOwnThread) {
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
