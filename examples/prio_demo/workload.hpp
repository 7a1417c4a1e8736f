// workload.hpp: prio-demo's three classes of work and what they measure.
//
//   echo   (high):   a TCP echo service on loopback; clients (also high, in
//                    the pool) send 64 B at a fixed rate and time the echo.
//   writer (normal): appends 4 KiB records, each made durable (fdatasync).
//   scan   (low):    reads a large file in 128 KiB chunks and checksums them.
//
// With priorities on, the pool resumes echo handlers before writers and
// writers before scanners; with them off everything is `normal` and FIFO.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "prio/executors/pool.hpp"
#include "prio/runtime/clock.hpp"

namespace demo {

// samples: latencies of one task (its own vector: no sharing while running).
struct samples {
  std::vector<prio::tsc::ticks> v;
  samples() { v.reserve(1 << 18); }
  void add(prio::tsc::ticks d) {
    if (v.size() < v.capacity()) v.push_back(d);
  }
};

struct class_result {
  std::uint64_t ops = 0;    // echo round trips, records, chunks
  std::uint64_t bytes = 0;
  std::vector<prio::tsc::ticks> lat;  // all samples, merged
  std::uint64_t errors = 0;
};

struct run_result {
  double seconds = 0;
  class_result echo, writer, scan;
  std::vector<prio::executor_stats> executors;
  prio::tsc::ticks wall = 0;
};

struct workload_config {
  bool priorities = true;
  double seconds = 5;
  unsigned port = 0;
  unsigned connections = 8;
  unsigned echo_interval_us = 400;  // per connection: 8 x 2,500 requests/s
  unsigned writers = 2;
  unsigned scanners_per_thread = 3;
  std::string dir;        // where the files go
  std::string scan_file;  // the large file (made once, shared by both runs)
};

// run_workload() runs the three classes on p for cfg.seconds and returns
// what they did. p must be idle; it is shut down when this returns.
run_result run_workload(prio::pool& p, const workload_config& cfg);

// make_scan_file() writes size bytes of pseudo-random data to path.
bool make_scan_file(const std::string& path, std::size_t size);

}  // namespace demo
