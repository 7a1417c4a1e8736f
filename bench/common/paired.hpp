// paired.hpp: ratios measured in pairs of back-to-back chunks, the way a
// comparison holds on a noisy shared host. Separate benchmark runs of the
// same two loops, seconds apart, catch a neighbour's load on one side and
// not the other: their ratio moves by more than the gap measured. Here each
// pair runs the subject's chunk and the baseline's chunk back to back on one
// thread (order alternating from pair to pair, ABBA), and the answer is the
// median over the pairs of the two chunks' ratio, with its quartiles.
//
//   std::vector<double> v;
//   for (int i = 0; i < 24; ++i) v.push_back(paired_time_ratio(i, subject, baseline));
//   paired_rows rows; rows.add("asm / boost", std::move(v), 1.0, true);
//   rows.print("time per round trip, prio / baseline");
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace prio::bench {

// quantile() is the q-quantile (0..1, nearest rank) of sorted, non-empty v.
inline double quantile(const std::vector<double>& v, double q) {
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
}

// seconds_of() times one call of f.
template <class F>
double seconds_of(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// paired_time_ratio() runs subject() and baseline() back to back, the
// subject first in even pairs and second in odd ones, and returns the
// subject's time over the baseline's (lower is better for the subject).
template <class S, class B>
double paired_time_ratio(int pair, S&& subject, B&& baseline) {
  double s, b;
  if (pair % 2 == 0) {
    s = seconds_of(subject);
    b = seconds_of(baseline);
  } else {
    b = seconds_of(baseline);
    s = seconds_of(subject);
  }
  return s / b;
}

// paired_rows: named series of pair ratios, each with its target, printed
// as one table of medians and quartiles.
class paired_rows {
 public:
  // add() appends pair ratios to row `name`; target 0 means none; at_most:
  // the ratio must stay at or below the target (else at or above).
  void add(const std::string& name, const std::vector<double>& ratios, double target, bool at_most) {
    for (auto& r : rows_)
      if (r.name == name) {
        r.ratios.insert(r.ratios.end(), ratios.begin(), ratios.end());
        return;
      }
    rows_.push_back({name, ratios, target, at_most});
  }
  void print(const char* what) {
    if (rows_.empty()) return;
    std::printf("\n%-38s %7s %7s %7s %8s  (paired chunks: %s)\n", "pairing", "p25", "median", "p75", "target",
                what);
    for (auto& r : rows_) {
      if (r.ratios.empty()) continue;
      std::sort(r.ratios.begin(), r.ratios.end());
      const double med = quantile(r.ratios, 0.5);
      const bool missed = r.target > 0 && (r.at_most ? med > r.target : med < r.target);
      char target[16] = "-";
      if (r.target > 0) std::snprintf(target, sizeof(target), "%s %.2f", r.at_most ? "<=" : ">=", r.target);
      std::printf("%-38s %7.3f %7.3f %7.3f %8s%s  (%zu pairs)\n", r.name.c_str(), quantile(r.ratios, 0.25), med,
                  quantile(r.ratios, 0.75), target, missed ? "  MISSED" : "", r.ratios.size());
    }
  }

 private:
  struct row {
    std::string name;
    std::vector<double> ratios;
    double target;
    bool at_most;
  };
  std::vector<row> rows_;
};

// paired_loop() is a benchmark body of pairs: each iteration of `state` is
// one pair of subject() and baseline() chunks; their ratios go to `rows` as
// row `name` (target: at most), and the median to the counter "ratio".
template <class S, class B>
void paired_loop(benchmark::State& state, paired_rows& rows, const char* name, double target, S&& subject,
                 B&& baseline) {
  std::vector<double> ratios;
  int pair = 0;
  for (auto _ : state) ratios.push_back(paired_time_ratio(pair++, subject, baseline));
  std::vector<double> sorted = ratios;
  std::sort(sorted.begin(), sorted.end());
  if (!sorted.empty()) state.counters["ratio"] = quantile(sorted, 0.5);
  rows.add(name, ratios, target, true);
}

}  // namespace prio::bench
