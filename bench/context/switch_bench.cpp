// switch_bench.cpp: one suspend + resume round trip per switcher, with the
// baselines a user would otherwise reach for in the same binary: Boost.Context
// (jump_fcontext, there and back) for the stackful switchers and a bare C++20
// coroutine resume for the coroutine switcher. main() prints the ratios.
#include <benchmark/benchmark.h>

#include "bench/common/ratio_reporter.hpp"

#include <coroutine>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

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

void BM_prio_switch(benchmark::State& state, switcher_kind kind) {
  auto made = prio::make_context(kind);
  if (!made) {
    state.SkipWithError("make_context failed");
    return;
  }
  context* c = made->get();
  if (kind == switcher_kind::none) {
    // none cannot suspend: a round trip is start() + resume() of an empty body.
    for (auto _ : state) {
      c->start(&empty_body, nullptr);
      c->resume();
    }
    return;
  }
  c->start(kind == switcher_kind::coroutine ? &coro_forever_entry : &stackful_forever, c);
  c->resume();  // launch; from here every resume() is one round trip
  for (auto _ : state) c->resume();
}

// --- baselines ----------------------------------------------------------------

#if PRIO_BENCH_HAVE_BOOST_CONTEXT
namespace bctx = boost::context::detail;

void boost_forever(bctx::transfer_t t) {
  for (;;) t = bctx::jump_fcontext(t.fctx, nullptr);
}

void BM_boost_fcontext(benchmark::State& state) {
  constexpr std::size_t size = 256 * 1024;
  std::unique_ptr<char[]> stack(new char[size]);
  bctx::fcontext_t f = bctx::make_fcontext(stack.get() + size, size, &boost_forever);
  bctx::transfer_t t = bctx::jump_fcontext(f, nullptr);
  for (auto _ : state) t = bctx::jump_fcontext(t.fctx, nullptr);
}
BENCHMARK(BM_boost_fcontext);

// boost_context: jump_fcontext behind the same interface prio's switchers
// have (virtual resume(), inline suspend() over a virtual switch_out()), to
// separate the cost of the switch from the cost of the interface.
class boost_context final : public context {
 public:
  boost_context() : context(switcher_kind::asm_switch), stack_(new char[size]) {}
  void start(entry_fn, void*) noexcept override {
    state_ = prio::context_state::running;
    fctx_ = bctx::make_fcontext(stack_.get() + size, size, &boost_context::loop);
    fctx_ = bctx::jump_fcontext(fctx_, this).fctx;
  }
  void resume() noexcept override {
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

struct bare_task {
  struct promise_type {
    bare_task get_return_object() { return {std::coroutine_handle<promise_type>::from_promise(*this)}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept {}
  };
  std::coroutine_handle<promise_type> h;
};

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

// The executor resumes a coroutine task through resume_inline(), not the
// virtual resume(): the same round trip without the virtual call.
void BM_prio_switch_coroutine_direct(benchmark::State& state) {
  auto made = prio::make_context(switcher_kind::coroutine);
  if (!made) {
    state.SkipWithError("make_context failed");
    return;
  }
  auto& c = static_cast<prio::coro_context&>(**made);
  c.start(&coro_forever_entry, &c);
  c.resume_inline();  // launch
  for (auto _ : state) c.resume_inline();
}
BENCHMARK(BM_prio_switch_coroutine_direct);

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
  benchmark::Shutdown();
  return 0;
}
