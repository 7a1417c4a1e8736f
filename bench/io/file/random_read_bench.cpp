// random_read_bench.cpp: 4 KiB random reads over one file at queue depths
// 1, 32 and 128, buffered and O_DIRECT: prio (one stackful task keeping
// `qd` reads in flight through initiate_read / suspend_until_completed_io)
// against a raw liburing loop doing the same reads on a ring set up the same
// way (SINGLE_ISSUER|DEFER_TASKRUN, registered file), in the same run.
// Counters: IOPS (items_per_second); the ratio table prints at the end.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <liburing.h>

#include <cstdlib>
#include <map>

#include "bench_file.hpp"
#include "prio/io/file_rw.hpp"

namespace {

using prio::bench::bench_file_bytes;
using prio::bench::bench_file_path;
using prio::bench::random_offsets;

std::string g_path;
constexpr std::size_t n_offsets = 1 << 16;

struct aligned_buffers {
  explicit aligned_buffers(std::size_t n) : n_(n) {
    if (::posix_memalign(&mem_, 4096, n * 4096) != 0) std::abort();
  }
  ~aligned_buffers() { std::free(mem_); }
  char* at(std::size_t i) const { return static_cast<char*>(mem_) + i * 4096; }
  std::size_t n_;
  void* mem_ = nullptr;
};

void BM_prio_random_read(benchmark::State& state) {
  const unsigned qd = static_cast<unsigned>(state.range(0));
  const bool direct = state.range(1) != 0;
  auto ex = prio::executor::create({.ring_entries = 256}).value();
  auto t = prio::task::create({.switcher = prio::switcher_kind::asm_switch}).value();
  const auto offs = random_offsets(n_offsets, bench_file_bytes());
  aligned_buffers bufs(qd);
  std::vector<prio::io_status> st(qd);
  std::string error;
  // One pointer captured: a task stores its callable inline (48 bytes).
  struct ctx_t {
    benchmark::State& state;
    unsigned qd;
    bool direct;
    const std::vector<std::uint64_t>& offs;
    aligned_buffers& bufs;
    std::vector<prio::io_status>& st;
    std::string& error;
  } ctx{state, qd, direct, offs, bufs, st, error};
  t->set_body([c = &ctx](prio::task& tk) -> prio::result<std::int64_t> {
    auto& [state, qd, direct, offs, bufs, st, error] = *c;
    auto f = prio::open_file(tk, AT_FDCWD, g_path.c_str(), prio::open_how_of(O_RDONLY | (direct ? O_DIRECT : 0)));
    if (!f) return prio::failure(f.error());
    std::size_t next = 0;
    for (unsigned i = 0; i < qd; ++i)
      PRIO_TRY(prio::initiate_read(tk, st[i], *f, bufs.at(i), 4096, offs[next++ % n_offsets]));
    for (auto _ : state) {
      auto d = tk.suspend_until_completed_io();
      if (!d || !*d || (*d)->res != 4096) {
        error = "read failed";
        break;
      }
      const std::size_t i = static_cast<std::size_t>(*d - st.data());
      PRIO_TRY(prio::initiate_read(tk, st[i], *f, bufs.at(i), 4096, offs[next++ % n_offsets]));
    }
    while (auto d = tk.suspend_until_completed_io()) if (!*d) break;  // drain
    return prio::close_file(tk, *f) ? 0 : -1;
  });
  if (!ex->attach(*t)) std::abort();
  while (t->state() != prio::task_state::completed) (void)ex->run();
  // io_uring_enter calls per read (the baseline makes one per batch).
  state.counters["enters_per_read"] =
      static_cast<double>(ex->stats().enters) / static_cast<double>(std::max<std::int64_t>(state.iterations(), 1));
  if (!t->outcome()) state.SkipWithError(t->outcome().error().message().c_str());
  if (!error.empty()) state.SkipWithError(error.c_str());
  state.SetItemsProcessed(state.iterations());
}

void BM_liburing_random_read(benchmark::State& state) {
  const unsigned qd = static_cast<unsigned>(state.range(0));
  const bool direct = state.range(1) != 0;
  io_uring ring;
  io_uring_params p{};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL;
  if (io_uring_queue_init_params(256, &ring, &p) != 0) {
    state.SkipWithError("io_uring_queue_init_params");
    return;
  }
  int fd = ::open(g_path.c_str(), O_RDONLY | O_CLOEXEC | (direct ? O_DIRECT : 0));
  io_uring_register_files(&ring, &fd, 1);
  const auto offs = random_offsets(n_offsets, bench_file_bytes());
  aligned_buffers bufs(qd);
  std::size_t next = 0;
  auto queue = [&](unsigned i) {
    io_uring_sqe* s = io_uring_get_sqe(&ring);
    io_uring_prep_read(s, 0, bufs.at(i), 4096, offs[next++ % n_offsets]);
    s->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(s, i);
  };
  for (unsigned i = 0; i < qd; ++i) queue(i);
  unsigned in_flight = qd, ready = 0;
  io_uring_cqe* cqe;
  for (auto _ : state) {
    // Like the executor: submit what is queued and wait only when nothing
    // completed is at hand.
    if (ready == 0) {
      io_uring_submit_and_wait(&ring, 1);
      ready = io_uring_cq_ready(&ring);
    }
    io_uring_peek_cqe(&ring, &cqe);
    if (cqe->res != 4096) {
      state.SkipWithError("read failed");
      break;
    }
    const unsigned i = static_cast<unsigned>(cqe->user_data);
    io_uring_cqe_seen(&ring, cqe);
    --ready;
    queue(i);
  }
  io_uring_submit(&ring);
  while (in_flight-- > 0 && io_uring_wait_cqe(&ring, &cqe) == 0) io_uring_cqe_seen(&ring, cqe);
  io_uring_queue_exit(&ring);
  ::close(fd);
  state.SetItemsProcessed(state.iterations());
}

void depths(benchmark::internal::Benchmark* b) {
  for (int direct : {0, 1})
    for (int qd : {1, 32, 128}) b->Args({qd, direct});
  b->ArgNames({"qd", "direct"})->UseRealTime()->MinTime(1.0);
}
BENCHMARK(BM_prio_random_read)->Apply(depths);
BENCHMARK(BM_liburing_random_read)->Apply(depths);

// iops_reporter prints prio's IOPS next to liburing's for each setting.
class iops_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs)
      if (r.run_type == Run::RT_Iteration && !r.error_occurred) {
        auto it = r.counters.find("items_per_second");
        if (it != r.counters.end()) iops_[r.benchmark_name()] = it->second.value;
      }
    ConsoleReporter::ReportRuns(runs);
  }
  void print_ratios() const {
    std::printf("\n%-28s %12s %12s %7s\n", "setting", "prio IOPS", "liburing", "ratio");
    for (const auto& [name, v] : iops_) {
      const std::string pre = "BM_prio_random_read/";
      if (name.rfind(pre, 0) != 0) continue;
      auto base = iops_.find("BM_liburing_random_read/" + name.substr(pre.size()));
      if (base == iops_.end()) continue;
      std::printf("%-28s %12.0f %12.0f %7.3f\n", name.substr(pre.size()).c_str(), v, base->second,
                  v / base->second);
    }
  }

 private:
  std::map<std::string, double> iops_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  g_path = bench_file_path();
  iops_reporter rep;
  benchmark::RunSpecifiedBenchmarks(&rep);
  rep.print_ratios();
  benchmark::Shutdown();
  return 0;
}
