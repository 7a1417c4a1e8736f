// switch_bench.cpp: one suspend + resume round trip per switcher, with the
// baselines a user would otherwise reach for in the same binary: Boost.Context
// (jump_fcontext, there and back) for the stackful switchers and a bare C++20
// coroutine resume for the coroutine switcher. main() prints the ratios.
#include <benchmark/benchmark.h>

#include "bench/common/bare_coroutine.hpp"
#include "bench/common/paired.hpp"
#include "bench/common/ratio_reporter.hpp"

#include <coroutine>
#include <memory>

#include "prio/context/context.hpp"
#include "prio/context/coro.hpp"

#if PRIO_BENCH_HAVE_BOOST_CONTEXT
#include <boost/context/detail/fcontext.hpp>
#endif

namespace {

using prio::context;
using prio::switcher_kind;

// --- prio switchers -----------------------------------------------------------

void stackful_forever(void* a) {
  auto* c = static_cast<context*>(a);
  for (;;) (void)c->suspend();
}

prio::co<void> coro_forever() {
  for (;;) co_await prio::suspend_context();
}
void coro_forever_entry(void*) { prio::coro_context::current()->set_root(coro_forever()); }

void empty_body(void*) {}

// launched() is a context of `kind` whose body suspends forever, launched:
// from here every resume() is one round trip (none: not launched, it
// cannot suspend). nullptr, with the benchmark skipped, if none was made.
std::unique_ptr<context> launched(benchmark::State& state, switcher_kind kind) {
  auto made = prio::make_context(kind);
  if (!made) {
    state.SkipWithError("make_context failed");
    return nullptr;
  }
  std::unique_ptr<context> c = std::move(*made);
  if (kind == switcher_kind::none) return c;
  c->start(kind == switcher_kind::coroutine ? &coro_forever_entry : &stackful_forever, c.get());
  c->resume();
  return c;
}

void BM_prio_switch(benchmark::State& state, switcher_kind kind) {
  auto c = launched(state, kind);
  if (!c) return;
  if (kind == switcher_kind::none) {
    // none cannot suspend: a round trip is start() + resume() of an empty body.
    for (auto _ : state) {
      c->start(&empty_body, nullptr);
      c->resume();
    }
    return;
  }
  for (auto _ : state) c->resume();
}

// --- baselines ----------------------------------------------------------------

#if PRIO_BENCH_HAVE_BOOST_CONTEXT
namespace bctx = boost::context::detail;

void boost_forever(bctx::transfer_t t) {
  for (;;) t = bctx::jump_fcontext(t.fctx, nullptr);
}

// boost_loop: a Boost.Context fcontext that jumps straight back, launched;
// round_trip() is one jump there and back.
struct boost_loop {
  static constexpr std::size_t size = 256 * 1024;
  std::unique_ptr<char[]> stack{new char[size]};
  bctx::transfer_t t = bctx::jump_fcontext(bctx::make_fcontext(stack.get() + size, size, &boost_forever), nullptr);
  void round_trip() { t = bctx::jump_fcontext(t.fctx, nullptr); }
};

void BM_boost_fcontext(benchmark::State& state) {
  boost_loop b;
  for (auto _ : state) b.round_trip();
}
BENCHMARK(BM_boost_fcontext);

// boost_context: jump_fcontext behind the interface prio's switchers other
// than asm have (inline resume() over a virtual resume_switch(), inline
// suspend() over a virtual switch_out()), to
// separate the cost of the switch from the cost of the interface. (Unlike
// prio's swap it cannot be tail-called: the wrapper stores jump_fcontext's
// result, so each side returns after its switch, a mispredicted return;
// bench/README.md.)
class boost_context final : public context {
 public:
  boost_context() : context(switcher_kind::asm_switch), stack_(new char[size]) {}
  void start(entry_fn, void*) noexcept override {
    state_ = prio::context_state::running;
    fctx_ = bctx::make_fcontext(stack_.get() + size, size, &boost_context::loop);
    fctx_ = bctx::jump_fcontext(fctx_, this).fctx;
  }
  void resume_switch() noexcept override {
    state_ = prio::context_state::running;
    fctx_ = bctx::jump_fcontext(fctx_, nullptr).fctx;
  }

