// Description: a seeded random mix on one pool from three submitting
// threads: callables of every allowed switcher and all CPU and I/O levels
// that yield, sleep and make NOP round trips; tasks the submitters own,
// submitted again (through a dispatcher channel) once their completion hook
// has run; cancel(job), cancel(task),
// an occasional cancel_all(), and wait() with random thresholds, on pools
// whose max_pooled_tasks is small enough that callables go through the
// backlog. Every callable runs at most once and is destroyed exactly once;
// one that never ran was cancelled; a wait ends in ECANCELED only where a
// cancel was aimed at that work; every owned task's submission completes;
// wait() and shutdown() return; the counts add up. A failure names its seed.
#include <random>

#include "pool_helpers.hpp"
#include "prio/io/nop.hpp"

namespace prio::test {
namespace {

constexpr int submitters = 3;
constexpr int actions = 500;  // per submitter
constexpr int owned_per_submitter = 2;
constexpr int max_calls = submitters * actions;

// cancel_all_epoch: one more at the start and at the end of each
// cancel_all(): odd while one is under way.
std::atomic<std::uint64_t> cancel_all_epoch{0};

bool cancel_all_since(std::uint64_t e) {
  const std::uint64_t now = cancel_all_epoch.load(std::memory_order_acquire);
  return now != e || (now & 1) != 0;
}

struct call_record {
  std::atomic<int> runs{0}, finished{0}, destroyed{0}, cancelled_waits{0};
  std::atomic<bool> cancel_aimed{false};
  bool submitted = false;   // by its submitter (read after the join)
  std::uint64_t epoch = 0;  // cancel_all_epoch at submit (written before)
};

// steps(): up to six waits of a random kind (NOPs only where the executor
// has a ring). ECANCELED ends them (it is counted), any other error fails
// the test. A none task only computes.
void steps(task& t, std::uint64_t seed, bool has_ring, std::atomic<int>& cancelled_waits) {
  std::mt19937_64 rng(seed);
  const int n = static_cast<int>(rng() % 7);
  for (int i = 0; i < n; ++i) {
    if (!t.can_wait_stackful()) {
      volatile std::uint64_t x = rng();
      for (int k = 0; k < 500; ++k) x = x * 3 + 1;
      continue;
    }
    result<void> r = success();
    switch (rng() % (has_ring ? 3 : 2)) {
      case 0: r = t.yield(); break;
      case 1: r = t.suspend_for(std::chrono::microseconds(rng() % 50)); break;
      default:
        if (auto v = nop(t); !v) r = failure(v.error());
        break;
    }
    if (!r) {
      if (r.error() == std::errc::operation_canceled) {
        cancelled_waits.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      ADD_FAILURE() << "a wait failed: " << r.error().message();
      return;
    }
  }
}

struct owned {
  std::unique_ptr<task> t;
  bool submitted = false;
  bool cancel_aimed = false;  // since the last submission
  std::uint64_t epoch = 0;
  int submissions = 0, completions = 0;
  std::atomic<int> hooks{0};  // completion hooks run (the channel's)
  std::atomic<int> cancelled_waits{0};
  std::uint64_t seed = 0;
};

// finished(): the channel's completion hook, after which the submission
// is over (task state alone does not say: a queued task still shows its
// last run's state).
void finished(task&, void* arg) { static_cast<owned*>(arg)->hooks.fetch_add(1, std::memory_order_release); }

bool over(const owned& o) { return o.hooks.load(std::memory_order_acquire) == o.submissions; }

// settle(): an owned task's finished submission: its outcome is a value, or
// ECANCELED where a cancel was aimed at it.
void settle(owned& o) {
  ++o.completions;
  o.submitted = false;
  const auto& out = o.t->outcome();
  if (!out) {
    EXPECT_TRUE(is_cancelled(out)) << out.error().message();
    EXPECT_TRUE(o.cancel_aimed || cancel_all_since(o.epoch)) << "an owned task ended ECANCELED uncancelled";
  }
}

struct PoolRandomOps : ::testing::TestWithParam<std::uint64_t> {};

TEST_P(PoolRandomOps, EveryCallableOnceOrCancelled) {
  const std::uint64_t seed = GetParam();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  pool_options opts = pool_test_options(1 + static_cast<unsigned>(rng() % 3), rng() % 2 ? 16 : 0);
  const std::size_t bounds[] = {1, 3, 4096};
  opts.max_pooled_tasks = bounds[rng() % 3];
  opts.spin_before_sleep = std::chrono::microseconds(rng() % 2 ? 0 : 20);
  const bool has_ring = opts.exec.ring_entries != 0;
  auto p = make_pool(opts);
  ASSERT_TRUE(p);

  std::vector<call_record> calls(max_calls);
  std::vector<std::vector<owned>> mine;  // (owned is not movable: sized once)
  mine.reserve(submitters);
  for (int s = 0; s < submitters; ++s) {
    mine.emplace_back(owned_per_submitter);
    for (int k = 0; k < owned_per_submitter; ++k) {
      owned& o = mine[s][k];
      o.t = make_task(switcher_kind::asm_switch, static_cast<priority>(rng() % 3));
      ASSERT_TRUE(o.t);
      owned* op = &o;
      o.t->set_body([op, has_ring](task& t) -> result<std::int64_t> {
        steps(t, op->seed, has_ring, op->cancelled_waits);
        return std::int64_t{7};
      });
    }
  }

  std::vector<std::vector<work_dispatcher::channel>> channels(submitters);
  for (int s = 0; s < submitters; ++s)
    for (owned& o : mine[s]) channels[s].push_back({&p->dispatcher(), &finished, &o});

  std::vector<std::thread> threads;
  std::atomic<int> cancelled_jobs{0};
  for (int s = 0; s < submitters; ++s) {
    threads.emplace_back([&, s] {
      std::mt19937_64 r(seed * 31 + static_cast<std::uint64_t>(s));
      std::vector<std::pair<pool::job, int>> jobs;
      const switcher_kind kinds[] = {switcher_kind::none, switcher_kind::sjlj, switcher_kind::ucontext,
                                     switcher_kind::asm_switch};
      for (int a = 0; a < actions; ++a) {
        const int i = s * actions + a;
        switch (r() % 10) {
          default: {  // a callable
            call_record& c = calls[static_cast<std::size_t>(i)];
            c.epoch = cancel_all_epoch.load(std::memory_order_acquire);
            const call_options opt{.cpu = static_cast<priority>(r() % 3),
                                  .io = static_cast<priority>(r() % 3),
                                  .switcher = kinds[r() % 4]};
            const std::uint64_t body_seed = r();
            auto j = p->submit(
                [c = &c, body_seed, has_ring, probe = capture_probe(c.destroyed)](task& t) {
                  c->runs.fetch_add(1, std::memory_order_relaxed);
                  steps(t, body_seed, has_ring, c->cancelled_waits);
                  c->finished.fetch_add(1, std::memory_order_relaxed);
                },
                opt);
            if (!j) {
              ADD_FAILURE() << "submit: " << j.error().message();
              return;
            }
            c.submitted = true;
            jobs.emplace_back(*j, i);
            break;
          }
          case 0:
          case 1:
            if (!jobs.empty()) {  // cancel one of this thread's jobs
              auto& [j, idx] = jobs[r() % jobs.size()];
              calls[static_cast<std::size_t>(idx)].cancel_aimed.store(true, std::memory_order_release);
              if (p->cancel(j)) cancelled_jobs.fetch_add(1, std::memory_order_relaxed);
            }
            break;
          case 2: {  // an owned task: settle and submit again, or cancel it
            owned& o = mine[s][r() % owned_per_submitter];
            if (o.submitted && over(o)) settle(o);
            if (!o.submitted) {
              o.cancel_aimed = false;
              o.epoch = cancel_all_epoch.load(std::memory_order_acquire);
              o.seed = r();
              ++o.submissions;  // before: the hook may run at once
              auto sub = p->dispatcher().submit(*o.t, &channels[static_cast<std::size_t>(s)][&o - mine[s].data()]);
              if (sub) {
                o.submitted = true;
              } else {
                --o.submissions;
                ADD_FAILURE() << "submit of an owned task: " << sub.error().message();
              }
            } else if (r() % 2) {
              o.cancel_aimed = true;
              (void)p->cancel(*o.t);  // EINVAL if it has just completed
            }
            break;
          }
          case 3:
            if (r() % 40 == 0) {
              cancel_all_epoch.fetch_add(1, std::memory_order_acq_rel);
              EXPECT_TRUE(p->cancel_all());
              cancel_all_epoch.fetch_add(1, std::memory_order_acq_rel);
            } else {
              auto w = p->wait(r() % 64, r() % 64, 20s);
              EXPECT_TRUE(w) << "wait(thresholds): " << w.error().message();
            }
            break;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(p->wait(60s));
  for (auto& ms : mine)
    for (owned& o : ms) {
      if (o.submitted) {
        ASSERT_TRUE(over(o));  // wait() returned: every hook has run
        settle(o);
      }
      EXPECT_EQ(o.completions, o.submissions);
    }

  int used = 0;
  for (int i = 0; i < max_calls; ++i) {
    call_record& c = calls[static_cast<std::size_t>(i)];
    if (!c.submitted) continue;  // that action was not a callable
    ++used;
    const bool cancelled = c.cancel_aimed.load() || cancel_all_since(c.epoch);
    EXPECT_EQ(c.destroyed.load(), 1) << "callable " << i;
    EXPECT_LE(c.runs.load(), 1) << "callable " << i;
    EXPECT_EQ(c.finished.load(), c.runs.load()) << "callable " << i;
    if (c.runs.load() == 0) {
      EXPECT_TRUE(cancelled) << "callable " << i << " never ran, and nobody cancelled it";
    }
    if (c.cancelled_waits.load() != 0) {
      EXPECT_TRUE(cancelled) << "callable " << i << " saw ECANCELED uncancelled";
    }
  }
  EXPECT_GT(used, 0);
  EXPECT_EQ(p->backlogged(), 0u);
  const auto st = p->dispatcher().stats();
  EXPECT_EQ(st.held, 0u);
  EXPECT_LE(p->pooled_tasks(), 4 * opts.max_pooled_tasks);
  EXPECT_TRUE(p->shutdown(20s));
  ::testing::Test::RecordProperty("callables", used);
  ::testing::Test::RecordProperty("cancelled_jobs", cancelled_jobs.load());
}

INSTANTIATE_TEST_SUITE_P(Seeds, PoolRandomOps, ::testing::Values(1, 2, 3, 4, 5, 6));

}  // namespace
}  // namespace prio::test
