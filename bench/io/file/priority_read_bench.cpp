// priority_read_bench.cpp: latency of high-priority 4 KiB reads (one at a
// time) while low-priority tasks saturate the ring and the device with
// O_DIRECT random reads, with and without I/O priorities.
//
// "with": the reader is priority::high (slots first; kernel ioprio RT or
// BE 0), the loaders priority::low (IDLE), low-priority in-flight I/O capped
// at 16 (executor_options::low_priority_io_cap). "without": all normal, no
// cap. Counters: p50_us / p99_us of the reader, loader_iops.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>

#include "bench_file.hpp"
#include "prio/io/file_rw.hpp"

namespace {

using prio::bench::bench_file_bytes;
using prio::bench::random_offsets;

std::string g_path;
constexpr int loaders = 2;
constexpr unsigned loader_qd = 64;
constexpr int samples = 4000;

struct shared_state {
  bool direct = true;
  bool stop = false;
  std::uint64_t loader_reads = 0;
  std::vector<std::uint64_t> offs;
};

prio::result<prio::file> open_data(prio::task& t, bool direct) {
  return prio::open_file(t, AT_FDCWD, g_path.c_str(), prio::open_how_of(O_RDONLY | (direct ? O_DIRECT : 0)));
}

void run_scenario(benchmark::State& state, bool priorities) {
  for (auto _ : state) {
    auto ex = prio::executor::create({.ring_entries = 32, .low_priority_io_cap = priorities ? 16u : 0u}).value();
    shared_state sh;
    sh.offs = random_offsets(1 << 16, bench_file_bytes());
    std::vector<std::uint64_t> lat_ns;
    lat_ns.reserve(samples);
    const prio::priority lo = priorities ? prio::priority::low : prio::priority::normal;
    const prio::priority hi = priorities ? prio::priority::high : prio::priority::normal;
    std::vector<std::unique_ptr<prio::task>> ts;
    for (int k = 0; k < loaders; ++k) {
      ts.push_back(prio::task::create({.switcher = prio::switcher_kind::asm_switch, .io = lo}).value());
      ts.back()->set_body([&sh, k](prio::task& t) -> prio::result<std::int64_t> {
        auto f = open_data(t, sh.direct);
        if (!f) return prio::failure(f.error());
        void* mem = nullptr;
        if (::posix_memalign(&mem, 4096, loader_qd * 4096) != 0) return -1;
        auto* buf = static_cast<char*>(mem);
        std::vector<prio::io_status> st(loader_qd);
        std::size_t next = static_cast<std::size_t>(k) * 7919;
        for (unsigned i = 0; i < loader_qd; ++i)
          PRIO_TRY(prio::initiate_read(t, st[i], *f, buf + i * 4096, 4096, sh.offs[next++ & 0xffff]));
        while (auto d = t.suspend_until_completed_io()) {
          if (!*d) break;
          ++sh.loader_reads;
          if (sh.stop) continue;  // drain
          const std::size_t i = static_cast<std::size_t>(*d - st.data());
          PRIO_TRY(prio::initiate_read(t, st[i], *f, buf + i * 4096, 4096, sh.offs[next++ & 0xffff]));
        }
        std::free(mem);
        return prio::close_file(t, *f) ? 0 : -1;
      });
    }
    ts.push_back(prio::task::create({.switcher = prio::switcher_kind::asm_switch, .io = hi}).value());
    struct reader_ctx {
      shared_state& sh;
      std::vector<std::uint64_t>& lat_ns;
    } rc{sh, lat_ns};
    ts.back()->set_body([c = &rc](prio::task& t) -> prio::result<std::int64_t> {
      auto& [sh, lat_ns] = *c;
      auto f = open_data(t, sh.direct);
      if (!f) return prio::failure(f.error());
      void* mem = nullptr;
      if (::posix_memalign(&mem, 4096, 4096) != 0) return -1;
      for (int i = 0; i < samples; ++i) {
        const auto t0 = prio::tsc::now();
        auto r = prio::read(t, *f, mem, 4096, sh.offs[(i * 104729) & 0xffff]);
        if (!r) break;
        lat_ns.push_back(prio::tsc::to_ns(prio::tsc::now() - t0));
      }
      sh.stop = true;
      std::free(mem);
      return prio::close_file(t, *f) ? 0 : -1;
    });
    const auto start = prio::tsc::now();
    for (auto& t : ts) (void)ex->attach(*t);
    auto all_done = [&] {
      for (auto& t : ts)
        if (t->state() != prio::task_state::completed) return false;
      return true;
    };
    while (!all_done()) (void)ex->run();
    const double secs = static_cast<double>(prio::tsc::to_ns(prio::tsc::now() - start)) / 1e9;
    for (auto& t : ts)
      if (!t->outcome()) state.SkipWithError(t->outcome().error().message().c_str());
    if (lat_ns.size() < samples) {
      state.SkipWithError("high-priority reads failed");
      break;
    }
    std::sort(lat_ns.begin(), lat_ns.end());
    state.counters["p50_us"] = static_cast<double>(lat_ns[lat_ns.size() / 2]) / 1e3;
    state.counters["p99_us"] = static_cast<double>(lat_ns[lat_ns.size() * 99 / 100]) / 1e3;
    state.counters["loader_iops"] = static_cast<double>(sh.loader_reads) / secs;
  }
}

void BM_high_read_latency_with_priorities(benchmark::State& s) { run_scenario(s, true); }
void BM_high_read_latency_without_priorities(benchmark::State& s) { run_scenario(s, false); }
BENCHMARK(BM_high_read_latency_with_priorities)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_high_read_latency_without_priorities)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  g_path = prio::bench::bench_file_path();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
