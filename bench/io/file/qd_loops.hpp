// qd_loops.hpp: keeping `qd` 4 KiB reads or writes in flight on one file,
// the two ways the file benchmarks compare: from one prio task
// (initiate_* + suspend_until_completed_io) and from a raw liburing loop
// on a ring set up the same way (SINGLE_ISSUER|DEFER_TASKRUN|SUBMIT_ALL,
// 256 entries, the file and the ring fd registered). One benchmark iteration = one
// completed operation.
#pragma once

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <liburing.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "prio/io/file_rw.hpp"

namespace prio::bench {

// aligned_buffers: n page-aligned 4 KiB buffers (O_DIRECT needs alignment).
struct aligned_buffers {
  explicit aligned_buffers(std::size_t n) {
    if (::posix_memalign(&mem, 4096, n * 4096) != 0) std::abort();
    std::memset(mem, 0x5a, n * 4096);
  }
  ~aligned_buffers() { std::free(mem); }
  aligned_buffers(const aligned_buffers&) = delete;
  aligned_buffers& operator=(const aligned_buffers&) = delete;
  char* at(std::size_t i) const { return static_cast<char*>(mem) + i * 4096; }
  void* mem = nullptr;
};

enum class file_op { read, write };

// prio_qd_loop() runs one stackful prio task that keeps qd operations of
// kind op in flight on path at offsets offs (cycled) for the benchmark's
// iterations. Counter enters_per_<op>: io_uring_enter calls per operation.
inline void prio_qd_loop(benchmark::State& state, const std::string& path, file_op op, unsigned qd, bool direct,
                         const std::vector<std::uint64_t>& offs) {
  auto ex = executor::create({.ring_entries = 256}).value();
  auto t = task::create({.switcher = switcher_kind::asm_switch}).value();
  aligned_buffers bufs(qd);
  std::vector<io_status> st(qd);
  std::string error;
  // One pointer captured: a task stores its callable inline (48 bytes).
  struct ctx_t {
    benchmark::State& state;
    const std::string& path;
    file_op op;
    unsigned qd;
    bool direct;
    const std::vector<std::uint64_t>& offs;
    aligned_buffers& bufs;
    std::vector<io_status>& st;
    std::string& error;
  } ctx{state, path, op, qd, direct, offs, bufs, st, error};
  t->set_body([c = &ctx](task& tk) -> result<std::int64_t> {
    auto& [state, path, op, qd, direct, offs, bufs, st, error] = *c;
    const int mode = op == file_op::read ? O_RDONLY : O_WRONLY;
    auto f = open_file(tk, AT_FDCWD, path.c_str(), open_how_of(mode | (direct ? O_DIRECT : 0)));
    if (!f) return failure(f.error());
    std::size_t next = 0;
    auto start = [&](std::size_t i) {
      const std::uint64_t off = offs[next++ % offs.size()];
      return op == file_op::read ? initiate_read(tk, st[i], *f, bufs.at(i), 4096, off)
                                 : initiate_write(tk, st[i], *f, bufs.at(i), 4096, off);
    };
    for (unsigned i = 0; i < qd; ++i) PRIO_TRY(start(i));
    for (auto _ : state) {
      auto d = tk.suspend_until_completed_io();
      if (!d || !*d || (*d)->res != 4096) {
        error = op == file_op::read ? "read failed" : "write failed";
        break;
      }
      PRIO_TRY(start(static_cast<std::size_t>(*d - st.data())));
    }
    while (auto d = tk.suspend_until_completed_io()) if (!*d) break;  // drain
    return close_file(tk, *f) ? 0 : -1;
  });
  if (!ex->attach(*t)) std::abort();
  while (t->state() != task_state::completed) (void)ex->run();
  // io_uring_enter calls per operation (the baseline makes one per batch).
  state.counters[op == file_op::read ? "enters_per_read" : "enters_per_write"] =
      static_cast<double>(ex->stats().enters) / static_cast<double>(std::max<std::int64_t>(state.iterations(), 1));
  if (!t->outcome()) state.SkipWithError(t->outcome().error().message().c_str());
  if (!error.empty()) state.SkipWithError(error.c_str());
  state.SetItemsProcessed(state.iterations());
}

// raw_qd_loop() is the baseline: the same operations with raw liburing.
inline void raw_qd_loop(benchmark::State& state, const std::string& path, file_op op, unsigned qd, bool direct,
                        const std::vector<std::uint64_t>& offs) {
  io_uring ring;
  io_uring_params p{};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL;
  if (io_uring_queue_init_params(256, &ring, &p) != 0) {
    state.SkipWithError("io_uring_queue_init_params");
    return;
  }
  (void)io_uring_register_ring_fd(&ring);  // as the executor does on its thread
  const int mode = op == file_op::read ? O_RDONLY : O_WRONLY;
  int fd = ::open(path.c_str(), mode | O_CLOEXEC | (direct ? O_DIRECT : 0));
  io_uring_register_files(&ring, &fd, 1);
  aligned_buffers bufs(qd);
  std::size_t next = 0;
  auto queue = [&](unsigned i) {
    io_uring_sqe* s = io_uring_get_sqe(&ring);
    const std::uint64_t off = offs[next++ % offs.size()];
    if (op == file_op::read)
      io_uring_prep_read(s, 0, bufs.at(i), 4096, off);
    else
      io_uring_prep_write(s, 0, bufs.at(i), 4096, off);
    s->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(s, i);
  };
  for (unsigned i = 0; i < qd; ++i) queue(i);
  unsigned ready = 0;
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
      state.SkipWithError(op == file_op::read ? "read failed" : "write failed");
      break;
    }
    const auto i = static_cast<unsigned>(cqe->user_data);
    io_uring_cqe_seen(&ring, cqe);
    --ready;
    queue(i);
  }
  io_uring_submit(&ring);
  for (unsigned n = qd; n > 0 && io_uring_wait_cqe(&ring, &cqe) == 0; --n) io_uring_cqe_seen(&ring, cqe);
  io_uring_queue_exit(&ring);
  ::close(fd);
  state.SetItemsProcessed(state.iterations());
}

}  // namespace prio::bench
