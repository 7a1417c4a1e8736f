// nop_roundtrip_bench: suspend -> IORING_OP_NOP -> resume with 64 tasks in
// flight, against a raw liburing loop submitting the same 64 NOPs per batch
// on a ring with the same setup flags and its fd registered, as the executor
// registers its own. One iteration = 64 round trips; the
// target is prio <= 1.25x raw liburing. user_ns/op and
// sys_ns/op split each round trip into user space and the kernel.
#include <benchmark/benchmark.h>
#include <liburing.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "bench/common/cpu_split.hpp"
#include "bench/common/ratio_reporter.hpp"
#include "prio/io/nop.hpp"

namespace {

using namespace prio;
constexpr int kTasks = 64;

struct loop_state {
  bool stop = false;
  std::uint64_t nops = 0;
};

void BM_prio_nop(benchmark::State& state, switcher_kind k, bool track_task_time = true) {
  auto exr = executor::create({.ring_entries = 128, .track_task_time = track_task_time});
  if (!exr) std::abort();
  auto& ex = **exr;
  loop_state ls;
  std::vector<std::unique_ptr<task>> ts;
  for (int i = 0; i < kTasks; ++i) {
    task_options o;
    o.switcher = k;
    o.stack_size = 32 * 1024;
    auto t = task::create(o);
    if (!t) std::abort();
    ts.push_back(std::move(*t));
    if (k == switcher_kind::coroutine) {
      ts.back()->set_body([&ls](task& self) -> co<result<std::int64_t>> {
        while (!ls.stop) {
          auto r = co_await async_nop(self);
          if (!r) co_return failure(r.error());
          ++ls.nops;
        }
        co_return std::int64_t{0};
      });
    } else {
      ts.back()->set_body([&ls](task& self) -> result<std::int64_t> {
        while (!ls.stop) {
          PRIO_TRY(nop(self));
          ++ls.nops;
        }
        return std::int64_t{0};
      });
    }
    (void)ex.attach(*ts.back());
  }
  (void)ex.run(kTasks, std::chrono::nanoseconds(0));  // launch: every task has one NOP out
  const std::uint64_t enters0 = ex.stats().enters, nops0 = ls.nops;
  bench::cpu_split split;
  for (auto _ : state) {
    const std::uint64_t target = ls.nops + kTasks;  // one iteration: 64 round trips
    while (ls.nops < target) {
      auto r = ex.run(kTasks, std::chrono::seconds(1));
      if (!r) {
        state.SkipWithError("run() failed");
        break;
      }
    }
  }
  split.report(state, ls.nops - nops0);
  // System calls per 64 NOPs (the baseline makes one).
  state.counters["enters_per_batch"] =
      static_cast<double>(ex.stats().enters - enters0) * kTasks / static_cast<double>(std::max<std::uint64_t>(ls.nops - nops0, 1));
  ls.stop = true;
  for (int i = 0; i < 100 && ex.stats().completed < kTasks; ++i) (void)ex.run(SIZE_MAX, std::chrono::milliseconds(100));
  state.counters["nops"] = static_cast<double>(ls.nops);
  state.SetLabel(ex.ring_flags_text());
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

// The baseline: the same ring setup and batch size, no tasks at all.
void BM_raw_liburing_nop(benchmark::State& state) {
  io_uring ring;
  io_uring_params p;
  std::memset(&p, 0, sizeof(p));
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL;
  if (io_uring_queue_init_params(128, &ring, &p) < 0) {
    std::memset(&p, 0, sizeof(p));
    if (io_uring_queue_init_params(128, &ring, &p) < 0) std::abort();
  }
  (void)io_uring_register_ring_fd(&ring);  // as the executor does on its thread
  std::uint64_t nops = 0;
  bench::cpu_split split;
  for (auto _ : state) {
    for (int i = 0; i < kTasks; ++i) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      io_uring_prep_nop(sqe);
      io_uring_sqe_set_data64(sqe, static_cast<std::uint64_t>(i));
    }
    io_uring_submit_and_wait(&ring, kTasks);
    unsigned head, n = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring, head, cqe) {
      nops += cqe->res == 0;
      ++n;
    }
    io_uring_cq_advance(&ring, n);
  }
  split.report(state, state.iterations() * kTasks);
  io_uring_queue_exit(&ring);
  state.counters["nops"] = static_cast<double>(nops);
  state.counters["enters_per_batch"] = 1;
  state.SetItemsProcessed(state.iterations() * kTasks);
}
BENCHMARK(BM_raw_liburing_nop);

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
  });
  benchmark::RunSpecifiedBenchmarks(&rep);
  rep.print_ratios();
  benchmark::Shutdown();
  return 0;
}
