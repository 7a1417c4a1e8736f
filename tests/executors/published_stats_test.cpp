// Description: published_stats() lets any thread read an executor's
// counters while it runs: zero before any work, whole snapshots that never
// go backwards, the final counts once the executor has gone to sleep;
// publish_stats() is refused off the executor's thread.
#include <atomic>
#include <chrono>
#include <thread>

#include "exec_helpers.hpp"
#include "prio/io/nop.hpp"

namespace prio::test {
namespace {

TEST(PublishedStats, ZeroBeforeAnyWork) {
  auto ex = make_executor();
  const executor_stats s = ex->published_stats();
  EXPECT_EQ(s.launched, 0u);
  EXPECT_EQ(s.completed, 0u);
  EXPECT_EQ(s.in_run, 0u);
  EXPECT_EQ(ex->stats_version(), 0u);
  ASSERT_TRUE(ex->publish_stats());  // before the first run(): any thread
  EXPECT_EQ(ex->stats_version(), 1u);
}

TEST(PublishedStats, PublishNowOnTheBoundThread) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::asm_switch);
  t->set_body([](task& self) -> result<std::int64_t> {
    PRIO_TRY(nop(self));
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  ASSERT_TRUE(ex->publish_stats());
  const executor_stats now = ex->stats(), pub = ex->published_stats();
  EXPECT_EQ(pub.launched, 1u);
  EXPECT_EQ(pub.completed, 1u);
  EXPECT_EQ(pub.completed, now.completed);
  EXPECT_EQ(pub.submitted_sqes, now.submitted_sqes);
  EXPECT_EQ(pub.reaped_cqes, now.reaped_cqes);
  EXPECT_EQ(pub.in_run, now.in_run);
}

// stats_publish_interval 0: every run() return publishes, so after each
// run() the snapshot is exactly stats().
TEST(PublishedStats, IntervalZeroPublishesAtEveryReturn) {
  executor_options o;
  o.stats_publish_interval = 0ns;
  auto ex = make_executor(o);
  auto t = make_task(switcher_kind::asm_switch);
  t->set_body([](task& self) -> result<std::int64_t> {
    for (int i = 0; i < 3; ++i) PRIO_TRY(nop(self));
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t));
  for (int i = 0; i < 100 && t->state() != task_state::completed; ++i) {
    const std::uint64_t v0 = ex->stats_version();
    ASSERT_TRUE(ex->run(1, 10s));
    EXPECT_GT(ex->stats_version(), v0);
    const executor_stats now = ex->stats(), pub = ex->published_stats();
    EXPECT_EQ(pub.resumed, now.resumed);
    EXPECT_EQ(pub.launched, now.launched);
    EXPECT_EQ(pub.completed, now.completed);
    EXPECT_EQ(pub.enters, now.enters);
    EXPECT_EQ(pub.in_run, now.in_run);
  }
  EXPECT_EQ(t->state(), task_state::completed);
  EXPECT_EQ(ex->published_stats().completed, 1u);
}

TEST(PublishedStats, RefusedOffTheBoundThread) {
  auto ex = make_executor();
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));  // bound to this thread
  result<void> r = success();
  std::thread other([&] { r = ex->publish_stats(); });
  other.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::not_on_executor);
}

