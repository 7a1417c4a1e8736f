// ratio_reporter.hpp: Google Benchmark reporter that prints, after the usual
// table, each benchmark's time next to its baseline from the same run.
// With --benchmark_repetitions=N each side's time is the median of its N
// runs (also with --benchmark_report_aggregates_only, from the median
// aggregate); add --benchmark_enable_random_interleaving=true so the runs of the
// two sides alternate and a noisy neighbour hits both alike.
//
//   prio::bench::ratio_reporter rep({{"BM_prio/64", "BM_raw/64", 1.25}});
//   benchmark::RunSpecifiedBenchmarks(&rep);
//   rep.print_ratios();
#pragma once

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace prio::bench {

struct ratio_pair {
  std::string subject;   // benchmark name (as printed)
  std::string baseline;  // benchmark name of the baseline
  double target = 0;     // the goal for subject/baseline (0: none); lower is better
};

class ratio_reporter : public benchmark::ConsoleReporter {
 public:
  // Colours only on a terminal (a ConsoleReporter made by hand always has
  // them; logs redirected to files should not).
  explicit ratio_reporter(std::vector<ratio_pair> pairs)
      : ConsoleReporter(::isatty(STDOUT_FILENO) ? OO_Defaults : OO_Tabular), pairs_(std::move(pairs)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs)
      if (r.run_type == Run::RT_Iteration && !r.error_occurred && r.iterations > 0) {
        auto& v = samples_[r.benchmark_name()];
        v.push_back(r.GetAdjustedRealTime() * to_ns(r.time_unit));
        ns_[r.benchmark_name()] = median(v);
      } else if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "median" && !r.error_occurred &&
                 samples_.find(r.run_name.str()) == samples_.end()) {
        // Only aggregates reach the reporter (report_aggregates_only).
        ns_[r.run_name.str()] = r.GetAdjustedRealTime() * to_ns(r.time_unit);
        aggregated_runs_ = std::max<std::size_t>(aggregated_runs_, static_cast<std::size_t>(r.repetitions));
      }
    ConsoleReporter::ReportRuns(runs);
  }

  // print_ratios() prints one line per pair whose two sides both ran.
  // Returns how many pairs missed their target.
  int print_ratios() const {
    int missed = 0;
    std::printf("\n%-44s %12s %-36s %12s %7s %7s  (medians of %zu run(s))\n", "benchmark", "ns/iter",
                "baseline", "ns/iter", "ratio", "target", runs_per_benchmark());
    for (const auto& p : pairs_) {
      auto a = ns_.find(p.subject), b = ns_.find(p.baseline);
      if (a == ns_.end() || b == ns_.end() || b->second <= 0) continue;
      const double ratio = a->second / b->second;
      const bool miss = p.target > 0 && ratio > p.target;
      missed += miss;
      std::printf("%-44s %12.1f %-36s %12.1f %7.3f %7s%s\n", p.subject.c_str(), a->second,
                  p.baseline.c_str(), b->second, ratio,
                  p.target > 0 ? (std::to_string(p.target).substr(0, 4)).c_str() : "-",
                  miss ? "  MISSED" : "");
    }
    return missed;
  }

  // ns_per_iter(): each benchmark's median time per iteration.
  const std::map<std::string, double>& ns_per_iter() const { return ns_; }
  // runs_per_benchmark(): the most repetitions any benchmark had.
  std::size_t runs_per_benchmark() const {
    std::size_t n = aggregated_runs_;
    for (const auto& [name, v] : samples_) n = std::max(n, v.size());
    return n;
  }

 private:
  static double to_ns(benchmark::TimeUnit u) {
    switch (u) {
      case benchmark::kNanosecond: return 1;
      case benchmark::kMicrosecond: return 1e3;
      case benchmark::kMillisecond: return 1e6;
      default: return 1e9;
    }
  }
  static double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
  std::vector<ratio_pair> pairs_;
  std::map<std::string, std::vector<double>> samples_;
  std::map<std::string, double> ns_;
  std::size_t aggregated_runs_ = 0;
};

}  // namespace prio::bench
