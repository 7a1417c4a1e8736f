// Description: work_dispatcher::cancel() and pool::cancel(): a queued
// submission leaves the queue and completes at once without running
// (ECANCELED, its hook runs, the counts add up), positions survive the
// queue's growth, a running one is cancelled where it runs, a late call is
// refused and never touches a later submission (nor does a numbered one
// with another submission's number); under a stress of submits
// and cancels from several threads every submission completes exactly once.
#include <mutex>
#include <vector>

#include "pool_helpers.hpp"

namespace prio::test {
namespace {

// hook_log: the dispatcher's completion hook counts every call, and per
// task in the std::atomic<int> its user pointer names, if any.
struct hook_log {
  std::atomic<int> calls{0};
  static void on_complete(task& t, void* self) {
    if (auto* per_task = static_cast<std::atomic<int>*>(t.user_ptr())) per_task->fetch_add(1);
    static_cast<hook_log*>(self)->calls.fetch_add(1);
  }
};

std::unique_ptr<work_dispatcher> make_dispatcher(hook_log* log = nullptr) {
  work_dispatcher_options o;
  o.spin_before_sleep = 20us;
  if (log) {
    o.on_complete = &hook_log::on_complete;
    o.on_complete_arg = log;
  }
  auto r = work_dispatcher::create(o);
  if (!r) {
    ADD_FAILURE() << "work_dispatcher::create: " << r.error().message();
    return nullptr;
  }
  return std::move(*r);
}

void stop(work_dispatcher& wd, worker_threads& w) {
  ASSERT_TRUE(wd.wait(0, 0, 20s));
  ASSERT_TRUE(wd.quit(SIZE_MAX, 20s));
  w.join();
}

// With no worker yet, nothing is taken: each cancel() withdraws.
TEST(DispatcherCancel, QueuedTaskIsWithdrawnAndNeverRuns) {
  hook_log log;
  auto wd = make_dispatcher(&log);
  ASSERT_TRUE(wd);
  std::atomic<int> ran[3] = {};
  std::vector<std::unique_ptr<task>> ts;
  for (int i = 0; i < 3; ++i) {
    ts.push_back(make_task(static_cast<priority>(i)));
    ts.back()->set_body([&ran, i](task&) -> result<std::int64_t> {
      ran[i].fetch_add(1);
      return std::int64_t{i};
    });
    ASSERT_TRUE(wd->submit(*ts.back()));
  }
  ASSERT_TRUE(wd->cancel(*ts[1]));
  EXPECT_EQ(ts[1]->state(), task_state::completed);
  EXPECT_TRUE(is_cancelled(ts[1]->outcome()));
  EXPECT_EQ(log.calls.load(), 1) << "the hook ran on the cancelling thread";
  auto s = wd->stats();
  EXPECT_EQ(s.undispatched, 2u);
  EXPECT_EQ(s.unexecuted, 2u);
  EXPECT_EQ(s.cancelled, 1u);
  EXPECT_EQ(wd->undispatched(priority::normal), 0u);
  // Withdrawn: a second call finds nothing submitted.
  auto r = wd->cancel(*ts[1]);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
  {
    worker_threads w(*wd, 1, executor_options{0, 0, 0, 0});
    ASSERT_NO_FATAL_FAILURE(stop(*wd, w));
  }
  EXPECT_EQ(ran[0].load(), 1);
  EXPECT_EQ(ran[1].load(), 0);
  EXPECT_EQ(ran[2].load(), 1);
  EXPECT_EQ(log.calls.load(), 3);
  EXPECT_EQ(wd->stats().executed, 3u);
  ASSERT_TRUE(wd->close());
}

// A completion hook still running keeps wait() waiting: a caller that
// frees what the hooks use once wait() returns must not race them. Here the
// hook of a task withdrawn on another thread takes a while (2,000 yields)
// before it marks itself done; wait() on this thread returns after that.
TEST(DispatcherCancel, WaitReturnsAfterTheHooks) {
  struct slow_hook {
    std::atomic<bool> entered{false}, done{false};
    static void run(task&, void* self) {
      auto& h = *static_cast<slow_hook*>(self);
      h.entered.store(true, std::memory_order_release);
      for (int i = 0; i < 2000; ++i) std::this_thread::yield();
      h.done.store(true, std::memory_order_release);
    }
  } hook;
  work_dispatcher_options o;
  o.on_complete = &slow_hook::run;
  o.on_complete_arg = &hook;
  auto r = work_dispatcher::create(o);
  ASSERT_TRUE(r) << r.error().message();
  auto& wd = **r;
  auto t = make_task();
  t->set_body([](task&) -> result<std::int64_t> { return std::int64_t{0}; });
  ASSERT_TRUE(wd.submit(*t));  // no worker: it stays queued
  std::thread canceller([&] { EXPECT_TRUE(wd.cancel(*t)); });
  ASSERT_TRUE(wd.wait(0, 0, 20s));
  EXPECT_TRUE(hook.done.load(std::memory_order_acquire)) << "wait() returned while the hook still ran";
  canceller.join();
  EXPECT_TRUE(hook.entered.load());
  ASSERT_TRUE(wd.close());
}

TEST(DispatcherCancel, NotSubmittedIsAnError) {
  auto wd = make_dispatcher();
  ASSERT_TRUE(wd);
  auto other = make_dispatcher();
  ASSERT_TRUE(other);
  auto t = make_task();
  t->set_body([](task&) -> result<std::int64_t> { return std::int64_t{0}; });
  auto r = wd->cancel(*t);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
  // Submitted elsewhere: not this dispatcher's to cancel, and not
  // submittable twice.
  ASSERT_TRUE(other->submit(*t));
  r = wd->cancel(*t);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
  auto busy = wd->submit(*t);
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error(), errc::task_busy);
  ASSERT_TRUE(other->cancel(*t));
  EXPECT_TRUE(is_cancelled(t->outcome()));
  ASSERT_TRUE(other->close());
  ASSERT_TRUE(wd->close());
}

// A numbered cancel reaches its own submission only: a wrong or stale
// number is refused and leaves the task queued.
TEST(DispatcherCancel, NumberedCancelReachesOnlyItsSubmission) {
  auto wd = make_dispatcher();
  ASSERT_TRUE(wd);
  auto t = make_task();
  int ran = 0;
  t->set_body([&ran](task&) -> result<std::int64_t> { return std::int64_t{++ran}; });
  auto first = wd->submit_numbered(*t);
  ASSERT_TRUE(first);
  EXPECT_GE(*first, 1u);
  for (std::uint64_t wrong : {std::uint64_t{0}, *first + 1}) {
    auto r = wd->cancel(*t, wrong);
    ASSERT_FALSE(r) << wrong;
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
  }
  EXPECT_EQ(wd->stats().undispatched, 1u) << "a refused cancel touched the queue";
  ASSERT_TRUE(wd->cancel(*t, *first));
  EXPECT_TRUE(is_cancelled(t->outcome()));
  // The next submission gets the next number; the old one misses it.
  auto second = wd->submit_numbered(*t);
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, *first + 1);
  auto stale = wd->cancel(*t, *first);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error(), std::errc::invalid_argument);
  {
    worker_threads w(*wd, 1, executor_options{0, 0, 0, 0});
    ASSERT_NO_FATAL_FAILURE(stop(*wd, w));
  }
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(*t->outcome(), 1);
  EXPECT_EQ(wd->stats().cancelled, 1u);
  ASSERT_TRUE(wd->close());
}

