// Description: pool_options::max_pooled_tasks bounds the tasks a pool keeps
// per switcher kind; callables submitted beyond it wait in the backlog and
// run in the pooled tasks that complete, highest CPU priority first and FIFO
// within a level. wait(), stats() and cancel(job) / cancel_all() see them;
// a burst of stackful callables far beyond what the kernel's memory-map
// limit allows in stacks all run (it used to fail with ENOMEM at ~32,700).
#include <mutex>
#include <random>
#include <vector>

#include "pool_helpers.hpp"
#include "prio_build_config.h"  // PRIO_SANITIZE_THREAD
#include "prio/runtime/spin.hpp"

namespace prio::test {
namespace {

pool_options bounded(unsigned threads, std::size_t max_tasks) {
  pool_options o = pool_test_options(threads);
  o.max_pooled_tasks = max_tasks;
  return o;
}

// gate: callables that spin on a pool thread until opened, each holding
// one pooled task (and its thread) meanwhile.
class gate {
 public:
  // hold() submits n holders and returns once all of them run.
  bool hold(pool& p, int n) {
    for (int i = 0; i < n; ++i)
      if (!p.submit([this] {
            running_.fetch_add(1, std::memory_order_release);
            while (!open_.load(std::memory_order_acquire)) cpu_relax();
          }))
        return false;
    return eventually([&] { return running_.load(std::memory_order_acquire) == n; });
  }
  void open() { open_.store(true, std::memory_order_release); }

