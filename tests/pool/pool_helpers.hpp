// pool_helpers.hpp: shared helpers for the pool and dispatcher tests.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "prio/executors/pool.hpp"
#include "prio/executors/work_dispatcher.hpp"
#include "../executors/exec_helpers.hpp"

namespace prio::test {

using namespace std::chrono_literals;

// The pool sizes every pool test runs with.
inline const std::vector<unsigned> thread_counts = {1, 2, 4, 8};

inline std::string threads_name(const ::testing::TestParamInfo<unsigned>& i) {
  return std::to_string(i.param) + "threads";
}

// pool_case: a pool size and its executors' ring entries (0: compute-only).
struct pool_case {
  unsigned threads;
  unsigned ring_entries;
};

// ring_and_compute_cases(): every thread count, with a ring and without.
inline std::vector<pool_case> ring_and_compute_cases() {
  std::vector<pool_case> v;
  for (unsigned n : thread_counts) {
    v.push_back({n, 64});
    v.push_back({n, 0});
  }
  return v;
}

inline std::string pool_case_name(const ::testing::TestParamInfo<pool_case>& i) {
  return std::to_string(i.param.threads) + "threads" + (i.param.ring_entries ? "Ring" : "ComputeOnly");
}

// pool_test_options() are the options every pool test starts from.
inline pool_options pool_test_options(unsigned threads, unsigned ring_entries = 64,
                                      std::chrono::microseconds spin = 20us) {
  pool_options o;
  o.threads = threads;
  o.exec.ring_entries = ring_entries;
  o.stack_size = 64 * 1024;
  o.spin_before_sleep = spin;
  return o;
}

// make_pool() creates a pool, or records a failure and returns nullptr.
inline std::unique_ptr<pool> make_pool(const pool_options& o) {
  auto r = pool::create(o);
  if (!r) {
    ADD_FAILURE() << "pool::create: " << r.error().message();
    return nullptr;
  }
  return std::move(*r);
}

inline std::unique_ptr<pool> make_pool(unsigned threads, unsigned ring_entries = 64,
                                       std::chrono::microseconds spin = 20us) {
  return make_pool(pool_test_options(threads, ring_entries, spin));
}

// make_task(cpu, k): the executor tests' make_task(k, cpu), with the pool
// tests' defaults (run-to-completion tasks).
inline std::unique_ptr<task> make_task(priority cpu = priority::normal,
                                       switcher_kind k = switcher_kind::none) {
  return make_task(k, cpu);
}

// eventually() polls cond (yielding) for up to 20 s: a bug shows as a failed
// assertion, never a hang. It synchronises on state, not on time.
template <class Cond>
bool eventually(Cond cond) {
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

// make_asleep_pool(): a pool that never spins (idle means asleep), once all
// n of its workers sleep; nullptr, with a failure recorded, otherwise.
inline std::unique_ptr<pool> make_asleep_pool(unsigned n, unsigned ring_entries) {
  auto p = make_pool(n, ring_entries, 0us);
  if (p && !eventually([&] { return p->dispatcher().stats().sleeping == n; })) {
    ADD_FAILURE() << "not all " << n << " workers fell asleep";
    return nullptr;
  }
  return p;
}

// hour_job(): a callable for pool::submit() that counts itself waiting,
// waits an hour (only a cancellation ends it in a test) and keeps the
// wait's error in `seen`.
inline auto hour_job(std::atomic<int>& waiting, std::error_code& seen) {
  return [&waiting, &seen](task& t) {
    waiting.fetch_add(1, std::memory_order_release);
    if (auto r = t.suspend_for(std::chrono::hours(1)); !r) seen = r.error();
  };
}

// capture_probe: a capture that counts its own destruction once, however
// often the callable holding it is moved (a moved-from probe counts nothing).
struct capture_probe {
  std::atomic<int>* destroyed;
  explicit capture_probe(std::atomic<int>& d) : destroyed(&d) {}
  capture_probe(capture_probe&& o) noexcept : destroyed(std::exchange(o.destroyed, nullptr)) {}
  capture_probe(const capture_probe&) = delete;
  ~capture_probe() {
    if (destroyed) destroyed->fetch_add(1);
  }
};

// worker_threads: n threads each running a dispatch_worker on wd until it
// is told to quit; for tests that drive the dispatcher directly.
class worker_threads {
 public:
  worker_threads(work_dispatcher& wd, unsigned n, executor_options eo = {0, 0, 0, 0}) {
    for (unsigned i = 0; i < n; ++i) {
      threads_.emplace_back([&wd, eo, this] {
        auto w = dispatch_worker::create(wd, eo);
        if (!w) {
          ADD_FAILURE() << "dispatch_worker::create: " << w.error().message();
          ++started_;
          return;
        }
        ++started_;
        for (;;) {
          auto r = (*w)->run();
          if (r) continue;
          if (r.error() != errc::executor_closed) ADD_FAILURE() << "run: " << r.error().message();
          break;
        }
      });
    }
    eventually([&] { return started_.load() == n; });
  }
  ~worker_threads() { join(); }
  void join() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  std::atomic<unsigned> started_{0};
  std::vector<std::thread> threads_;
};

}  // namespace prio::test
