// Description: executor::wake() makes run() return instead of blocking,
// from another thread or ahead of time, on ring and compute-only executors,
// sleeping or spinning.
#include <atomic>
#include <thread>

#include "exec_helpers.hpp"

namespace prio::test {
namespace {

struct wake_case {
  unsigned ring_entries;
  std::chrono::microseconds spin;
};

class Wake : public ::testing::TestWithParam<wake_case> {
 protected:
  std::unique_ptr<executor> make() {
    return make_executor({.ring_entries = GetParam().ring_entries, .spin_before_sleep = GetParam().spin});
  }
};

// A run() with a long timeout, blocked on another thread, comes back with 0
// items (not ETIME) once wake() is called. If wake() lands before run()
// blocks, run() returns at its first wait instead: either way it returns.
TEST_P(Wake, EndsABlockedRunFromAnotherThread) {
  auto ex = make();
  std::atomic<bool> returned{false};
  result<std::size_t> r = std::size_t{99};
  std::atomic<bool> wake_returned{false};
  executor* const e = ex.get();
  std::thread runner([&] {
    r = e->run(SIZE_MAX, std::chrono::seconds(60));
    returned.store(true);
    // run() may return while wake() is still on its way out: the executor
    // must outlive every call into it.
    while (!wake_returned.load()) std::this_thread::yield();
    ex.reset();  // on its bound thread
  });
  e->wake();
  wake_returned.store(true);
  runner.join();
  EXPECT_TRUE(returned.load());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, 0u);
}

// wake() ahead of time: the next run() that would block returns 0 at once;
// the request is used up, so the run() after that times out as usual.
TEST_P(Wake, AheadOfTimeIsUsedOnce) {
  auto ex = make();
  ex->wake();
  auto r = ex->run(SIZE_MAX, std::chrono::seconds(60));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, 0u);
  r = ex->run(SIZE_MAX, 1ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::stream_timeout);
}

// Work first: a run() with runnable tasks does them and returns their count;
// a pending wake() then ends the next run() that would block.
TEST_P(Wake, WorkIsDoneBeforeTheWakeEndsARun) {
  auto ex = make();
  auto t = make_task(switcher_kind::none);
  t->set_body([](task&) -> result<std::int64_t> { return std::int64_t{3}; });
  ASSERT_TRUE(ex->attach(*t));
  ex->wake();
  auto r = ex->run(SIZE_MAX, std::chrono::seconds(60));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 1u);
  EXPECT_EQ(t->state(), task_state::completed);
  r = ex->run(SIZE_MAX, std::chrono::seconds(60));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0u);
}

// A stop-flag loop, the use wake() is for: the owner thread runs until told
// to stop; the stopping thread sets the flag and wakes it.
TEST_P(Wake, StopsARunLoop) {
  auto ex = make();
  std::atomic<bool> stop{false};
  std::atomic<int> ran{0};
  std::atomic<bool> wake_returned{false};
  executor* const e = ex.get();
  std::thread owner([&] {
    while (!stop.load(std::memory_order_acquire)) (void)e->run(SIZE_MAX, forever);
    while (!wake_returned.load()) std::this_thread::yield();  // see above
    ex.reset();  // on its bound thread
  });
  auto t = make_task(switcher_kind::none);
  t->set_body([&ran](task&) -> result<std::int64_t> {
    ran.fetch_add(1);
    return std::int64_t{0};
  });
  ASSERT_TRUE(e->attach(*t));
  while (t->state() != task_state::completed) std::this_thread::yield();
  stop.store(true, std::memory_order_release);
  e->wake();
  wake_returned.store(true);
  owner.join();
  EXPECT_EQ(ran.load(), 1);
}

INSTANTIATE_TEST_SUITE_P(Executors, Wake,
                         ::testing::Values(wake_case{64, 0us}, wake_case{0, 0us}, wake_case{64, 200us}),
                         [](const ::testing::TestParamInfo<wake_case>& i) {
                           return std::string(i.param.ring_entries ? "ring" : "compute") +
                                  (i.param.spin.count() ? "_spinning" : "_sleeping");
                         });

}  // namespace
}  // namespace prio::test