// Withdrawn tasks leave holes; the queue grows past its first ring with
// holes in it; every task left runs once, FIFO within its level.
TEST(DispatcherCancel, HolesSurviveGrowthAndKeepOrder) {
  auto wd = make_dispatcher();
  ASSERT_TRUE(wd);
  constexpr int n = 3000;  // the first ring holds 1,024 per level
  std::mutex m;
  std::vector<int> order;
  std::vector<std::unique_ptr<task>> ts;
  for (int i = 0; i < n; ++i) {
    ts.push_back(make_task());
    ts.back()->set_body([&m, &order, i](task&) -> result<std::int64_t> {
      std::lock_guard<std::mutex> g(m);
      order.push_back(i);
      return std::int64_t{i};
    });
    ASSERT_TRUE(wd->submit(*ts.back()));
    // Withdraw every third, some right away, some much later.
    if (i % 3 == 0 && i % 2 == 0) {
      ASSERT_TRUE(wd->cancel(*ts.back()));
    }
  }
  for (int i = 0; i < n; i += 3) {
    if (i % 2 != 0) {
      ASSERT_TRUE(wd->cancel(*ts[i]));
    }
  }
  const std::size_t left = n - (n + 2) / 3;
  EXPECT_EQ(wd->stats().undispatched, left);
  EXPECT_EQ(wd->undispatched(priority::normal), left);
  {
    worker_threads w(*wd, 1, executor_options{0, 0, 0, 0});
    ASSERT_NO_FATAL_FAILURE(stop(*wd, w));
  }
  ASSERT_EQ(order.size(), left);
  int prev = -1;
  for (int i : order) {
    EXPECT_NE(i % 3, 0) << "a withdrawn task ran";
    EXPECT_GT(i, prev) << "out of FIFO order";
    prev = i;
  }
  for (int i = 0; i < n; ++i) {
    if (i % 3 == 0)
      EXPECT_TRUE(is_cancelled(ts[i]->outcome())) << i;
    else
      EXPECT_EQ(*ts[i]->outcome(), i);
  }
  ASSERT_TRUE(wd->close());
}

