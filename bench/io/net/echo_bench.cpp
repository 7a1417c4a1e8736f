// echo_bench.cpp: echo throughput and latency of the prio echo server
// against a minimal epoll server and a minimal raw-liburing server, driven
// by the same prio load generator, at 1, 64 and 512 connections with 64 B
// and 4 KiB messages (one message in flight per connection).
//
// The server runs on its own thread and the load generator on the
// benchmark thread: on a 2-core machine each gets a core. Counters: req/s,
// p50/p99/p999 latency in microseconds; srv_us/req, the server thread's CPU
// time per echoed message (its own clock, pthread_getcpuclockid), and
// capacity = 1 / srv_us/req, the req/s that thread could serve if the
// generator kept up: when the generator is the bottleneck (one core each)
// req/s cannot tell the servers apart, capacity still can. The prio rows
// add vs_epoll / vs_uring (req/s) and cap_vs_epoll / cap_vs_uring
// (capacity) over the baselines' from the same run.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <time.h>

#include <future>
#include <map>
#include <string>
#include <thread>
#include <utility>

#include "bench/io/net/baseline_servers.hpp"
#include "examples/echo_load/load_gen.hpp"
#include "examples/echo_server/echo_service.hpp"

namespace {

using prio::examples::load_options;
using prio::examples::load_report;

constexpr std::chrono::milliseconds run_time{1500};

// Throughput and capacity of the baselines per (connections, size), for
// the prio rows.
struct figures {
  double rps = 0, capacity = 0;
};
std::map<std::pair<int, int>, figures> g_epoll, g_uring;

// thread_cpu_seconds() reads the CPU clock of thread `th`.
double thread_cpu_seconds(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// measure() starts `server` on a thread, loads it, stops it and reports.
template <class Server>
void measure(benchmark::State& state, Server& server, std::map<std::pair<int, int>, figures>* record) {
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
  clockid_t server_clock{};
  const bool have_clock = ::pthread_getcpuclockid(th.native_handle(), &server_clock) == 0;
  load_report rep{};
  std::error_code err;
  double server_cpu = 0;
  for (auto _ : state) {
    const double cpu0 = have_clock ? thread_cpu_seconds(server_clock) : 0;
    auto r = prio::examples::run_load(o);
    server_cpu = have_clock ? thread_cpu_seconds(server_clock) - cpu0 : 0;
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
  figures f{rep.requests_per_second, 0};
  if (server_cpu > 0 && rep.requests > 0) {
    f.capacity = static_cast<double>(rep.requests) / server_cpu;
    state.counters["srv_us/req"] = server_cpu * 1e6 / static_cast<double>(rep.requests);
    state.counters["capacity"] = f.capacity;
  }
  const auto key = std::make_pair(conns, size);
  if (record) {
    (*record)[key] = f;
  } else {
    for (auto [name, base] : {std::pair{"epoll", &g_epoll}, std::pair{"uring", &g_uring}}) {
      auto it = base->find(key);
      if (it == base->end()) continue;
      state.counters[std::string("vs_") + name] = f.rps / it->second.rps;
      if (f.capacity > 0 && it->second.capacity > 0)
        state.counters[std::string("cap_vs_") + name] = f.capacity / it->second.capacity;
    }
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
