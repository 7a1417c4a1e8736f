// Description: wait() and quit() semantics on the dispatcher: thresholds,
// absolute-deadline timeouts (ETIME), idle executors quit first, a busy one
// only after its task, and close()/destruction with work still queued.
#include "pool_helpers.hpp"

namespace prio::test {
namespace {

// gate: tasks that block their executor until opened.
struct gate {
  std::atomic<bool> open{false};
  std::atomic<unsigned> entered{0};
  std::unique_ptr<task> make(priority lvl = priority::normal) {
    auto t = make_task(lvl);
    t->set_body([this](task&) -> result<std::int64_t> {
      entered.fetch_add(1);
      while (!open.load()) std::this_thread::yield();
      return std::int64_t{0};
    });
    return t;
  }
};

std::unique_ptr<work_dispatcher> make_dispatcher() {
  work_dispatcher_options o;
  o.spin_before_sleep = std::chrono::microseconds(10);
  auto r = work_dispatcher::create(o);
  EXPECT_TRUE(r);
  return r ? std::move(*r) : nullptr;
}

class WaitQuit : public ::testing::TestWithParam<unsigned> {};

TEST_P(WaitQuit, WaitThresholdsAndTimeouts) {
  const unsigned n = GetParam();
  auto wd = make_dispatcher();
  worker_threads workers(*wd, n);
  gate g;
  std::vector<std::unique_ptr<task>> gates, rest;
  for (unsigned i = 0; i < n; ++i) {
    gates.push_back(g.make());
    ASSERT_TRUE(wd->submit(*gates.back()));
  }
  ASSERT_TRUE(eventually([&] { return g.entered.load() == n; }));  // every executor is busy
  for (int i = 0; i < 10; ++i) {
    rest.push_back(make_task());
    rest.back()->set_body([](task&) -> result<std::int64_t> { return std::int64_t{0}; });
    ASSERT_TRUE(wd->submit(*rest.back()));
  }
  // 10 queued, 10 + n unexecuted, and nothing can move while the gate is shut.
  EXPECT_TRUE(wd->wait(10, 10 + n, 0ns));
  EXPECT_TRUE(wd->wait(SIZE_MAX, SIZE_MAX));
  const auto t0 = std::chrono::steady_clock::now();
  auto r = wd->wait(9, SIZE_MAX, 20ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::stream_timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);  // waited its whole timeout
  r = wd->wait(10, 9 + n, 1ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::stream_timeout);
  EXPECT_EQ(wd->stats().undispatched, 10u);
  g.open.store(true);
  EXPECT_TRUE(wd->wait(0, 0, 30s));
  EXPECT_EQ(wd->stats().executed, 10u + n);
  auto q = wd->quit(SIZE_MAX, 30s);
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, n);
  workers.join();
  EXPECT_TRUE(wd->close());
}

TEST_P(WaitQuit, IdleExecutorsQuitFirstBusyOnesAfterTheirTask) {
  const unsigned n = GetParam();
  auto wd = make_dispatcher();
  worker_threads workers(*wd, n);
  gate g;
  auto busy = g.make();
  ASSERT_TRUE(wd->submit(*busy));
  ASSERT_TRUE(eventually([&] { return g.entered.load() == 1; }));
  // The n - 1 idle ones stop while one executor is still inside its task.
  auto q = wd->quit(n - 1, 30s);
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, n - 1);
  EXPECT_EQ(wd->stats().executors, 1u);
  EXPECT_EQ(busy->state(), task_state::running);
  // The busy one cannot stop before its task completes: the quit times out.
  auto late = wd->quit(SIZE_MAX, 5ms);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error(), std::errc::stream_timeout);
  g.open.store(true);
  ASSERT_TRUE(wd->quit(SIZE_MAX, 30s));  // nobody left to ask; waits for the one asked
  workers.join();
  EXPECT_EQ(busy->state(), task_state::completed);
  EXPECT_EQ(wd->stats().executors, 0u);
  EXPECT_TRUE(wd->close());
}

// Every executor ends up inside a blocking task when as many are submitted,
// whatever mix of spinning and sleeping workers the submissions meet. (A
// submit that left a task to a spinner which then took another one and
// blocked in it, with the sleepers never woken, lost that task: seen on 16
// cores.) Each round: n gates submitted back to back, all entered, opened.
TEST_P(WaitQuit, EveryBlockingTaskFindsAnExecutor) {
  const unsigned n = GetParam();
  auto wd = make_dispatcher();
  worker_threads workers(*wd, n);
  for (int round = 0; round < 300; ++round) {
    gate g;
    std::vector<std::unique_ptr<task>> gates;
    for (unsigned i = 0; i < n; ++i) gates.push_back(g.make());
    for (auto& t : gates) ASSERT_TRUE(wd->submit(*t));
    const bool all_in = eventually([&] { return g.entered.load() == n; });
    g.open.store(true);
    ASSERT_TRUE(wd->wait(0, 0, 30s));
    ASSERT_TRUE(all_in) << "round " << round << ": " << g.entered.load() << " of " << n
                        << " entered; stats: undispatched " << wd->stats().undispatched << ", sleeping "
                        << wd->stats().sleeping;
  }
  ASSERT_TRUE(wd->quit(SIZE_MAX, 30s));
  workers.join();
  EXPECT_TRUE(wd->close());
}

INSTANTIATE_TEST_SUITE_P(Pool, WaitQuit, ::testing::ValuesIn(thread_counts), threads_name);

TEST(DispatcherClose, QueuedWorkIsAnErrorNotALeak) {
  auto wd = make_dispatcher();
  auto t = make_task();
  bool ran = false;
  t->set_body([&ran](task&) -> result<std::int64_t> {
    ran = true;
    return std::int64_t{7};
  });
  ASSERT_TRUE(wd->submit(*t));
  auto c = wd->close();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), std::errc::device_or_resource_busy);
  ::testing::internal::CaptureStderr();
  wd.reset();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("1 task(s) never dispatched"), std::string::npos) << err;
  // The task is the caller's again, with no hook into the dead dispatcher.
  auto ex = executor::create({0, 0, 0, 0});
  ASSERT_TRUE(ex);
  ASSERT_TRUE((*ex)->attach(*t));
  ASSERT_TRUE((*ex)->run(SIZE_MAX, 0ns));
  EXPECT_TRUE(ran);
  EXPECT_EQ(*t->outcome(), 7);
}

TEST(DispatcherClose, SubmitAfterCloseFails) {
  auto wd = make_dispatcher();
  ASSERT_TRUE(wd->close());
  auto t = make_task();
  t->set_body([](task&) -> result<std::int64_t> { return std::int64_t{0}; });
  auto r = wd->submit(*t);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(errc::executor_closed));
}

TEST(DispatcherClose, WaitAndQuitOnAPoolThreadAreRefused) {
  auto p = make_pool(1);
  ASSERT_TRUE(p);
  std::error_code wait_err, quit_err;
  ASSERT_TRUE(p->submit([&] {
    wait_err = p->wait(0ns).error();
    quit_err = p->dispatcher().quit(1, 0ns).error();
  }));
  ASSERT_TRUE(p->wait(30s));
  EXPECT_EQ(wait_err, std::errc::resource_deadlock_would_occur);
  EXPECT_EQ(quit_err, std::errc::resource_deadlock_would_occur);
}

}  // namespace
}  // namespace prio::test