// Taken by a worker and waiting there: cancelled where it runs.
TEST(DispatcherCancel, RunningTaskIsCancelledOnItsWorker) {
  auto p = make_pool(2);
  ASSERT_TRUE(p);
  auto t = make_task(priority::normal, switcher_kind::asm_switch);
  std::atomic<bool> waiting{false};
  std::error_code seen;
  wait_an_hour(*t, waiting, seen, 5);
  ASSERT_TRUE(p->submit(*t));
  ASSERT_TRUE(eventually([&] { return waiting.load(std::memory_order_acquire); }));
  ASSERT_TRUE(p->cancel(*t));
  ASSERT_TRUE(p->wait(20s));
  EXPECT_EQ(seen, std::errc::operation_canceled);
  EXPECT_EQ(*t->outcome(), 5);
  // Its submission has completed: too late now, and the next one runs.
  auto r = p->cancel(*t);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
  t->set_body([](task&) -> result<std::int64_t> { return std::int64_t{6}; });
  ASSERT_TRUE(p->submit(*t));
  ASSERT_TRUE(p->wait(20s));
  EXPECT_EQ(*t->outcome(), 6);
  EXPECT_EQ(p->dispatcher().stats().cancelled, 1u);
}

// Submits and cancels race from several threads against a busy pool: each
// cancel() lands while the task is queued, taken, running or done. Every
// submission completes exactly once (hook count), with its own outcome or
// ECANCELED, and the dispatcher's counts add up.
TEST(DispatcherCancel, StressEverySubmissionCompletesOnce) {
  hook_log log;
  auto wd = make_dispatcher(&log);
  ASSERT_TRUE(wd);
  worker_threads w(*wd, 2, executor_options{0, 0, 0, 0});
  constexpr int submitters = 2, per_thread = 400, rounds = 5;
  std::atomic<int> own{0}, cancelled{0}, refused{0}, accepted{0};
  std::vector<std::thread> th;
  for (int s = 0; s < submitters; ++s) {
    th.emplace_back([&, s] {
      std::vector<std::unique_ptr<task>> ts;
      std::vector<std::atomic<int>> completions(per_thread);
      for (int i = 0; i < per_thread; ++i) {
        ts.push_back(make_task(static_cast<priority>(i % 3), i % 2 ? switcher_kind::asm_switch : switcher_kind::none));
        const bool yields = i % 2 != 0;
        ts.back()->set_body([yields](task& self) -> result<std::int64_t> {
          if (yields) PRIO_TRY(self.yield());
          return std::int64_t{1};
        });
        ts.back()->set_user_ptr(&completions[i]);
      }
      for (int round = 0; round < rounds; ++round) {
        for (int i = 0; i < per_thread; ++i) {
          ASSERT_TRUE(wd->submit(*ts[i]));
          // Cancel an earlier one: queued, taken, running or done by now.
          const int j = (i * 7 + s + round) % (i + 1);
          if (auto r = wd->cancel(*ts[j]); r)
            accepted.fetch_add(1);
          else if (r.error() == std::errc::invalid_argument)
            refused.fetch_add(1);
          else
            ADD_FAILURE() << "cancel: " << r.error().message();
        }
        // Every task of this round completes before it is submitted again.
        for (int i = 0; i < per_thread; ++i) {
          task* t = ts[i].get();
          ASSERT_TRUE(eventually([&] { return completions[i].load() >= round + 1; }));
          ASSERT_EQ(completions[i].load(), round + 1) << "completed twice";
          if (is_cancelled(t->outcome()))
            cancelled.fetch_add(1);
          else if (t->outcome() && *t->outcome() == 1)
            own.fetch_add(1);
          else
            ADD_FAILURE() << "outcome: " << t->outcome().error().message();
        }
      }
    });
  }
  for (auto& t : th) t.join();
  ASSERT_NO_FATAL_FAILURE(stop(*wd, w));
  const int total = submitters * per_thread * rounds;
  EXPECT_EQ(own.load() + cancelled.load(), total);
  EXPECT_EQ(log.calls.load(), total) << "a submission completed twice or never";
  const auto s = wd->stats();
  EXPECT_EQ(s.submitted, static_cast<std::uint64_t>(total));
  EXPECT_EQ(s.executed, static_cast<std::uint64_t>(total));
  EXPECT_GT(accepted.load(), 0);
  EXPECT_GE(accepted.load(), cancelled.load()) << "a run ended cancelled that nobody cancelled";
  ASSERT_TRUE(wd->close());
}

}  // namespace
}  // namespace prio::test
