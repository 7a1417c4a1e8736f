// cpu_split.hpp: the calling thread's user and system CPU time, to split a
// benchmark's cost into what runs in user space (the runtime) and what runs
// in the kernel (io_uring itself), per item.
//
//   prio::bench::cpu_split split;          // starts counting
//   ... for (auto _ : state) ...
//   split.report(state, items);            // counters user_ns/op, sys_ns/op
#pragma once

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdint>

namespace prio::bench {

class cpu_split {
 public:
  cpu_split() noexcept { read(user0_, sys0_); }

  // report() adds user_ns/op and sys_ns/op over `items` since construction.
  void report(benchmark::State& state, std::uint64_t items) const noexcept {
    double user, sys;
    read(user, sys);
    const double n = items ? static_cast<double>(items) : 1.0;
    state.counters["user_ns/op"] = (user - user0_) / n;
    state.counters["sys_ns/op"] = (sys - sys0_) / n;
  }

 private:
  static void read(double& user_ns, double& sys_ns) noexcept {
    rusage ru{};
    ::getrusage(RUSAGE_THREAD, &ru);
    user_ns = static_cast<double>(ru.ru_utime.tv_sec) * 1e9 + static_cast<double>(ru.ru_utime.tv_usec) * 1e3;
    sys_ns = static_cast<double>(ru.ru_stime.tv_sec) * 1e9 + static_cast<double>(ru.ru_stime.tv_usec) * 1e3;
  }
  double user0_ = 0, sys0_ = 0;
};

}  // namespace prio::bench
