// echo_bench.cpp: echo throughput and latency of the prio echo server
// against a minimal epoll server and a minimal raw-liburing server, driven
// by the same prio load generator, at 1, 64 and 512 connections with 64 B
// and 4 KiB messages (one message in flight per connection).
//
// The server runs on its own thread and the load generator on the
// benchmark thread: on a 2-core machine each gets a core. Counters: req/s,
// p50/p99/p999 latency in microseconds; the prio rows add vs_epoll and
// vs_uring, its throughput over the baselines' from the same run.
#include <benchmark/benchmark.h>

#include <future>
#include <map>
#include <thread>
#include <utility>

#include "bench/io/net/baseline_servers.hpp"
#include "examples/echo_load/load_gen.hpp"
#include "examples/echo_server/echo_service.hpp"

namespace {

using prio::examples::load_options;
using prio::examples::load_report;

constexpr std::chrono::milliseconds run_time{1500};

// Throughput of the baselines per (connections, size), for the prio rows.
std::map<std::pair<int, int>, double> g_epoll, g_uring;

// measure() starts `server` on a thread, loads it, stops it and reports.
template <class Server>
void measure(benchmark::State& state, Server& server, std::map<std::pair<int, int>, double>* record) {
  const int conns = static_cast<int>(state.range(0));
  const int size = static_cast<int>(state.range(1));
  std::promise<std::uint16_t> ready;
  auto port = ready.get_future();
  std::thread th([&] { (void)server.run([&](std::uint16_t p) { ready.set_value(p); }); });
  load_options o;
  o.port = port.get();
  o.connections = static_cast<unsigned>(conns);
  o.message_size = static_cast<unsigned>(size);
  o.depth = 1;
  o.duration = run_time;
  load_report rep{};
  std::error_code err;
  for (auto _ : state) {
    auto r = prio::examples::run_load(o);
    if (r) rep = *r;
    else err = r.error();
    state.SetIterationTime(r ? rep.seconds : 1.0);
  }
  server.stop();
  th.join();
  if (err) {
    state.SkipWithError(err.message().c_str());
    return;
  }
  if (rep.failed_connections) state.SkipWithError("connections failed");
  state.counters["req/s"] = rep.requests_per_second;
  state.counters["p50_us"] = rep.p50_us;
  state.counters["p99_us"] = rep.p99_us;
  state.counters["p999_us"] = rep.p999_us;
  const auto key = std::make_pair(conns, size);
  if (record) {
    (*record)[key] = rep.requests_per_second;
  } else {
    if (g_epoll.count(key)) state.counters["vs_epoll"] = rep.requests_per_second / g_epoll[key];
    if (g_uring.count(key)) state.counters["vs_uring"] = rep.requests_per_second / g_uring[key];
  }
}

void BM_Echo_Epoll(benchmark::State& state) {
  prio::bench::epoll_echo s;
  measure(state, s, &g_epoll);
}

void BM_Echo_RawLiburing(benchmark::State& state) {
  prio::bench::uring_echo s;
  measure(state, s, &g_uring);
}

void BM_Echo_Prio(benchmark::State& state) {
  prio::examples::echo_service s({.max_connections = 1024});
  measure(state, s, nullptr);
}

void args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"conns", "bytes"})->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
}

}  // namespace

// Registered per configuration, baselines first, so each prio row can show
// its ratio to the two baselines measured just before it.
int main(int argc, char** argv) {
  for (int conns : {1, 64, 512})
    for (int size : {64, 4096}) {
      args(benchmark::RegisterBenchmark("Echo/epoll", BM_Echo_Epoll)->Args({conns, size}));
      args(benchmark::RegisterBenchmark("Echo/raw_liburing", BM_Echo_RawLiburing)->Args({conns, size}));
      args(benchmark::RegisterBenchmark("Echo/prio", BM_Echo_Prio)->Args({conns, size}));
    }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
