// write_order_bench.cpp: what the write-order guarantee costs. prio never
// lets a task's writes to one file overtake each other, so one task with
// `qd` writes initiated has one in the kernel at a time; `qd` tasks writing
// one at a time each are not ordered among themselves. Both against a raw
// liburing loop keeping `qd` writes in flight, in the same binary and run.
// 4 KiB writes at random aligned offsets of a 64 MiB preallocated file,
// buffered and O_DIRECT. One iteration = one completed write.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench_file.hpp"
#include "qd_loops.hpp"

namespace {

constexpr std::uint64_t file_bytes = 64ull << 20;
constexpr std::size_t n_offsets = 1 << 14;
std::string g_path;

// make_write_file() writes the whole file with data and syncs it, so the
// measured writes overwrite written blocks: no block allocation, no
// unwritten-extent conversion (which ext4 serialises for O_DIRECT).
std::string make_write_file() {
  const std::string path = prio::bench::bench_file_dir() + "/prio_write_bench_64M.dat";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  std::vector<char> chunk(1 << 20, 0x33);
  bool ok = fd >= 0;
  for (std::uint64_t done = 0; ok && done < file_bytes; done += chunk.size())
    ok = ::write(fd, chunk.data(), chunk.size()) == static_cast<ssize_t>(chunk.size());
  if (!ok || ::fsync(fd) != 0) {
    std::perror("write bench file");
    std::exit(1);
  }
  ::close(fd);
  return path;
}

// drop_cache() writes back and evicts the file's page cache before a run:
// an O_DIRECT write over cached pages must invalidate them, and io_uring
// then punts it to a worker that serialises writes to one inode. Every run
// starts from the same state, whatever ran before it.
void drop_cache() {
  const int fd = ::open(g_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

prio::result<prio::file> open_target(prio::task& t, bool direct) {
  return prio::open_file(t, AT_FDCWD, g_path.c_str(), prio::open_how_of(O_WRONLY | (direct ? O_DIRECT : 0)));
}

// One task, qd writes initiated: ordered, so one in the kernel at a time.
void BM_prio_one_task(benchmark::State& state) {
  drop_cache();
  prio::bench::prio_qd_loop(state, g_path, prio::bench::file_op::write, static_cast<unsigned>(state.range(0)),
                            state.range(1) != 0, prio::bench::random_offsets(n_offsets, file_bytes));
}

// qd tasks, one write at a time each: not ordered among themselves.
void BM_prio_many_tasks(benchmark::State& state) {
  drop_cache();
  const unsigned qd = static_cast<unsigned>(state.range(0));
  const bool direct = state.range(1) != 0;
  auto ex = prio::executor::create({.ring_entries = 256}).value();
  const auto offs = prio::bench::random_offsets(n_offsets, file_bytes);
  prio::bench::aligned_buffers bufs(qd);
  struct shared_t {
    bool direct;
    bool stop = false;
    std::uint64_t writes = 0;
    std::string error;
    const std::vector<std::uint64_t>* offs;
    prio::bench::aligned_buffers* bufs;
    prio::file f;  // one open file, written by every task
  } sh{direct, false, 0, {}, &offs, &bufs, {}};
  auto opener = prio::task::create({.switcher = prio::switcher_kind::asm_switch}).value();
  opener->set_body([s = &sh](prio::task& tk) -> prio::result<std::int64_t> {
    auto f = open_target(tk, s->direct);
    if (!f) return prio::failure(f.error());
    s->f = std::move(*f);
    return 0;
  });
  if (!ex->attach(*opener)) std::abort();
  while (opener->state() != prio::task_state::completed) (void)ex->run();
  if (!opener->outcome()) {
    state.SkipWithError(opener->outcome().error().message().c_str());
    return;
  }
  std::vector<std::unique_ptr<prio::task>> ts;
  for (unsigned k = 0; k < qd; ++k) {
    ts.push_back(prio::task::create({.switcher = prio::switcher_kind::asm_switch}).value());
    ts.back()->set_body([s = &sh, k](prio::task& tk) -> prio::result<std::int64_t> {
      std::size_t next = k * 997;
      while (!s->stop) {
        auto w = prio::write(tk, s->f, s->bufs->at(k), 4096, (*s->offs)[next++ % n_offsets]);
        if (!w || *w != 4096) {
          s->error = "write failed";
          break;
        }
        ++s->writes;
      }
      return 0;
    });
    if (!ex->attach(*ts.back())) std::abort();
  }
  // An iteration lasts until at least one more write completed; one run()
  // often completes several, so the items are the writes counted, not the
  // iterations.
  const std::uint64_t writes0 = sh.writes;
  for (auto _ : state) {
    const std::uint64_t target = sh.writes + 1;
    while (sh.writes < target && sh.error.empty()) (void)ex->run();
    if (!sh.error.empty()) {
      state.SkipWithError(sh.error.c_str());
      break;
    }
  }
  const std::uint64_t timed_writes = sh.writes - writes0;
  sh.stop = true;
  auto all_done = [&] {
    for (auto& t : ts)
      if (t->state() != prio::task_state::completed) return false;
    return true;
  };
  while (!all_done()) (void)ex->run();
  opener->set_body([s = &sh](prio::task& tk) -> prio::result<std::int64_t> {
    return prio::close_file(tk, s->f) ? 0 : -1;
  });
  if (!ex->attach(*opener)) std::abort();
  while (opener->state() != prio::task_state::completed) (void)ex->run();
  state.SetItemsProcessed(static_cast<std::int64_t>(timed_writes));
}

// The baseline: qd writes in flight on a raw ring set up like the executor's.
void BM_liburing(benchmark::State& state) {
  drop_cache();
  prio::bench::raw_qd_loop(state, g_path, prio::bench::file_op::write, static_cast<unsigned>(state.range(0)),
                           state.range(1) != 0, prio::bench::random_offsets(n_offsets, file_bytes));
}

void depths(benchmark::internal::Benchmark* b) {
  b->ArgNames({"qd", "direct"});
  for (int direct : {0, 1})
    for (int qd : {1, 32}) b->Args({qd, direct});
  b->UseRealTime();
}
BENCHMARK(BM_prio_one_task)->Apply(depths);
BENCHMARK(BM_prio_many_tasks)->Apply(depths);
BENCHMARK(BM_liburing)->Apply(depths);

// ratio_table prints each prio variant's writes/s over the baseline's.
class ratio_table : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      const std::string name = r.benchmark_name();
      const auto slash = name.find('/');
      const double rate = r.counters.count("items_per_second") ? double(r.counters.at("items_per_second")) : 0;
      rates_[name.substr(0, slash)][name.substr(slash + 1)] = rate;
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\n%-34s %12s %12s %12s  %s\n", "setting", "one task", "many tasks", "liburing", "ratios");
    for (const auto& [setting, base] : rates_["BM_liburing"]) {
      const double one = rates_["BM_prio_one_task"][setting], many = rates_["BM_prio_many_tasks"][setting];
      std::printf("%-34s %12.0f %12.0f %12.0f  %.2fx / %.2fx\n", setting.c_str(), one, many, base,
                  base > 0 ? one / base : 0, base > 0 ? many / base : 0);
    }
  }

 private:
  std::map<std::string, std::map<std::string, double>> rates_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  g_path = make_write_file();
  ratio_table reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