 private:
  void switch_out() noexcept override { resumer_ = bctx::jump_fcontext(resumer_, nullptr).fctx; }
  static constexpr std::size_t size = 256 * 1024;
  static void loop(bctx::transfer_t t) {
    auto* self = static_cast<boost_context*>(t.data);
    self->resumer_ = t.fctx;
    for (;;) (void)self->suspend();
  }
  std::unique_ptr<char[]> stack_;
  bctx::fcontext_t fctx_ = nullptr;
  bctx::fcontext_t resumer_ = nullptr;
};

void BM_boost_fcontext_same_interface(benchmark::State& state) {
  std::unique_ptr<context> c = std::make_unique<boost_context>();
  c->start(nullptr, nullptr);
  for (auto _ : state) c->resume();
}
BENCHMARK(BM_boost_fcontext_same_interface);
#endif

using prio::bench::bare_task;

bare_task bare_forever() {
  for (;;) co_await std::suspend_always{};
}

void BM_bare_coroutine_resume(benchmark::State& state) {
  bare_task t = bare_forever();
  for (auto _ : state) t.h.resume();
  t.h.destroy();
}
BENCHMARK(BM_bare_coroutine_resume);

BENCHMARK_CAPTURE(BM_prio_switch, asm, switcher_kind::asm_switch);
BENCHMARK_CAPTURE(BM_prio_switch, sjlj, switcher_kind::sjlj);
BENCHMARK_CAPTURE(BM_prio_switch, ucontext, switcher_kind::ucontext);
BENCHMARK_CAPTURE(BM_prio_switch, coroutine, switcher_kind::coroutine);
BENCHMARK_CAPTURE(BM_prio_switch, none, switcher_kind::none);

// The executor resumes a coroutine task through resume_inline(), not
// resume() (its direct-bit test, then the virtual resume_switch()): the same
// round trip without the test and the virtual call.
void BM_prio_switch_coroutine_direct(benchmark::State& state) {
  auto made = launched(state, switcher_kind::coroutine);
  if (!made) return;
  auto& c = static_cast<prio::coro_context&>(*made);
  for (auto _ : state) c.resume_inline();
}
BENCHMARK(BM_prio_switch_coroutine_direct);

// --- paired chunks ---------------------------------------------------------------
// The same ratios, measured so they hold on a noisy host (paired.hpp): one
// iteration is one pair of chunks, prio's round trips and the baseline's,
// back to back; main() prints the median pair ratio with its quartiles.
prio::bench::paired_rows g_paired;
constexpr int pairs_per_run = 30;

// paired_loop() records the pair ratios of `subject` against `baseline`
// (each runs n round trips per call) as row `name` of g_paired.
template <class S, class B>
void paired_loop(benchmark::State& state, const char* name, double target, S&& subject, B&& baseline) {
  prio::bench::paired_loop(state, g_paired, name, target, subject, baseline);
}

void BM_paired_bare_coroutine(benchmark::State& state, bool direct) {
  auto made = launched(state, switcher_kind::coroutine);
  if (!made) return;
  auto& c = static_cast<prio::coro_context&>(*made);
  bare_task t = bare_forever();
  constexpr int n = 400000;  // ~2 ms of round trips
  auto bare = [&] {
    for (int i = 0; i < n; ++i) t.h.resume();
  };
  if (direct)
    paired_loop(state, "coroutine (resume_inline) / bare", 2.0, [&] {
      for (int i = 0; i < n; ++i) c.resume_inline();
    }, bare);
  else
    paired_loop(state, "coroutine / bare coroutine", 2.0, [&] {
      for (int i = 0; i < n; ++i) c.resume();
    }, bare);
  t.h.destroy();
}
BENCHMARK_CAPTURE(BM_paired_bare_coroutine, virtual, false)->Iterations(pairs_per_run);
BENCHMARK_CAPTURE(BM_paired_bare_coroutine, direct, true)->Iterations(pairs_per_run);

#if PRIO_BENCH_HAVE_BOOST_CONTEXT
// paired_boost() pairs n resume() round trips of c (from `kind` or the
// Boost wrapper) with n raw jump_fcontext round trips.
void paired_boost(benchmark::State& state, context& c, const char* name, double target) {
  boost_loop b;
  constexpr int n = 100000;  // ~2 ms of round trips
  paired_loop(state, name, target, [&] {
    for (int i = 0; i < n; ++i) c.resume();
  }, [&] {
    for (int i = 0; i < n; ++i) b.round_trip();
  });
}

void BM_paired_boost(benchmark::State& state, switcher_kind kind, const char* name, double target) {
  if (auto c = launched(state, kind)) paired_boost(state, *c, name, target);
}
BENCHMARK_CAPTURE(BM_paired_boost, asm, switcher_kind::asm_switch, "asm / Boost.Context", 1.0)
    ->Iterations(pairs_per_run);

// The interface's share: Boost.Context behind prio's resume() and suspend()
// over their virtual halves (boost_context above) against the same
// jump_fcontext loop.
void BM_paired_boost_interface(benchmark::State& state) {
  boost_context c;
  c.start(nullptr, nullptr);
  paired_boost(state, c, "Boost via prio interface / Boost", 0);
}
BENCHMARK(BM_paired_boost_interface)->Iterations(pairs_per_run);
BENCHMARK_CAPTURE(BM_paired_boost, sjlj, switcher_kind::sjlj, "sjlj / Boost.Context", 3.0)
    ->Iterations(pairs_per_run);
#endif

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  prio::bench::ratio_reporter reporter({
      {"BM_prio_switch/asm", "BM_boost_fcontext", 1.0},
      {"BM_prio_switch/asm", "BM_boost_fcontext_same_interface", 1.0},
      {"BM_prio_switch/sjlj", "BM_boost_fcontext", 3.0},
      {"BM_prio_switch/sjlj", "BM_boost_fcontext_same_interface", 3.0},
      {"BM_prio_switch/ucontext", "BM_boost_fcontext", 0},
      {"BM_prio_switch/coroutine", "BM_bare_coroutine_resume", 2.0},
      {"BM_prio_switch_coroutine_direct", "BM_bare_coroutine_resume", 2.0},
      {"BM_prio_switch/none", "BM_bare_coroutine_resume", 0},
  });
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  g_paired.print("time per round trip, prio / baseline");
  benchmark::Shutdown();
  return 0;
}
