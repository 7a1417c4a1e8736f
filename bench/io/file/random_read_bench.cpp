// random_read_bench.cpp: 4 KiB random reads over one file at queue depths
// 1, 32 and 128, buffered and O_DIRECT: prio (one stackful task keeping
// `qd` reads in flight through initiate_read / suspend_until_completed_io)
// against a raw liburing loop doing the same reads on a ring set up the same
// way (SINGLE_ISSUER|DEFER_TASKRUN, registered file), in the same run.
// Counters: IOPS (items_per_second); the ratio table prints at the end.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>

#include "bench_file.hpp"
#include "qd_loops.hpp"

namespace {

using prio::bench::bench_file_bytes;
using prio::bench::bench_file_path;
using prio::bench::random_offsets;

std::string g_path;
constexpr std::size_t n_offsets = 1 << 16;

void BM_prio_random_read(benchmark::State& state) {
  prio::bench::prio_qd_loop(state, g_path, prio::bench::file_op::read, static_cast<unsigned>(state.range(0)),
                            state.range(1) != 0, random_offsets(n_offsets, bench_file_bytes()));
}

void BM_liburing_random_read(benchmark::State& state) {
  prio::bench::raw_qd_loop(state, g_path, prio::bench::file_op::read, static_cast<unsigned>(state.range(0)),
                           state.range(1) != 0, random_offsets(n_offsets, bench_file_bytes()));
}

void depths(benchmark::internal::Benchmark* b) {
  for (int direct : {0, 1})
    for (int qd : {1, 32, 128}) b->Args({qd, direct});
  b->ArgNames({"qd", "direct"})->UseRealTime()->MinTime(1.0);
}
BENCHMARK(BM_prio_random_read)->Apply(depths);
BENCHMARK(BM_liburing_random_read)->Apply(depths);

// iops_reporter prints prio's IOPS next to liburing's for each setting.
class iops_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs)
      if (r.run_type == Run::RT_Iteration && !r.error_occurred) {
        auto it = r.counters.find("items_per_second");
        if (it != r.counters.end()) iops_[r.benchmark_name()] = it->second.value;
      }
    ConsoleReporter::ReportRuns(runs);
  }
  void print_ratios() const {
    std::printf("\n%-28s %12s %12s %7s\n", "setting", "prio IOPS", "liburing", "ratio");
    for (const auto& [name, v] : iops_) {
      const std::string pre = "BM_prio_random_read/";
      if (name.rfind(pre, 0) != 0) continue;
      auto base = iops_.find("BM_liburing_random_read/" + name.substr(pre.size()));
      if (base == iops_.end()) continue;
      std::printf("%-28s %12.0f %12.0f %7.3f\n", name.substr(pre.size()).c_str(), v, base->second,
                  v / base->second);
    }
  }

 private:
  std::map<std::string, double> iops_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  g_path = bench_file_path();
  iops_reporter rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  rep.print_ratios();
  benchmark::Shutdown();
  return 0;
}