// A run() that never returns (a task always runnable, another doing I/O)
// still publishes from its periodic submit: the monitor sees work done
// while that one run() call is still going.
TEST(PublishedStats, BusyRunThatDoesNotReturnPublishes) {
  auto ex = make_executor();
  std::atomic<bool> stop{false}, run_returned{false}, wake_returned{false};
  auto spinner = make_task(switcher_kind::asm_switch);
  spinner->set_body([&](task& self) -> result<std::int64_t> {
    while (!stop.load(std::memory_order_acquire)) PRIO_TRY(self.yield());
    return std::int64_t{0};
  });
  auto io = make_task(switcher_kind::asm_switch);
  io->set_body([&](task& self) -> result<std::int64_t> {
    while (!stop.load(std::memory_order_acquire)) PRIO_TRY(nop(self));
    return std::int64_t{0};
  });
  executor* const e = ex.get();
  std::thread runner([&] {
    EXPECT_TRUE(e->attach(*spinner));
    EXPECT_TRUE(e->attach(*io));
    auto r = e->run(SIZE_MAX, forever);  // returns only once both tasks stop
    EXPECT_TRUE(r);
    run_returned.store(true, std::memory_order_release);
    drive(*e, [&] { return spinner->state() == task_state::completed && io->state() == task_state::completed; });
    while (!wake_returned.load(std::memory_order_acquire)) std::this_thread::yield();
    ex.reset();  // on its bound thread
  });
  const auto give_up = std::chrono::steady_clock::now() + 60s;  // a bug fails, not hangs
  executor_stats s{};
  while ((s = e->published_stats()).reaped_cqes < 2 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::yield();
  const bool returned_before = run_returned.load(std::memory_order_acquire);
  stop.store(true, std::memory_order_release);
  e->wake();
  wake_returned.store(true, std::memory_order_release);
  runner.join();
  EXPECT_GE(s.reaped_cqes, 2u) << "nothing published while run() was busy";
  EXPECT_FALSE(returned_before) << "the snapshot came from run()'s return, not from the busy loop";
  EXPECT_GE(s.resumed, 2u);
}

// An executor thread runs rounds of tasks (NOPs and yields) while a
// monitoring thread reads published_stats(): each snapshot is consistent
// (in_tasks, in_io_uring and sleeping within in_run) and no counter goes
// backwards; once the executor has done everything and sleeps, the
// snapshot shows all of it.
TEST(PublishedStats, MonitorThreadSeesProgressAndTheFinalCounts) {
  auto ex = make_executor();
  constexpr int tasks = 16, rounds = 2000;
  std::vector<std::unique_ptr<task>> ts;
  for (int i = 0; i < tasks; ++i) {
    ts.push_back(make_task(i % 2 ? switcher_kind::coroutine : switcher_kind::asm_switch));
    if (i % 2)
      ts.back()->set_body([](task& self) -> co<result<std::int64_t>> {
        auto r = co_await async_nop(self);
        if (!r) co_return failure(r.error());
        co_return std::int64_t{0};
      });
    else
      ts.back()->set_body([](task& self) -> result<std::int64_t> {
        PRIO_TRY(nop(self));
        PRIO_TRY(self.yield());
        return std::int64_t{0};
      });
  }
  std::atomic<bool> stop{false}, wake_returned{false};
  std::atomic<int> rounds_done{0};
  executor* const e = ex.get();
  std::thread runner([&] {
    for (int r = 0; r < rounds && !stop.load(std::memory_order_acquire); ++r) {
      for (auto& t : ts) EXPECT_TRUE(e->attach(*t));
      drive(*e, [&] { return all_completed(ts); });
      rounds_done.store(r + 1, std::memory_order_release);
    }
    // Idle until told to stop: run() sleeps (and publishes before it does).
    while (!stop.load(std::memory_order_acquire)) (void)e->run(SIZE_MAX, forever);
    // The executor outlives every call into it (wake() below), and goes on
    // its bound thread.
    while (!wake_returned.load(std::memory_order_acquire)) std::this_thread::yield();
    ex.reset();
  });
  const std::uint64_t total = std::uint64_t{tasks} * rounds;
  executor_stats last{};
  std::uint64_t snapshots = 0;
  bool ok = true;
  const auto give_up = std::chrono::steady_clock::now() + 60s;  // a bug fails, not hangs
  for (;;) {
    const executor_stats s = ex->published_stats();
    ++snapshots;
    if (s.completed > s.launched || s.launched < last.launched || s.completed < last.completed ||
        s.resumed < last.resumed || s.reaped_cqes < last.reaped_cqes || s.in_run < last.in_run ||
        s.submitted_sqes < last.submitted_sqes || s.in_tasks + s.sleeping > s.in_run ||
        s.in_io_uring + s.in_tasks > s.in_run) {
      ok = false;
      ADD_FAILURE() << "snapshot " << snapshots << " inconsistent or went backwards: launched "
                    << s.launched << " completed " << s.completed << " (before: " << last.launched << ", "
                    << last.completed << "), in_run " << s.in_run << " in_tasks " << s.in_tasks
                    << " sleeping " << s.sleeping << " in_io_uring " << s.in_io_uring;
      break;
    }
    last = s;
    if (s.completed == total) break;
    if (std::chrono::steady_clock::now() > give_up) {
      ok = false;
      ADD_FAILURE() << "the published counts never reached the work done: completed " << s.completed
                    << " of " << total << " after " << rounds_done.load() << " rounds";
      break;
    }
    std::this_thread::yield();
  }
  const std::uint64_t versions = e->stats_version();
  stop.store(true, std::memory_order_release);
  e->wake();
  wake_returned.store(true, std::memory_order_release);
  runner.join();
  ASSERT_TRUE(ok);
  EXPECT_EQ(last.launched, total);
  EXPECT_EQ(last.completed, total);
  EXPECT_EQ(last.resumed, total + total / 2);  // every task after its NOP, stackful ones after the yield too
  EXPECT_GE(last.reaped_cqes, total);
  EXPECT_GE(versions, 1u);
}

}  // namespace
}  // namespace prio::test
