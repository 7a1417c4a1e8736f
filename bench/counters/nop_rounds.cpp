// nop_rounds: fixed work for counting tools, no timing. 64 tasks each make
// `rounds` NOP round trips (nop() for stackful asm tasks, co_await
// async_nop() for coroutine tasks). Run it twice with different rounds under
// `valgrind --tool=callgrind` (or `perf stat`) and divide the difference by
// 64 x the rounds' difference: user-space instructions (or misses) per round
// trip, without the setup. See bench/README.md.
//
//   nop_rounds <rounds> <asm|coroutine> [untracked]
//
// untracked: executor_options::track_task_time = false.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "prio/io/nop.hpp"

int main(int argc, char** argv) {
  using namespace prio;
  if (argc != 3 && !(argc == 4 && std::strcmp(argv[3], "untracked") == 0)) {
    std::fprintf(stderr, "usage: %s <rounds> <asm|coroutine> [untracked]\n", argv[0]);
    return 2;
  }
  const long rounds = std::atol(argv[1]);
  const bool coro = std::strcmp(argv[2], "coroutine") == 0;
  // Under valgrind the work runs ~50x slower than the TSC, so the default
  // stats_publish_interval (100 us) would publish at every run() return,
  // once per batch of 64 (~2 instructions per NOP in the count: 268.6-268.9
  // against 266.6-266.8), where a native run (~8 us per batch) publishes
  // once per ~12 batches. The counts leave publishing out.
  auto ex = executor::create(
      {.ring_entries = 128, .track_task_time = argc != 4, .stats_publish_interval = std::chrono::hours(1)});
  if (!ex) return 1;
  std::vector<std::unique_ptr<task>> ts;
  for (int i = 0; i < 64; ++i) {
    task_options o;
    o.switcher = coro ? switcher_kind::coroutine : switcher_kind::asm_switch;
    o.stack_size = 32 * 1024;
    auto t = task::create(o);
    if (!t) return 1;
    ts.push_back(std::move(*t));
    if (coro)
      ts.back()->set_body([rounds](task& self) -> co<result<std::int64_t>> {
        for (long r = 0; r < rounds; ++r)
          if (auto n = co_await async_nop(self); !n) co_return failure(n.error());
        co_return std::int64_t{0};
      });
    else
      ts.back()->set_body([rounds](task& self) -> result<std::int64_t> {
        for (long r = 0; r < rounds; ++r) PRIO_TRY(nop(self));
        return std::int64_t{0};
      });
    if (!(*ex)->attach(*ts.back())) return 1;
  }
  while ((*ex)->stats().completed < 64)
    if (!(*ex)->run(SIZE_MAX, std::chrono::seconds(10))) return 1;
  for (auto& t : ts)
    if (!t->outcome()) {
      std::fprintf(stderr, "nop_rounds: %s\n", t->outcome().error().message().c_str());
      return 1;
    }
  // How the round trips went: resumes per NOP (1: each NOP's wait
  // switched) and system calls per batch of 64.
  const executor_stats s = (*ex)->stats();
  const double nops = 64.0 * static_cast<double>(rounds);
  std::fprintf(stderr, "nop_rounds: %.0f NOPs, %.3f resumes per NOP, %.2f enters per 64\n", nops,
               static_cast<double>(s.resumed) / nops, 64.0 * static_cast<double>(s.enters) / nops);
  return 0;
}
