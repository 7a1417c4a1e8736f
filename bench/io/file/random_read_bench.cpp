// random_read_bench.cpp: 4 KiB random reads over one file at queue depths
// 1, 32 and 128, buffered and O_DIRECT: prio (one stackful task keeping
// `qd` reads in flight through initiate_read / suspend_until_completed_io)
// against a raw liburing loop doing the same reads on a ring set up the same
// way (SINGLE_ISSUER|DEFER_TASKRUN, registered file), in the same run.
// Counters: IOPS (items_per_second); the ratio table prints at the end
// (medians with --benchmark_repetitions=N
// --benchmark_enable_random_interleaving=true).
// BM_paired_random_read measures the same ratio the way that holds on a
// noisy shared host: prio and the baseline alternate in ~20 ms chunks on
// one thread (qd_loops.hpp, paired_qd_loop), so a neighbour's load shift
// hits both sides of a pair alike; its table (the median pair, with
// quartiles) prints last.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/common/ratio_reporter.hpp"
#include "bench_file.hpp"
#include "qd_loops.hpp"

namespace {

using prio::bench::bench_file_bytes;
using prio::bench::bench_file_path;
using prio::bench::random_offsets;

std::string g_path;
constexpr std::size_t n_offsets = 1 << 16;

// offsets_for() is the benchmark's offsets; for a buffered run their
// blocks are read into the page cache first (bench_file.hpp).
std::vector<std::uint64_t> offsets_for(benchmark::State& state) {
  auto offs = random_offsets(n_offsets, bench_file_bytes());
  if (state.range(1) == 0 && !prio::bench::warm_page_cache(g_path, offs)) state.SkipWithError("warming the page cache");
  return offs;
}

void BM_prio_random_read(benchmark::State& state) {
  const auto offs = offsets_for(state);
  if (state.error_occurred()) return;
  prio::bench::prio_qd_loop(state, g_path, prio::bench::file_op::read, static_cast<unsigned>(state.range(0)),
                            state.range(1) != 0, offs);
}

void BM_liburing_random_read(benchmark::State& state) {
  const auto offs = offsets_for(state);
  if (state.error_occurred()) return;
  prio::bench::raw_qd_loop(state, g_path, prio::bench::file_op::read, static_cast<unsigned>(state.range(0)),
                           state.range(1) != 0, offs);
}

// Each setting's pair ratios (prio IOPS / baseline IOPS), over repetitions;
// the target is the default's (tracked), none for the untracked row.
prio::bench::paired_rows g_paired;
constexpr int pairs_per_run = 24;

void BM_paired_random_read(benchmark::State& state, bool tracked) {
  const auto offs = offsets_for(state);
  if (state.error_occurred()) return;
  const prio::bench::qd_job j{prio::bench::file_op::read, static_cast<unsigned>(state.range(0)),
                              state.range(1) != 0, offs, tracked};
  const std::string setting = "qd:" + std::to_string(state.range(0)) + "/direct:" + std::to_string(state.range(1)) +
                              (tracked ? "" : " untracked");
  std::vector<double> ratios;
  prio::bench::paired_qd_loop(state, g_path, j, &ratios);
  g_paired.add(setting, ratios, tracked ? 0.95 : 0, false);
}

void depths(benchmark::internal::Benchmark* b) {
  for (int direct : {0, 1})
    for (int qd : {1, 32, 128}) b->Args({qd, direct});
  b->ArgNames({"qd", "direct"})->UseRealTime();
}
BENCHMARK(BM_prio_random_read)->Apply(depths);
BENCHMARK(BM_liburing_random_read)->Apply(depths);
BENCHMARK_CAPTURE(BM_paired_random_read, tracked, true)->Apply(depths)->Iterations(pairs_per_run);
// Buffered QD 1, where prio's own bookkeeping weighs most, with
// executor_options::track_task_time = false as well (one TSC read fewer
// per read); the target row is the tracked one, the default.
BENCHMARK_CAPTURE(BM_paired_random_read, untracked, false)
    ->Args({1, 0})
    ->ArgNames({"qd", "direct"})
    ->UseRealTime()
    ->Iterations(pairs_per_run);

// print_iops() prints prio's IOPS next to liburing's for each setting (one
// iteration is one read; medians over --benchmark_repetitions).
void print_iops(const prio::bench::ratio_reporter& rep) {
  const auto& ns = rep.ns_per_iter();
  std::printf("\n%-28s %12s %12s %7s %8s  (medians of %zu run(s))\n", "setting", "prio IOPS", "liburing", "ratio",
              "target", rep.runs_per_benchmark());
  const std::string pre = "BM_prio_random_read/";
  for (const auto& [name, v] : ns) {
    if (name.rfind(pre, 0) != 0) continue;
    auto base = ns.find("BM_liburing_random_read/" + name.substr(pre.size()));
    if (base == ns.end() || v <= 0) continue;
    const double ratio = base->second / v;
    std::printf("%-28s %12.0f %12.0f %7.3f %8s%s\n", name.substr(pre.size()).c_str(), 1e9 / v, 1e9 / base->second,
                ratio, ">= 0.95", ratio < 0.95 ? "  MISSED" : "");
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  g_path = bench_file_path();
  prio::bench::ratio_reporter rep({});
  benchmark::RunSpecifiedBenchmarks(&rep);
  print_iops(rep);
  g_paired.print("prio IOPS / liburing IOPS");
  benchmark::Shutdown();
  return 0;
}
