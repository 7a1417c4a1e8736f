// Description: work_dispatcher::cancel_all() and pool::cancel_all(): queued
// submissions (callables and tasks) complete at once without running,
// running ones see ECANCELED at their waits on their workers (sleeping
// workers are woken), later submissions run; a hook that resubmits does
// not make it loop; under submits racing with it, nothing submitted before
// the last call keeps waiting.
#include <vector>

#include "pool_helpers.hpp"
#include "prio/runtime/spin.hpp"

namespace prio::test {
namespace {

// One pool thread: a job waits on its timer, another holds the thread
// without yielding, so what is submitted next stays queued.
TEST(PoolCancelAll, QueuedNeverRunAndRunningAreCancelled) {
  auto p = make_pool(1);
  ASSERT_TRUE(p);
  std::atomic<int> waiting{0};
  std::error_code waiter_seen;
  ASSERT_TRUE(p->submit(hour_job(waiting, waiter_seen)));
  ASSERT_TRUE(eventually([&] { return waiting.load(std::memory_order_acquire) == 1; }));
  std::atomic<bool> holding{false}, release{false};
  ASSERT_TRUE(p->submit([&] {
    holding.store(true, std::memory_order_release);
    while (!release.load(std::memory_order_acquire)) cpu_relax();
  }));
  ASSERT_TRUE(eventually([&] { return holding.load(std::memory_order_acquire); }));
  std::atomic<int> ran{0};
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(p->submit([&ran] { ran.fetch_add(1); }, {.cpu = priority::low}));
  auto own = make_task(priority::high);
  own->set_body([&ran](task&) -> result<std::int64_t> { return std::int64_t{ran.fetch_add(1)}; });
  ASSERT_TRUE(p->submit(*own));

  auto n = p->cancel_all();
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(own->state(), task_state::completed) << "a queued task ends at once";
  EXPECT_TRUE(is_cancelled(own->outcome()));
  EXPECT_EQ(p->dispatcher().stats().undispatched, 0u);
  release.store(true, std::memory_order_release);
  ASSERT_TRUE(p->wait(20s));
  EXPECT_EQ(waiter_seen, std::errc::operation_canceled);
  EXPECT_EQ(ran.load(), 0);
  // Submitted after the call: runs.
  ASSERT_TRUE(p->submit([&ran] { ran.fetch_add(1); }));
  ASSERT_TRUE(p->wait(20s));
  EXPECT_EQ(ran.load(), 1);
}

// Every pool thread asleep with waiting jobs: each is woken to cancel them.
TEST(PoolCancelAll, WakesSleepingWorkers) {
  auto p = make_pool(2);
  ASSERT_TRUE(p);
  constexpr int n = 6;
  std::atomic<int> waiting{0};
  std::error_code seen[n];
  for (int i = 0; i < n; ++i) ASSERT_TRUE(p->submit(hour_job(waiting, seen[i])));
  ASSERT_TRUE(eventually([&] { return waiting.load(std::memory_order_acquire) == n; }));
  auto r = p->cancel_all();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0u) << "nothing was queued";
  ASSERT_TRUE(p->wait(20s));
  for (int i = 0; i < n; ++i) EXPECT_EQ(seen[i], std::errc::operation_canceled) << i;
  ASSERT_TRUE(p->shutdown(20s));
}

// A completion hook that submits each task again at once: cancel_all()
// withdraws what was queued when it was called, once each, and returns.
TEST(PoolCancelAll, ResubmittingHookDoesNotMakeItLoop) {
  struct resubmit {
    work_dispatcher* wd = nullptr;
    std::atomic<bool> again{true};
    std::atomic<int> calls{0};
    static void on_complete(task& t, void* self) {
      auto* r = static_cast<resubmit*>(self);
      r->calls.fetch_add(1);
      if (r->again.load()) {
        EXPECT_TRUE(r->wd->submit(t));
      }
    }
  } hook;
  work_dispatcher_options o;
  o.on_complete = &resubmit::on_complete;
  o.on_complete_arg = &hook;
  auto wdr = work_dispatcher::create(o);
  ASSERT_TRUE(wdr);
  work_dispatcher& wd = **wdr;
  hook.wd = &wd;
  constexpr int n = 10;
  std::vector<std::unique_ptr<task>> ts;
  for (int i = 0; i < n; ++i) {
    ts.push_back(make_task(static_cast<priority>(i % 3)));
    ts.back()->set_body([](task&) -> result<std::int64_t> { return std::int64_t{0}; });
    ASSERT_TRUE(wd.submit(*ts.back()));
  }
  auto first = wd.cancel_all();
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, static_cast<std::size_t>(n));
  EXPECT_EQ(hook.calls.load(), n);
  EXPECT_EQ(wd.stats().undispatched, static_cast<std::size_t>(n)) << "each submitted again by its hook";
  hook.again.store(false);
  auto second = wd.cancel_all();
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, static_cast<std::size_t>(n));
  EXPECT_EQ(wd.stats().undispatched, 0u);
  EXPECT_EQ(wd.stats().cancelled, static_cast<std::uint64_t>(2 * n));
  ASSERT_TRUE(wd.close());
}

// Two threads submit jobs that wait an hour (and quick ones) while a third
// calls cancel_all() now and then, and once more when every submit has
// returned: every job ends, nothing runs twice, and the pool drains.
TEST(PoolCancelAll, RacingSubmitsNoneLeftWaiting) {
  auto p = make_pool(2);
  ASSERT_TRUE(p);
  constexpr int submitters = 2, per_thread = 1000;
  constexpr int total = submitters * per_thread;
  std::vector<std::atomic<int>> ran(total);
  std::atomic<int> submitting{submitters};
  std::vector<std::thread> th;
  for (int s = 0; s < submitters; ++s)
    th.emplace_back([&, s] {
      for (int i = 0; i < per_thread; ++i) {
        const int id = s * per_thread + i;
        const bool waits = i % 2 == 0;
        EXPECT_TRUE(p->submit(
            [&ran, id, waits](task& t) {
              ran[id].fetch_add(1);
              if (waits) (void)t.suspend_for(std::chrono::hours(1));
            },
            {.cpu = static_cast<priority>(i % 3)}));
      }
      submitting.fetch_sub(1, std::memory_order_release);
    });
  th.emplace_back([&] {
    while (submitting.load(std::memory_order_acquire) != 0) {
      EXPECT_TRUE(p->cancel_all());
      std::this_thread::yield();
    }
    EXPECT_TRUE(p->cancel_all());  // every submit has returned
  });
  for (auto& t : th) t.join();
  ASSERT_TRUE(p->wait(60s)) << "a job submitted before the last cancel_all() still waits";
  for (int id = 0; id < total; ++id) ASSERT_LE(ran[id].load(), 1) << id;
  ASSERT_TRUE(p->shutdown(20s));
}

}  // namespace
}  // namespace prio::test
