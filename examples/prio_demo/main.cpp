// prio-demo: a mixed-priority workload on the pool, run twice (priorities
// on, then everything at `normal`), and a table of what priorities bought.
//
//   prio-demo [config-file]        default: config/config (+ PRIO_<OPTION>)
//
// The run length is demo_seconds (split over the two runs), the echo port
// demo_port (0: any free port). Files go to a fresh directory under $TMPDIR
// (or /tmp) and are removed at the end.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "workload.hpp"

namespace {

double pct_us(std::vector<prio::tsc::ticks>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())));
  return static_cast<double>(prio::tsc::to_ns(v[i])) / 1000.0;
}

void row(const char* cls, const char* level, const char* unit, double div, demo::run_result& on,
         demo::class_result& a, demo::run_result& off, demo::class_result& b) {
  std::printf("%-7s %-7s %10.0f %-6s %9.1f %9.1f  | %10.0f %9.1f %9.1f\n", cls, level,
              static_cast<double>(a.ops) / on.seconds / div, unit, pct_us(a.lat, 0.5), pct_us(a.lat, 0.99),
              static_cast<double>(b.ops) / off.seconds / div, pct_us(b.lat, 0.5), pct_us(b.lat, 0.99));
}

void utilisation(const char* name, const demo::run_result& r) {
  std::printf("  %-16s", name);
  for (std::size_t i = 0; i < r.executors.size(); ++i) {
    const auto& e = r.executors[i];
    const double wall = static_cast<double>(r.wall);
    std::printf("  ex%zu: %3.0f%% tasks %3.0f%% io_uring %3.0f%% asleep", i, 100.0 * e.in_tasks / wall,
                100.0 * e.in_io_uring / wall, 100.0 * e.sleeping / wall);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : "config/config";
  auto cfg = prio::config::from_file(path, prio::default_schema());
  if (!cfg) {
    std::fprintf(stderr, "prio-demo: %s\n", cfg.error().message.c_str());
    return 2;
  }
  const prio::pool_options po = prio::pool_options::from_config(*cfg);
  if (po.switcher == prio::switcher_kind::none || po.switcher == prio::switcher_kind::coroutine) {
    std::fprintf(stderr, "prio-demo: the demo's tasks suspend on I/O: switcher=%s cannot run them\n",
                 std::string(prio::to_string(po.switcher)).c_str());
    return 2;
  }
  if (po.exec.ring_entries == 0) {
    std::fprintf(stderr, "prio-demo: ring_entries=0 makes compute-only executors; the demo needs I/O\n");
    return 2;
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/prio-demo.XXXXXX";
  if (!::mkdtemp(dir.data())) {
    std::perror("prio-demo: mkdtemp");
    return 1;
  }
  demo::workload_config wc;
  wc.seconds = std::max(1.0, static_cast<double>(cfg->get_uint("demo_seconds")) / 2);
  wc.port = static_cast<unsigned>(cfg->get_uint("demo_port"));
  wc.dir = dir;
  wc.scan_file = dir + "/scan.dat";
  std::printf("prio-demo: config %s; writing a 128 MiB scan file in %s\n", path.c_str(), dir.c_str());
  int rc = 0;
  demo::run_result runs[2];
  if (!demo::make_scan_file(wc.scan_file, 128u << 20)) {
    std::perror("prio-demo: scan file");
    rc = 1;
  }
  for (int i = 0; rc == 0 && i < 2; ++i) {
    wc.priorities = i == 0;
    auto p = prio::pool::create(po);
    if (!p) {
      std::fprintf(stderr, "prio-demo: pool: %s\n", p.error().message().c_str());
      rc = 1;
      break;
    }
    std::printf("run %d: %s, %u threads, %.1f s ...\n", i + 1,
                wc.priorities ? "priorities on (echo high, writer normal, scan low)" : "all priorities equal (normal)",
                (*p)->threads(), wc.seconds);
    std::fflush(stdout);
    runs[i] = demo::run_workload(**p, wc);
    if (runs[i].echo.errors + runs[i].writer.errors + runs[i].scan.errors) rc = 1;
    // A class that did nothing is a failure too, not a row of zeros.
    for (auto [name, cls] : {std::pair{"echo", &runs[i].echo}, {"writer", &runs[i].writer}, {"scan", &runs[i].scan}})
      if (cls->ops == 0) {
        std::fprintf(stderr, "prio-demo: run %d: the %s class made no progress\n", i + 1, name);
        rc = 1;
      }
  }
  ::unlink(wc.scan_file.c_str());
  ::rmdir(dir.c_str());
  if (rc) return rc;
  auto& on = runs[0];
  auto& off = runs[1];
  std::printf("\n%-7s %-7s %17s %9s %9s  | %10s %9s %9s\n", "", "", "priorities on", "", "",
              "all equal", "", "");
  std::printf("%-7s %-7s %10s %-6s %9s %9s  | %10s %9s %9s\n", "class", "level", "throughput", "", "p50 us",
              "p99 us", "throughput", "p50 us", "p99 us");
  row("echo", "high", "rt/s", 1, on, on.echo, off, off.echo);
  row("writer", "normal", "rec/s", 1, on, on.writer, off, off.writer);
  std::printf("%-7s %-7s %10.0f %-6s %9.1f %9.1f  | %10.0f %9.1f %9.1f\n", "scan", "low",
              static_cast<double>(on.scan.bytes) / on.seconds / 1048576.0, "MiB/s", pct_us(on.scan.lat, 0.5),
              pct_us(on.scan.lat, 0.99), static_cast<double>(off.scan.bytes) / off.seconds / 1048576.0,
              pct_us(off.scan.lat, 0.5), pct_us(off.scan.lat, 0.99));
  std::printf("(echo: 64 B round trip, %u connections x %u req/s; writer: 4 KiB append + fdatasync; scan: 128 KiB read + checksum)\n",
              wc.connections, 1000000 / wc.echo_interval_us);
  std::printf("executor utilisation:%s\n",
              po.exec.track_task_time ? "" : " (track_task_time=false: time in tasks is not measured)");
  utilisation("priorities on", on);
  utilisation("all equal", off);
  const double p99_on = pct_us(on.echo.lat, 0.99), p99_off = pct_us(off.echo.lat, 0.99);
  if (p99_on > 0)
    std::printf("high-priority echo p99: %.1f us with priorities vs %.1f us without (%.1fx)\n", p99_on, p99_off,
                p99_off / p99_on);
  return 0;
}