 private:
  std::atomic<int> running_{0};
  std::atomic<bool> open_{false};
};

// gated_pool: a pool whose first `held` pooled tasks (and threads) a gate
// holds from the start; it opens the gate before the pool goes, so a test
// that stops early never leaves ~pool() waiting for the holders.
struct gated_pool {
  gated_pool(const pool_options& o, int held) : p(make_pool(o)) { ok = p && g.hold(*p, held); }
  // n threads, n pooled tasks, all held: whatever is submitted waits in the backlog.
  explicit gated_pool(unsigned n) : gated_pool(bounded(n, n), static_cast<int>(n)) {}
  ~gated_pool() { g.open(); }
  pool* operator->() const { return p.get(); }
  gate g;  // (declared first: destroyed after the pool)
  std::unique_ptr<pool> p;
  bool ok = false;
};

class PoolBacklog : public ::testing::TestWithParam<unsigned> {};

TEST_P(PoolBacklog, EveryCallableRunsOnceWithinTheBound) {
  constexpr int kCalls = 5000;
  constexpr std::size_t kBound = 3;
  auto p = make_pool(bounded(GetParam(), kBound));
  ASSERT_TRUE(p);
  std::vector<std::atomic<int>> runs(kCalls);
  int held = 0;
  for (int i = 0; i < kCalls; ++i) {
    auto j = p->submit([&runs, i](task& t) {
      if (i % 3 == 0) (void)t.yield();  // stackful: some suspend while holding their task
      runs[i].fetch_add(1, std::memory_order_relaxed);
    });
    ASSERT_TRUE(j) << j.error().message();
    held += j->held();
  }
  ASSERT_TRUE(p->wait(60s));
  int wrong = 0;
  for (auto& r : runs) wrong += r.load() != 1;
  EXPECT_EQ(wrong, 0);
  EXPECT_LE(p->pooled_tasks(), kBound);
  EXPECT_GT(held, 0) << "5000 submissions against 3 tasks: some must have waited";
  EXPECT_EQ(p->backlogged(), 0u);
  const auto st = p->dispatcher().stats();
  EXPECT_EQ(st.submitted, static_cast<std::uint64_t>(kCalls));
  EXPECT_EQ(st.executed, static_cast<std::uint64_t>(kCalls));
  EXPECT_EQ(st.held, 0u);
  EXPECT_EQ(st.cancelled, 0u);
}

// Several submitting threads, pool threads submitting too, random
// priorities and cancels: every callable runs once or is destroyed unrun,
// and every cancel that succeeded is one that did not run.
TEST_P(PoolBacklog, ConcurrentSubmitsAndCancels) {
  constexpr int kSubmitters = 4, kPer = 3000, kTotal = kSubmitters * kPer;
  struct shared {
    pool* p;
    std::vector<std::atomic<int>> runs = std::vector<std::atomic<int>>(2 * kTotal);
    std::vector<std::atomic<int>> destroyed = std::vector<std::atomic<int>>(2 * kTotal);
  };
  auto p = make_pool(bounded(GetParam(), 4));
  ASSERT_TRUE(p);
  shared sh{p.get()};
  std::atomic<int> cancelled{0};
  std::vector<std::thread> submitters;
  for (int s = 0; s < kSubmitters; ++s) {
    submitters.emplace_back([&, s] {
      std::mt19937 rng(static_cast<unsigned>(s) + 1);
      for (int n = 0; n < kPer; ++n) {
        const int i = s * kPer + n;
        const auto lvl = static_cast<priority>(rng() % 3);
        auto j = p->submit(
            [sh = &sh, i, probe = capture_probe(sh.destroyed[i])](task&) {
              sh->runs[i].fetch_add(1, std::memory_order_relaxed);
              if (i % 11 != 0) return;
              // A pool thread submits too (into the backlog, often).
              const int c = kTotal + i;
              auto r = sh->p->submit([sh, c, probe2 = capture_probe(sh->destroyed[c])] {
                sh->runs[c].fetch_add(1, std::memory_order_relaxed);
              });
              if (!r) ADD_FAILURE() << "submit from a pool thread: " << r.error().message();
            },
            {.cpu = lvl});
        if (!j) {
          ADD_FAILURE() << "submit: " << j.error().message();
          return;
        }
        if (rng() % 7 == 0 && p->cancel(*j)) cancelled.fetch_add(1);
      }
    });
  }
  for (auto& t : submitters) t.join();
  ASSERT_TRUE(p->wait(60s));
  int ran = 0, twice = 0, undestroyed = 0, children_wrong = 0;
  for (int i = 0; i < kTotal; ++i) {
    const int r = sh.runs[i].load();
    twice += r > 1;
    ran += r;
    undestroyed += sh.destroyed[i].load() != 1;
    // A parent that ran submitted its child (i % 11 == 0): it ran once.
    const int c = kTotal + i;
    if (i % 11 == 0 && r == 1) children_wrong += sh.runs[c].load() != 1 || sh.destroyed[c].load() != 1;
  }
  EXPECT_EQ(twice, 0);
  EXPECT_EQ(undestroyed, 0);
  EXPECT_EQ(children_wrong, 0);
  // A successful cancel of a callable that had started (a running one)
  // still lets it run; of a queued or held one it never runs.
  EXPECT_GE(ran + cancelled.load(), kTotal);
  EXPECT_LE(ran, kTotal);
  EXPECT_LE(p->pooled_tasks(), 4u);
  const auto st = p->dispatcher().stats();
  EXPECT_EQ(st.submitted, st.executed);
  EXPECT_EQ(st.held, 0u);
}

INSTANTIATE_TEST_SUITE_P(Pool, PoolBacklog, ::testing::ValuesIn(thread_counts), threads_name);

// One pool thread, one pooled task, held by a gate: everything submitted
// meanwhile waits in the backlog, and leaves it by priority, FIFO within a
// level.
TEST(PoolBacklogOrder, HighestPriorityFirstFifoWithinALevel) {
  gated_pool p(1);
  ASSERT_TRUE(p.ok);
  std::mutex mu;
  std::vector<int> order;
  const priority levels[] = {priority::low, priority::normal, priority::high,
                             priority::low, priority::normal, priority::high};
  for (int i = 0; i < 6; ++i) {
    auto j = p->submit(
        [&, i] {
          std::lock_guard<std::mutex> l(mu);
          order.push_back(i);
        },
        {.cpu = levels[i]});
    ASSERT_TRUE(j);
    EXPECT_TRUE(j->held());
  }
  EXPECT_EQ(p->backlogged(), 6u);
  const auto st = p->dispatcher().stats();
  EXPECT_EQ(st.held, 6u);
  EXPECT_EQ(st.undispatched, 6u);
  EXPECT_EQ(st.submitted - st.executed, 7u);
  p.g.open();
  ASSERT_TRUE(p->wait(20s));
  EXPECT_EQ(order, (std::vector<int>{2, 5, 1, 4, 0, 3}));
  EXPECT_EQ(p->pooled_tasks(), 1u);
}

TEST(PoolBacklogWait, HeldCallablesCountAsUndispatchedAndUnexecuted) {
  gated_pool p(1);
  ASSERT_TRUE(p.ok);
  std::atomic<int> ran{0};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(p->submit([&ran] { ran.fetch_add(1); }));
  // The gate holds the only task: none of the five can run, so each of
  // these waits ends at its timeout, whatever the machine's speed.
  auto r = p->wait(4, SIZE_MAX, 10ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::stream_timeout);
  r = p->wait(SIZE_MAX, 5, 10ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::stream_timeout);
  EXPECT_TRUE(p->wait(5, 6, 10ms));
  EXPECT_EQ(ran.load(), 0);
  p.g.open();
  ASSERT_TRUE(p->wait(20s));
  EXPECT_EQ(ran.load(), 5);
}

TEST(PoolBacklogCancel, HeldCallableIsDestroyedUnrun) {
  gated_pool p(1);
  ASSERT_TRUE(p.ok);
  std::atomic<int> ran{0}, destroyed{0};
  auto j = p->submit([&ran, probe = capture_probe(destroyed)] { ran.fetch_add(1); });
  ASSERT_TRUE(j);
  ASSERT_TRUE(j->held());
  EXPECT_GE(j->submission(), 1u);
  ASSERT_TRUE(p->cancel(*j));
  EXPECT_EQ(destroyed.load(), 1) << "cancel() destroys a held callable at once";
  EXPECT_EQ(p->backlogged(), 0u);
  auto again = p->cancel(*j);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), std::errc::invalid_argument);
  p.g.open();
  ASSERT_TRUE(p->wait(20s));
  EXPECT_EQ(ran.load(), 0);
  const auto st = p->dispatcher().stats();
  EXPECT_EQ(st.cancelled, 1u);
  EXPECT_EQ(st.submitted, st.executed);
}

