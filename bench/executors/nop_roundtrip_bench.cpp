// nop_roundtrip_bench: suspend -> IORING_OP_NOP -> resume with 64 tasks in
// flight, against a raw liburing loop submitting the same 64 NOPs per batch
// on a ring with the same setup flags and its fd registered, as the executor
// registers its own. One iteration = 64 round trips; the
// target is prio <= 1.25x raw liburing. user_ns/op and
// sys_ns/op split each round trip into user space and the kernel.
//
// BM_bare_coro_nop and BM_paired_{bare_over_raw,prio_over_bare} split the
// ratio: a bare C++20 coroutine scheduler on the same ring
// (nop_baselines.hpp) against raw liburing, and prio against it.
//
// BM_paired_nop/* measure the same ratio the way it holds on a noisy shared
// host (bench/common/paired.hpp): one iteration is a pair of back-to-back
// chunks, prio's batches and the raw loop's, and main() prints the median
// pair ratio with its quartiles.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <vector>

#include "bench/common/cpu_split.hpp"
#include "bench/common/paired.hpp"
#include "bench/common/ratio_reporter.hpp"
#include "bench/executors/nop_baselines.hpp"
#include "prio/io/nop.hpp"

namespace {

using namespace prio;
using prio::bench::bare_coro_loop;
using prio::bench::kTasks;
using prio::bench::raw_loop;

// prio_loop: an executor with kTasks tasks, each looping on one NOP round
// trip (nop() or co_await async_nop()) until stop.
class prio_loop {
 public:
  prio_loop(switcher_kind k, bool track_task_time) {
    auto exr = executor::create({.ring_entries = 128, .track_task_time = track_task_time});
    if (!exr) std::abort();
    ex_ = std::move(*exr);
    for (int i = 0; i < kTasks; ++i) {
      task_options o;
      o.switcher = k;
      o.stack_size = 32 * 1024;
      auto t = task::create(o);
      if (!t) std::abort();
      ts_.push_back(std::move(*t));
      if (k == switcher_kind::coroutine) {
        ts_.back()->set_body([this](task& self) -> co<result<std::int64_t>> {
          while (!stop_) {
            auto r = co_await async_nop(self);
            if (!r) co_return failure(r.error());
            ++nops_;
          }
          co_return std::int64_t{0};
        });
      } else {
        ts_.back()->set_body([this](task& self) -> result<std::int64_t> {
          while (!stop_) {
            PRIO_TRY(nop(self));
            ++nops_;
          }
          return std::int64_t{0};
        });
      }
      if (!ex_->attach(*ts_.back())) std::abort();
    }
    (void)ex_->run(kTasks, std::chrono::nanoseconds(0));  // launch: every task has one NOP out
  }
  ~prio_loop() {
    stop_ = true;
    for (int i = 0; i < 100 && ex_->stats().completed < kTasks; ++i)
      (void)ex_->run(SIZE_MAX, std::chrono::milliseconds(100));
  }
  // batches() runs n x 64 round trips; false if run() failed.
  bool batches(int n) {
    for (int i = 0; i < n; ++i) {
      const std::uint64_t target = nops_ + kTasks;
      while (nops_ < target)
        if (!ex_->run(kTasks, std::chrono::seconds(1))) return false;
    }
    return true;
  }
  std::uint64_t nops() const { return nops_; }
  executor& ex() { return *ex_; }

