// task_cycle_bench: one task launch -> run -> complete cycle per switcher
// (attach, run() launches it, the body returns, the task completes), next to
// Boost.Context starting a function on a reused stack and running it to its
// end (make_fcontext + two jump_fcontext), the nearest thing a user would
// hand-roll. The seed library reported 39.6 ns/op on its own machine.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>

#include "bench/common/ratio_reporter.hpp"
#include "prio/executors/executor.hpp"

#if PRIO_BENCH_HAVE_BOOST_CONTEXT
#include <boost/context/detail/fcontext.hpp>
#endif

namespace {

using namespace prio;

std::unique_ptr<executor> make_ex() {
  auto r = executor::create({.ring_entries = 64});
  if (!r) std::abort();
  return std::move(*r);
}

std::unique_ptr<task> make_task(switcher_kind k) {
  task_options o;
  o.switcher = k;
  o.stack_size = 64 * 1024;
  auto r = task::create(o);
  if (!r) std::abort();
  return std::move(*r);
}

void BM_task_cycle(benchmark::State& state, switcher_kind k) {
  auto ex = make_ex();
  auto t = make_task(k);
  if (k == switcher_kind::coroutine)
    t->set_body(+[](task&) -> co<result<std::int64_t>> { co_return std::int64_t{0}; });
  else
    t->set_body(+[](task&) -> result<std::int64_t> { return std::int64_t{0}; });
  (void)ex->run(1, std::chrono::nanoseconds(0));  // bind: attach takes the local path
  for (auto _ : state) {
    (void)ex->attach(*t);
    auto r = ex->run(1, std::chrono::nanoseconds(0));
    benchmark::DoNotOptimize(r);
  }
  if (t->state() != task_state::completed) state.SkipWithError("task did not complete");
}
BENCHMARK_CAPTURE(BM_task_cycle, none, switcher_kind::none);
BENCHMARK_CAPTURE(BM_task_cycle, sjlj, switcher_kind::sjlj);
BENCHMARK_CAPTURE(BM_task_cycle, ucontext, switcher_kind::ucontext);
BENCHMARK_CAPTURE(BM_task_cycle, asm, switcher_kind::asm_switch);
BENCHMARK_CAPTURE(BM_task_cycle, coroutine, switcher_kind::coroutine);

#if PRIO_BENCH_HAVE_BOOST_CONTEXT
namespace bctx = boost::context::detail;

void fiber_body(bctx::transfer_t t) {
  ++*static_cast<long*>(t.data);
  bctx::jump_fcontext(t.fctx, nullptr);  // back to the launcher; never resumed
}

void BM_boost_context_launch(benchmark::State& state) {
  constexpr std::size_t size = 64 * 1024;
  void* stack = std::aligned_alloc(64, size);
  long runs = 0;
  for (auto _ : state) {
    bctx::fcontext_t f = bctx::make_fcontext(static_cast<char*>(stack) + size, size, &fiber_body);
    bctx::transfer_t back = bctx::jump_fcontext(f, &runs);
    benchmark::DoNotOptimize(back);
  }
  std::free(stack);
  if (runs != static_cast<long>(state.iterations())) state.SkipWithError("fiber did not run");
}
BENCHMARK(BM_boost_context_launch);
#endif

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  prio::bench::ratio_reporter rep({
      {"BM_task_cycle/none", "BM_boost_context_launch", 0},
      {"BM_task_cycle/sjlj", "BM_boost_context_launch", 0},
      {"BM_task_cycle/ucontext", "BM_boost_context_launch", 0},
      {"BM_task_cycle/asm", "BM_boost_context_launch", 0},
      {"BM_task_cycle/coroutine", "BM_boost_context_launch", 0},
  });
  benchmark::RunSpecifiedBenchmarks(&rep);
  rep.print_ratios();
  benchmark::Shutdown();
  return 0;
}
