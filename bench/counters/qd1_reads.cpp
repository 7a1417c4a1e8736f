// qd1_reads: fixed work for counting tools, no timing. `reads` buffered
// 4 KiB random reads at queue depth 1 of the file random_read_bench uses:
// from one stackful prio task (initiate_read + suspend_until_completed_io),
// or with "raw" from a raw liburing loop on a ring set up the same way. Run
// it twice with different counts under callgrind, lackey or perf stat and
// divide the difference: per-read instructions, cache lines, misses. With
// "direct" both sides open the file O_DIRECT (the alignment checks' path);
// "untracked" runs prio's executor with track_task_time = false. See
// bench/README.md.
//
//   qd1_reads <reads> [raw] [direct] [untracked]
#include <fcntl.h>
#include <liburing.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bench/io/file/bench_file.hpp"
#include "prio/io/file.hpp"
#include "prio/io/file_rw.hpp"

namespace {

alignas(4096) char g_buf[4096];

int raw_reads(const std::string& path, long n, const std::vector<std::uint64_t>& offs, int direct) {
  io_uring ring;
  io_uring_params p{};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL;
  if (io_uring_queue_init_params(256, &ring, &p) != 0) return 1;
  (void)io_uring_register_ring_fd(&ring);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | direct);
  if (fd < 0 || io_uring_register_files(&ring, &fd, 1) != 0) return 1;
  for (long i = 0; i < n; ++i) {
    io_uring_sqe* s = io_uring_get_sqe(&ring);
    io_uring_prep_read(s, 0, g_buf, sizeof(g_buf), offs[static_cast<std::size_t>(i) % offs.size()]);
    s->flags |= IOSQE_FIXED_FILE;
    io_uring_submit_and_wait(&ring, 1);
    io_uring_cqe* cqe = nullptr;
    if (io_uring_peek_cqe(&ring, &cqe) != 0 || cqe->res != sizeof(g_buf)) return 1;
    io_uring_cqe_seen(&ring, cqe);
  }
  io_uring_queue_exit(&ring);
  ::close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace prio;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <reads> [raw] [direct] [untracked]\n", argv[0]);
    return 2;
  }
  const long n = std::atol(argv[1]);
  bool raw = false, tracked = true;
  int direct = 0;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "raw") == 0) {
      raw = true;
    } else if (std::strcmp(argv[i], "direct") == 0) {
      direct = O_DIRECT;
    } else if (std::strcmp(argv[i], "untracked") == 0) {
      tracked = false;
    } else {
      std::fprintf(stderr, "qd1_reads: unknown argument '%s' (raw, direct, untracked)\n", argv[i]);
      return 2;
    }
  }
  const std::string path = bench::bench_file_path();
  const auto offs = bench::random_offsets(1 << 16, bench::bench_file_bytes());
  if (raw) return raw_reads(path, n, offs, direct);
  // (Publishing stats left out, as in nop_rounds: valgrind's slowdown would
  // make the 100 us default publish far more often than a native run does.)
  auto ex = executor::create(
      {.ring_entries = 256, .track_task_time = tracked, .stats_publish_interval = std::chrono::hours(1)});
  auto t = task::create({.switcher = switcher_kind::asm_switch});
  if (!ex || !t) return 1;
  io_status st;
  (*t)->set_body([&](task& tk) -> result<std::int64_t> {
    auto f = open_file(tk, AT_FDCWD, path.c_str(), open_how_of(O_RDONLY | direct));
    if (!f) return failure(f.error());
    for (long i = 0; i < n; ++i) {
      PRIO_TRY(initiate_read(tk, st, *f, g_buf, sizeof(g_buf), offs[static_cast<std::size_t>(i) % offs.size()]));
      auto d = tk.suspend_until_completed_io();
      if (!d) return failure(d.error());
      if (*d == nullptr || (*d)->res != static_cast<std::int32_t>(sizeof(g_buf))) return failure(errno_error(EIO));
    }
    PRIO_TRY(close_file(tk, *f));
    return std::int64_t{0};
  });
  if (!(*ex)->attach(**t)) return 1;
  while ((*t)->state() != task_state::completed)
    if (!(*ex)->run()) return 1;
  if (!(*t)->outcome()) {
    std::fprintf(stderr, "qd1_reads: %s\n", (*t)->outcome().error().message().c_str());
    return 1;
  }
  // How the waits went: an inline wait costs one enter per read; a wait
  // that switched to the executor costs two (its own and the loop's).
  const executor_stats s = (*ex)->stats();
  std::fprintf(stderr, "qd1_reads: %ld reads, %.3f enters and %.3f resumes per read\n", n,
               static_cast<double>(s.enters) / static_cast<double>(n), static_cast<double>(s.resumed) / static_cast<double>(n));
  return 0;
}