 private:
  std::unique_ptr<executor> ex_;
  std::vector<std::unique_ptr<task>> ts_;
  bool stop_ = false;
  std::uint64_t nops_ = 0;
};

void BM_prio_nop(benchmark::State& state, switcher_kind k, bool track_task_time = true) {
  prio_loop loop(k, track_task_time);
  const std::uint64_t enters0 = loop.ex().stats().enters, nops0 = loop.nops();
  bench::cpu_split split;
  for (auto _ : state) {
    if (!loop.batches(1)) {
      state.SkipWithError("run() failed");
      break;
    }
  }
  const std::uint64_t nops = loop.nops() - nops0;
  split.report(state, nops);
  // System calls per 64 NOPs (the baseline makes one).
  state.counters["enters_per_batch"] = static_cast<double>(loop.ex().stats().enters - enters0) * kTasks /
                                       static_cast<double>(std::max<std::uint64_t>(nops, 1));
  state.counters["nops"] = static_cast<double>(loop.nops());
  state.SetLabel(loop.ex().ring_flags_text());
  state.SetItemsProcessed(state.iterations() * kTasks);
}
BENCHMARK_CAPTURE(BM_prio_nop, sjlj, switcher_kind::sjlj);
BENCHMARK_CAPTURE(BM_prio_nop, ucontext, switcher_kind::ucontext);
BENCHMARK_CAPTURE(BM_prio_nop, asm, switcher_kind::asm_switch);
BENCHMARK_CAPTURE(BM_prio_nop, coroutine, switcher_kind::coroutine);
// The same without per-slice time tracking (executor_options::track_task_time):
// one TSC read fewer per round trip.
BENCHMARK_CAPTURE(BM_prio_nop, asm_untracked, switcher_kind::asm_switch, false);
BENCHMARK_CAPTURE(BM_prio_nop, coroutine_untracked, switcher_kind::coroutine, false);

// A baseline loop (nop_baselines.hpp) in batches of kTasks NOPs, one
// io_uring_enter each.
template <class Loop>
void baseline_nop(benchmark::State& state) {
  Loop loop;
  const std::uint64_t nops0 = loop.nops();
  bench::cpu_split split;
  for (auto _ : state) loop.batches(1);
  split.report(state, loop.nops() - nops0);
  state.counters["nops"] = static_cast<double>(loop.nops());
  state.counters["enters_per_batch"] = 1;
  state.SetItemsProcessed(state.iterations() * kTasks);
}
void BM_raw_liburing_nop(benchmark::State& state) { baseline_nop<raw_loop>(state); }
BENCHMARK(BM_raw_liburing_nop);
// The bare coroutine scheduler: what C++20 coroutines cost on this ring
// without anything else prio does.
void BM_bare_coro_nop(benchmark::State& state) { baseline_nop<bare_coro_loop>(state); }
BENCHMARK(BM_bare_coro_nop);

// --- paired chunks ---------------------------------------------------------------
prio::bench::paired_rows g_paired;
constexpr int pairs_per_run = 30;
constexpr int batches_per_chunk = 100;  // 6,400 round trips, ~0.6-1 ms

// paired_chunks() warms both loops, then times pairs of their chunks.
template <class S, class B>
void paired_chunks(benchmark::State& state, const char* name, double target, S& subject, B& baseline) {
  bool ok = subject.batches(batches_per_chunk) && baseline.batches(batches_per_chunk);
  prio::bench::paired_loop(
      state, g_paired, name, target, [&] { ok = subject.batches(batches_per_chunk) && ok; },
      [&] { ok = baseline.batches(batches_per_chunk) && ok; });
  if (!ok) state.SkipWithError("run() failed");
}

void BM_paired_nop(benchmark::State& state, const char* name, switcher_kind k, bool track_task_time) {
  prio_loop subject(k, track_task_time);
  raw_loop baseline;
  paired_chunks(state, name, 1.25, subject, baseline);
}
BENCHMARK_CAPTURE(BM_paired_nop, asm, "asm / raw liburing", switcher_kind::asm_switch, true)
    ->Iterations(pairs_per_run);
BENCHMARK_CAPTURE(BM_paired_nop, coroutine, "coroutine / raw liburing", switcher_kind::coroutine, true)
    ->Iterations(pairs_per_run);
BENCHMARK_CAPTURE(BM_paired_nop, asm_untracked, "asm untracked / raw liburing", switcher_kind::asm_switch, false)
    ->Iterations(pairs_per_run);
BENCHMARK_CAPTURE(BM_paired_nop, coroutine_untracked, "coroutine untracked / raw liburing",
                  switcher_kind::coroutine, false)
    ->Iterations(pairs_per_run);

// Where the gap is: the bare coroutine loop against raw liburing, and prio's
// coroutine tasks against the bare loop (no targets: they split the ratio).
void BM_paired_bare_over_raw(benchmark::State& state) {
  bare_coro_loop subject;
  raw_loop baseline;
  paired_chunks(state, "bare coroutines / raw liburing", 0, subject, baseline);
}
BENCHMARK(BM_paired_bare_over_raw)->Iterations(pairs_per_run);

void BM_paired_prio_over_bare(benchmark::State& state, const char* name, bool track_task_time) {
  prio_loop subject(switcher_kind::coroutine, track_task_time);
  bare_coro_loop baseline;
  paired_chunks(state, name, 0, subject, baseline);
}
BENCHMARK_CAPTURE(BM_paired_prio_over_bare, coroutine, "coroutine / bare coroutines", true)
    ->Iterations(pairs_per_run);
BENCHMARK_CAPTURE(BM_paired_prio_over_bare, coroutine_untracked, "coroutine untracked / bare coroutines", false)
    ->Iterations(pairs_per_run);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  prio::bench::ratio_reporter rep({
      {"BM_prio_nop/sjlj", "BM_raw_liburing_nop", 1.25},
      {"BM_prio_nop/ucontext", "BM_raw_liburing_nop", 1.25},
      {"BM_prio_nop/asm", "BM_raw_liburing_nop", 1.25},
      {"BM_prio_nop/coroutine", "BM_raw_liburing_nop", 1.25},
      {"BM_prio_nop/asm_untracked", "BM_raw_liburing_nop", 1.25},
      {"BM_prio_nop/coroutine_untracked", "BM_raw_liburing_nop", 1.25},
      {"BM_bare_coro_nop", "BM_raw_liburing_nop", 0},
      {"BM_prio_nop/coroutine_untracked", "BM_bare_coro_nop", 0},
  });
  benchmark::RunSpecifiedBenchmarks(&rep);
  rep.print_ratios();
  g_paired.print("time per NOP round trip, subject / baseline");
  benchmark::Shutdown();
  return 0;
}