// A held job's handle follows it into its pooled task: cancelled while it
// runs there, its wait returns ECANCELED; once ended, the handle is refused.
TEST(PoolBacklogCancel, HandleReachesTheRunItBecame) {
  gated_pool p(1);
  ASSERT_TRUE(p.ok);
  std::atomic<bool> waiting{false};
  std::error_code seen;
  auto j = p->submit([&](task& t) {
    waiting.store(true, std::memory_order_release);
    if (auto r = t.suspend_for(std::chrono::hours(1)); !r) seen = r.error();
  });
  ASSERT_TRUE(j);
  ASSERT_TRUE(j->held());
  p.g.open();
  ASSERT_TRUE(eventually([&] { return waiting.load(std::memory_order_acquire); }));
  ASSERT_TRUE(p->cancel(*j));
  ASSERT_TRUE(p->wait(20s));
  EXPECT_EQ(seen, std::errc::operation_canceled);
  auto late = p->cancel(*j);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error(), std::errc::invalid_argument);
}

TEST(PoolBacklogCancel, CancelAllEmptiesTheBacklog) {
  gated_pool p(2);
  ASSERT_TRUE(p.ok);
  std::atomic<int> ran{0}, destroyed{0};
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(p->submit([&ran, probe = capture_probe(destroyed)] { ran.fetch_add(1); }));
  auto n = p->cancel_all();
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 10u);
  EXPECT_EQ(destroyed.load(), 10);
  p.g.open();
  ASSERT_TRUE(p->wait(20s));
  EXPECT_EQ(ran.load(), 0);
  // Submissions after cancel_all() run as usual, through the backlog too.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(p->submit([&ran] { ran.fetch_add(1); }));
  ASSERT_TRUE(p->wait(20s));
  EXPECT_EQ(ran.load(), 10);
}

TEST(PoolBacklogCancel, AnotherPoolsHeldJobIsRefused) {
  gated_pool a(1);
  auto b = make_pool(bounded(1, 1));
  ASSERT_TRUE(a.ok && b);
  std::atomic<int> ran{0};
  auto j = a->submit([&ran] { ran.fetch_add(1); });
  ASSERT_TRUE(j);
  ASSERT_TRUE(j->held());
  auto r = b->cancel(*j);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
  a.g.open();
  ASSERT_TRUE(a->wait(20s));
  EXPECT_EQ(ran.load(), 1);
}

// A callable's switcher must be a stackful one or none: coroutine (a
// callable is no coroutine) and values outside the enum are EINVAL, before
// any pooled task or backlog record is touched.
TEST(PoolBacklogOptions, BadSwitcherIsRefused) {
  auto p = make_pool(bounded(1, 1));
  ASSERT_TRUE(p);
  std::atomic<int> ran{0};
  for (auto k : {switcher_kind::coroutine, static_cast<switcher_kind>(switcher_kind_count),
                 static_cast<switcher_kind>(200)}) {
    auto j = p->submit([&ran] { ran.fetch_add(1); }, {.switcher = k});
    ASSERT_FALSE(j);
    EXPECT_EQ(j.error(), std::errc::invalid_argument);
  }
  ASSERT_TRUE(p->wait(20s));
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(p->pooled_tasks(), 0u);
}

TEST(PoolBacklogOptions, ZeroBoundIsRefused) {
  auto r = pool::create(bounded(1, 0));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
}

// The default bound with stackful (asm) callables: 40,000 submitted while
// both pool threads are held would have needed 40,000 stacks (two memory
// mappings each, against a limit of 65,530): submit() failed with ENOMEM
// from about 32,700 on. Now every one is accepted and runs.
TEST(PoolBacklogBurst, StackfulBurstBeyondTheMapLimitRuns) {
  pool_options o = pool_test_options(2);
  o.switcher = switcher_kind::asm_switch;
#if PRIO_SANITIZE_THREAD
  constexpr int kCalls = 10000;  // (each switch is slow under TSan)
  o.max_pooled_tasks = 2000;  // TSan gives every fiber one of its at most 8128 thread slots
#else
  constexpr int kCalls = 40000;
  EXPECT_EQ(o.max_pooled_tasks, 4096u);  // the default
#endif
  gated_pool p(o, 2);
  ASSERT_TRUE(p.ok);
  std::atomic<int> ran{0};
  for (int i = 0; i < kCalls; ++i) {
    auto j = p->submit([&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
    ASSERT_TRUE(j) << "submit " << i << ": " << j.error().message();
  }
  EXPECT_LE(p->pooled_tasks(), o.max_pooled_tasks);
  EXPECT_EQ(p->backlogged(), kCalls + 2 - o.max_pooled_tasks);
  p.g.open();
  ASSERT_TRUE(p->wait(120s));
  EXPECT_EQ(ran.load(), kCalls);
}

}  // namespace
}  // namespace prio::test
