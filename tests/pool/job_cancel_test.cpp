// Description: pool::submit(f) returns a job and pool::cancel(job) cancels
// that callable: still queued, it never runs and its captures are destroyed
// at once; running, its waits return ECANCELED; once it has ended the job is
// refused, and never reaches a later callable run by the same pooled task.
// Under submits and cancels from several threads every callable either runs
// once or is destroyed unrun, and a cancelled one never runs past a wait.
#include <vector>

#include "pool_helpers.hpp"
#include "prio/runtime/spin.hpp"

namespace prio::test {
namespace {

// One pool thread held inside a callable that does not yield: nothing else
// is taken while it spins, so a job submitted meanwhile stays queued.
TEST(JobCancel, QueuedJobNeverRunsAndIsDestroyedAtOnce) {
  auto p = make_pool(1);
  ASSERT_TRUE(p);
  std::atomic<bool> holding{false}, release{false};
  auto holder = p->submit([&] {
    holding.store(true, std::memory_order_release);
    while (!release.load(std::memory_order_acquire)) cpu_relax();
  });
  ASSERT_TRUE(holder);
  ASSERT_TRUE(eventually([&] { return holding.load(std::memory_order_acquire); }));
  std::atomic<int> ran{0}, destroyed{0};
  auto j = p->submit([&ran, probe = capture_probe(destroyed)] { ran.fetch_add(1); });
  ASSERT_TRUE(j);
  EXPECT_GE(j->submission(), 1u);
  EXPECT_EQ(destroyed.load(), 0);
  ASSERT_TRUE(p->cancel(*j));
  EXPECT_EQ(destroyed.load(), 1) << "a withdrawn callable is destroyed by cancel()";
  auto again = p->cancel(*j);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), std::errc::invalid_argument);
  release.store(true, std::memory_order_release);
  ASSERT_TRUE(p->wait(20s));
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(destroyed.load(), 1);
  // The holder has ended: its job is refused too.
  auto late = p->cancel(*holder);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error(), std::errc::invalid_argument);
  EXPECT_EQ(p->dispatcher().stats().cancelled, 1u);
}

// One pool thread, so the second callable reuses the first one's pooled
// task: the first job, ended, is refused and leaves the second running.
TEST(JobCancel, EndedJobNeverReachesTheNextCallableOfItsTask) {
  auto p = make_pool(1);
  ASSERT_TRUE(p);
  std::atomic<int> quick{0};
  auto first = p->submit([&quick] { quick.fetch_add(1); });
  ASSERT_TRUE(first);
  ASSERT_TRUE(p->wait(20s));
  ASSERT_EQ(quick.load(), 1);
  std::atomic<int> waiting{0};
  std::error_code seen;
  auto second = p->submit(hour_job(waiting, seen));
  ASSERT_TRUE(second);
  ASSERT_TRUE(eventually([&] { return waiting.load(std::memory_order_acquire) == 1; }));
  ASSERT_EQ(p->pooled_tasks(), 1u) << "the test needs the second callable in the first's task";
  EXPECT_GT(second->submission(), first->submission());
  auto stale = p->cancel(*first);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error(), std::errc::invalid_argument);
  EXPECT_EQ(p->dispatcher().stats().cancelled, 0u);
  ASSERT_TRUE(p->cancel(*second));
  ASSERT_TRUE(p->wait(20s));
  EXPECT_EQ(seen, std::errc::operation_canceled);
  EXPECT_EQ(p->dispatcher().stats().cancelled, 1u);
}

// A job names its pool's submission: a default job and another pool's job
// are refused; its own pool cancels it and its wait returns ECANCELED.
TEST(JobCancel, RunningJobIsCancelledByItsPoolOnly) {
  auto p = make_pool(1);
  auto other = make_pool(1);
  ASSERT_TRUE(p && other);
  auto none = p->cancel(pool::job{});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(), std::errc::invalid_argument);
  EXPECT_EQ(pool::job{}.submission(), 0u);
  std::atomic<int> waiting{0};
  std::error_code seen;
  auto j = other->submit(hour_job(waiting, seen));
  ASSERT_TRUE(j);
  ASSERT_TRUE(eventually([&] { return waiting.load(std::memory_order_acquire) == 1; }));
  auto r = p->cancel(*j);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
  ASSERT_TRUE(other->cancel(*j));
  ASSERT_TRUE(other->wait(20s));
  EXPECT_EQ(seen, std::errc::operation_canceled);
}

// Threads submit callables and cancel earlier ones (queued, running, or
// ended by then). Each callable runs at most once, is destroyed exactly
// once, runs or was cancelled, and one whose yield saw ECANCELED had its
// cancel accepted.
TEST(JobCancel, StressEveryJobRunsOnceOrIsWithdrawn) {
  auto p = make_pool(2);
  ASSERT_TRUE(p);
  constexpr int submitters = 2, per_thread = 1500;
  constexpr int total = submitters * per_thread;
  std::vector<std::atomic<int>> ran(total), destroyed(total), saw_cancel(total);
  std::atomic<int> accepted{0}, refused{0};
  std::vector<std::thread> th;
  for (int s = 0; s < submitters; ++s) {
    th.emplace_back([&, s] {
      std::vector<pool::job> jobs;
      jobs.reserve(per_thread);
      for (int i = 0; i < per_thread; ++i) {
        const int id = s * per_thread + i;
        auto j = p->submit(
            [&ran, &saw_cancel, id, probe = capture_probe(destroyed[id])](task& t) {
              ran[id].fetch_add(1);
              if (auto r = t.yield(); !r && r.error() == std::errc::operation_canceled) saw_cancel[id].fetch_add(1);
            },
            {.cpu = static_cast<priority>(i % 3)});
        ASSERT_TRUE(j);
        jobs.push_back(*j);
        const int k = (i * 7 + s) % (i + 1);
        if (auto r = p->cancel(jobs[k]); r)
          accepted.fetch_add(1);
        else if (r.error() == std::errc::invalid_argument)
          refused.fetch_add(1);
        else
          ADD_FAILURE() << "cancel: " << r.error().message();
      }
    });
  }
  for (auto& t : th) t.join();
  ASSERT_TRUE(p->wait(60s));
  int ran_total = 0, seen_total = 0;
  for (int id = 0; id < total; ++id) {
    ASSERT_LE(ran[id].load(), 1) << "job " << id << " ran twice";
    ASSERT_EQ(destroyed[id].load(), 1) << "job " << id;
    ran_total += ran[id].load();
    seen_total += saw_cancel[id].load();
  }
  const int withdrawn = total - ran_total;
  EXPECT_GT(accepted.load(), 0);
  EXPECT_GE(accepted.load(), withdrawn + seen_total) << "a job ended cancelled that nobody cancelled";
  EXPECT_EQ(accepted.load() + refused.load(), total);
  EXPECT_EQ(p->dispatcher().stats().cancelled, static_cast<std::uint64_t>(accepted.load()));
}

}  // namespace
}  // namespace prio::test
