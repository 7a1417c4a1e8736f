// attach_bench: cross-thread attach throughput. A producer thread attaches
// run-to-completion tasks to an executor running on another thread; the
// baseline hands the same work items through a mutex + condition variable
// queue, the usual hand-rolled way. One iteration = one task handed over and
// run; on both sides at most kTasks are handed over and not yet run, so the
// producer's rate is the runner's. The batch variants hand over 16 per call:
// attach(span), and 16 items pushed under one lock with one notify.
// ns_per_task is per task either way.
#include <benchmark/benchmark.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <span>
#include <vector>

#include "bench/common/ratio_reporter.hpp"
#include "prio/executors/executor.hpp"

namespace {

using namespace prio;
constexpr int kTasks = 256;  // tasks in circulation

// prio_handoff() runs the benchmark with `batch` tasks per attach call
// (1: attach(task&); more: attach(span)).
void prio_handoff(benchmark::State& state, std::size_t batch) {
  // range(0): microseconds the idle executor spins before it sleeps.
  auto exr = executor::create({.ring_entries = 64,
                               .spin_before_sleep = std::chrono::microseconds(state.range(0))});
  if (!exr) std::abort();
  executor& ex = **exr;
  std::atomic<std::uint64_t> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<task>> ts;
  std::vector<task*> raw;
  for (int i = 0; i < kTasks; ++i) {
    task_options o;
    o.switcher = switcher_kind::none;
    auto t = task::create(o);
    if (!t) std::abort();
    ts.push_back(std::move(*t));
    raw.push_back(ts.back().get());
    ts.back()->set_body([&done](task&) -> result<std::int64_t> {
      done.fetch_add(1, std::memory_order_release);
      return std::int64_t{0};
    });
  }
  std::thread runner([&] {
    while (!stop.load(std::memory_order_acquire)) (void)ex.run(SIZE_MAX, std::chrono::milliseconds(20));
    while (ex.run(SIZE_MAX, std::chrono::nanoseconds(0))) {
    }
  });
  std::uint64_t sent = 0;
  for (auto _ : state) {
    // Tasks are re-attached once they completed (their slots in the ring of
    // 256); one iteration hands over `batch` of them.
    const std::size_t first = sent % kTasks;
    for (std::size_t i = first; i < first + batch; ++i)
      while (raw[i]->state() != task_state::idle && raw[i]->state() != task_state::completed)
        std::this_thread::yield();
    const bool ok = batch == 1 ? bool(ex.attach(*raw[first]))
                               : bool(ex.attach(std::span<task* const>(raw.data() + first, batch)));
    if (!ok) state.SkipWithError("attach failed");
    sent += batch;
  }
  while (done.load(std::memory_order_acquire) < sent) std::this_thread::yield();
  stop.store(true, std::memory_order_release);
  ex.wake();
  runner.join();
  state.SetItemsProcessed(static_cast<std::int64_t>(sent));
  // Per task, comparable with the one-at-a-time rows.
  state.counters["ns_per_task"] = benchmark::Counter(static_cast<double>(sent),
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_prio_cross_thread_attach(benchmark::State& state) { prio_handoff(state, 1); }
BENCHMARK(BM_prio_cross_thread_attach)->Arg(0)->Arg(50)->UseRealTime();

void BM_prio_cross_thread_attach_batch16(benchmark::State& state) { prio_handoff(state, 16); }
BENCHMARK(BM_prio_cross_thread_attach_batch16)->Arg(0)->UseRealTime();

// mutex_handoff() is the baseline with `batch` items pushed per lock and
// notify.
void mutex_handoff(benchmark::State& state, std::size_t batch) {
  std::mutex m;
  std::condition_variable cv;
  std::deque<void (*)(std::atomic<std::uint64_t>&)> q;
  std::atomic<std::uint64_t> done{0};
  bool stop = false;
  std::thread runner([&] {
    std::unique_lock<std::mutex> lk(m);
    for (;;) {
      cv.wait(lk, [&] { return stop || !q.empty(); });
      if (q.empty() && stop) return;
      auto fn = q.front();
      q.pop_front();
      lk.unlock();
      fn(done);
      lk.lock();
    }
  });
  std::uint64_t sent = 0;
  for (auto _ : state) {
    // At most kTasks items handed over and not yet run, as prio's side has
    // kTasks tasks in circulation: without the bound the producer only
    // measures its pushes while the runner falls behind, and the backlog
    // runs after the timed loop.
    while (sent + batch - done.load(std::memory_order_acquire) > kTasks) std::this_thread::yield();
    {
      std::lock_guard<std::mutex> g(m);
      for (std::size_t i = 0; i < batch; ++i)
        q.push_back([](std::atomic<std::uint64_t>& d) { d.fetch_add(1, std::memory_order_release); });
    }
    cv.notify_one();
    sent += batch;
  }
  while (done.load(std::memory_order_acquire) < sent) std::this_thread::yield();
  {
    std::lock_guard<std::mutex> g(m);
    stop = true;
  }
  cv.notify_one();
  runner.join();
  state.SetItemsProcessed(static_cast<std::int64_t>(sent));
  state.counters["ns_per_task"] = benchmark::Counter(static_cast<double>(sent),
                                                     benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
void BM_mutex_queue_handoff(benchmark::State& state) { mutex_handoff(state, 1); }
BENCHMARK(BM_mutex_queue_handoff)->UseRealTime();

void BM_mutex_queue_handoff_batch16(benchmark::State& state) { mutex_handoff(state, 16); }
BENCHMARK(BM_mutex_queue_handoff_batch16)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  prio::bench::ratio_reporter rep({{"BM_prio_cross_thread_attach/0/real_time", "BM_mutex_queue_handoff/real_time", 0},
       {"BM_prio_cross_thread_attach/50/real_time", "BM_mutex_queue_handoff/real_time", 1.0},
       {"BM_prio_cross_thread_attach_batch16/0/real_time", "BM_mutex_queue_handoff_batch16/real_time", 0}});
  benchmark::RunSpecifiedBenchmarks(&rep);
  rep.print_ratios();
  benchmark::Shutdown();
  return 0;
}
