// pool_bench.cpp: the prio pool against oneTBB's task_group in the same run.
//
//   throughput: submit N empty callables one by one from one thread, then
//               wait for all (tbb: tg.run() x N, tg.wait() inside an arena of
//               the same size). items_per_second is the figure to compare.
//   batch:      the same through one work_dispatcher::submit(span) of
//               pre-made tasks (no baseline: shows the dispatcher alone).
//   latency:    an outside thread submits one task and spins until its body
//               has stamped the TSC; p50/p99 of submit -> start, in ns
//               (tbb: task_arena::enqueue from a thread outside the arena).
//
// The argument is the number of executing threads (pool threads; arena
// slots). prio runs compute-only executors ("compute") and executors with
// the default 256-entry io_uring ("ring"); tasks use the `none` switcher like
// tbb's run-to-completion tasks. The table of ratios prints at the end.
#include <benchmark/benchmark.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "prio/executors/pool.hpp"
#include "prio/runtime/clock.hpp"

namespace {

using namespace std::chrono_literals;
constexpr int kTasks = 20000;  // per throughput iteration

std::unique_ptr<prio::pool> make_pool(unsigned threads, unsigned ring_entries) {
  prio::pool_options o;
  o.threads = threads;
  o.exec.ring_entries = ring_entries;
  o.switcher = prio::switcher_kind::none;
  auto p = prio::pool::create(o);
  if (!p) {
    std::fprintf(stderr, "pool::create: %s\n", p.error().message().c_str());
    std::abort();
  }
  return std::move(*p);
}

void set_percentiles(benchmark::State& state, std::vector<prio::tsc::ticks>& v) {
  if (v.empty()) return;
  std::sort(v.begin(), v.end());
  state.counters["p50_ns"] = static_cast<double>(prio::tsc::to_ns(v[v.size() / 2]));
  state.counters["p99_ns"] = static_cast<double>(prio::tsc::to_ns(v[v.size() * 99 / 100]));
}

// --- throughput ----------------------------------------------------------------

void prio_throughput(benchmark::State& state, unsigned ring) {
  auto p = make_pool(static_cast<unsigned>(state.range(0)), ring);
  std::atomic<int> ran{0};
  for (auto _ : state) {
    for (int i = 0; i < kTasks; ++i)
      if (!p->submit([&ran] { ran.fetch_add(1, std::memory_order_relaxed); })) state.SkipWithError("submit");
    if (!p->wait()) state.SkipWithError("wait");
  }
  state.SetItemsProcessed(state.iterations() * kTasks);
}
void BM_prio_throughput_compute(benchmark::State& s) { prio_throughput(s, 0); }
void BM_prio_throughput_ring(benchmark::State& s) { prio_throughput(s, 256); }

void BM_prio_batch_compute(benchmark::State& state) {
  auto p = make_pool(static_cast<unsigned>(state.range(0)), 0);
  std::atomic<int> ran{0};
  std::vector<std::unique_ptr<prio::task>> owned;
  std::vector<prio::task*> batch;
  for (int i = 0; i < kTasks; ++i) {
    auto t = prio::task::create({prio::switcher_kind::none});
    if (!t) std::abort();
    owned.push_back(std::move(*t));
    owned.back()->set_body([&ran](prio::task&) -> prio::result<std::int64_t> {
      ran.fetch_add(1, std::memory_order_relaxed);
      return std::int64_t{0};
    });
    batch.push_back(owned.back().get());
  }
  for (auto _ : state) {
    if (!p->submit(std::span<prio::task* const>(batch))) state.SkipWithError("submit");
    if (!p->wait()) state.SkipWithError("wait");
  }
  state.SetItemsProcessed(state.iterations() * kTasks);
}

void BM_tbb_throughput(benchmark::State& state) {
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  std::atomic<int> ran{0};
  for (auto _ : state) {
    arena.execute([&] {
      tbb::task_group tg;
      for (int i = 0; i < kTasks; ++i) tg.run([&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
      tg.wait();
    });
  }
  state.SetItemsProcessed(state.iterations() * kTasks);
}

// --- submit -> start latency -------------------------------------------------------

// measure_latency() times, per iteration, submit(stamp) until stamp (the
// task body) has run on another thread: p50/p99 of submit -> start.
template <class Submit>
void measure_latency(benchmark::State& state, Submit&& submit) {
  std::atomic<prio::tsc::ticks> started{0};
  auto stamp = [&started] { started.store(prio::tsc::now(prio::tsc::fence::acquire)); };
  std::vector<prio::tsc::ticks> samples;
  samples.reserve(1 << 20);
  for (auto _ : state) {
    started.store(0, std::memory_order_relaxed);
    const prio::tsc::ticks t0 = prio::tsc::now(prio::tsc::fence::acquire);
    if (!submit(stamp)) state.SkipWithError("submit");
    prio::tsc::ticks s;
    while ((s = started.load(std::memory_order_acquire)) == 0) {
    }
    if (samples.size() < samples.capacity()) samples.push_back(s - t0);
  }
  set_percentiles(state, samples);
}

void prio_latency(benchmark::State& state, unsigned ring) {
  auto p = make_pool(static_cast<unsigned>(state.range(0)), ring);
  measure_latency(state, [&](auto& stamp) { return static_cast<bool>(p->submit(stamp)); });
  (void)p->wait();
}
void BM_prio_latency_compute(benchmark::State& s) { prio_latency(s, 0); }
void BM_prio_latency_ring(benchmark::State& s) { prio_latency(s, 256); }

void BM_tbb_latency(benchmark::State& state) {
  tbb::task_arena arena(static_cast<int>(state.range(0)), 0);  // no slot kept for this thread
  measure_latency(state, [&](auto& stamp) {
    arena.enqueue(stamp);
    return true;
  });
}

void thread_args(benchmark::internal::Benchmark* b) {
  for (int n : {1, 2, 4, 8, 16}) b->Arg(n);
  b->UseRealTime()->ArgName("threads");
}

BENCHMARK(BM_prio_throughput_compute)->Apply(thread_args);
BENCHMARK(BM_prio_throughput_ring)->Apply(thread_args);
BENCHMARK(BM_prio_batch_compute)->Apply(thread_args);
BENCHMARK(BM_tbb_throughput)->Apply(thread_args);
BENCHMARK(BM_prio_latency_compute)->Apply(thread_args);
BENCHMARK(BM_prio_latency_ring)->Apply(thread_args);
BENCHMARK(BM_tbb_latency)->Apply(thread_args);

// collector: the console output plus the figures the ratio table needs.
class collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
      auto& m = figures[r.benchmark_name()];
      for (const auto& [k, c] : r.counters) m[k] = c.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, std::map<std::string, double>> figures;
};

void print_ratios(const collector& c) {
  auto get = [&](const std::string& name, const char* key) {
    auto it = c.figures.find(name);
    if (it == c.figures.end()) return 0.0;
    auto k = it->second.find(key);
    return k == it->second.end() ? 0.0 : k->second;
  };
  std::printf("\n%-8s %-9s %14s %14s %7s   %12s %12s %7s\n", "threads", "executor", "prio tasks/s",
              "tbb tasks/s", "ratio", "prio p50 ns", "tbb p50 ns", "ratio");
  for (int n : {1, 2, 4, 8, 16}) {
    const std::string a = "/threads:" + std::to_string(n) + "/real_time";
    const double tbb = get("BM_tbb_throughput" + a, "items_per_second");
    const double tbb_lat = get("BM_tbb_latency" + a, "p50_ns");
    for (const char* kind : {"compute", "ring"}) {
      const double pr = get(std::string("BM_prio_throughput_") + kind + a, "items_per_second");
      const double lat = get(std::string("BM_prio_latency_") + kind + a, "p50_ns");
      if (pr == 0 && lat == 0) continue;
      std::printf("%-8d %-9s %14.0f %14.0f %6.2fx   %12.0f %12.0f %6.2fx\n", n, kind, pr, tbb,
                  tbb > 0 ? pr / tbb : 0.0, lat, tbb_lat, tbb_lat > 0 ? lat / tbb_lat : 0.0);
    }
  }
  std::printf("(throughput ratio: higher is better, target >= 1.0; latency ratio: lower is better)\n");
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  collector c;
  benchmark::RunSpecifiedBenchmarks(&c);
  print_ratios(c);
  benchmark::Shutdown();
  return 0;
}
