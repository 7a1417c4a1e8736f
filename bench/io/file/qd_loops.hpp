// qd_loops.hpp: keeping `qd` 4 KiB reads or writes in flight on one file,
// the two ways the file benchmarks compare: from one prio task
// (initiate_* + suspend_until_completed_io) and from a raw liburing loop
// on a ring set up the same way (SINGLE_ISSUER|DEFER_TASKRUN|SUBMIT_ALL,
// 256 entries, the file and the ring fd registered), either each in a
// benchmark of its own (one iteration = one completed operation) or both
// in one, paired chunk by chunk (paired_qd_loop, one iteration = one pair).
#pragma once

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <liburing.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "bench/common/paired.hpp"
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

// qd_job: what both sides do: `qd` 4 KiB operations of kind op in flight,
// at the offsets offs (cycled). track_task_time is prio's executor option
// (the baseline has no such bookkeeping).
struct qd_job {
  file_op op;
  unsigned qd;
  bool direct;
  const std::vector<std::uint64_t>& offs;
  bool track_task_time = true;
};

// prio_qd_run() keeps j.qd operations in flight on f from the stackful
// task tk while more() says so (asked before each completion is awaited;
// each completion starts the next operation), then waits for the ones still
// in flight. `next` is the offsets cursor, kept across calls. Returns the
// completions, or the error of a failed or short operation.
template <class More>
result<std::uint64_t> prio_qd_run(task& tk, file& f, const qd_job& j, aligned_buffers& bufs,
                                  std::vector<io_status>& st, std::size_t& next, More&& more) {
  auto start = [&](std::size_t i) {
    const std::uint64_t off = j.offs[next++ % j.offs.size()];
    return j.op == file_op::read ? initiate_read(tk, st[i], f, bufs.at(i), 4096, off)
                                 : initiate_write(tk, st[i], f, bufs.at(i), 4096, off);
  };
  for (unsigned i = 0; i < j.qd; ++i) PRIO_TRY(start(i));
  unsigned in_flight = j.qd;
  std::uint64_t done = 0;
  auto reap_one = [&]() -> result<std::size_t> {
    auto d = tk.suspend_until_completed_io();
    if (!d) return failure(d.error());
    if (!*d) return failure(errno_error(EPROTO));  // none in flight: cannot be
    --in_flight;
    ++done;
    if ((*d)->res != 4096) return failure(errno_error((*d)->res < 0 ? -(*d)->res : EIO));
    return static_cast<std::size_t>(*d - st.data());
  };
  while (more()) {
    auto i = reap_one();
    if (!i) return failure(i.error());  // the task's exit cancels what is in flight
    PRIO_TRY(start(*i));
    ++in_flight;
  }
  while (in_flight > 0)
    if (auto i = reap_one(); !i) return failure(i.error());
  return done;
}

// raw_qd_ring is the baseline: the same operations with raw liburing, on a
// ring set up the way the executor sets up its own
// (SINGLE_ISSUER|DEFER_TASKRUN|SUBMIT_ALL, 256 entries, the file and the
// ring fd registered). Use it from one thread.
class raw_qd_ring {
 public:
  raw_qd_ring(const std::string& path, const qd_job& j) : j_(j), bufs_(j.qd) {
    io_uring_params p{};
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL;
    if (io_uring_queue_init_params(256, &ring_, &p) != 0) {
      error_ = "io_uring_queue_init_params";
      return;
    }
    ring_ok_ = true;
    (void)io_uring_register_ring_fd(&ring_);  // as the executor does on its thread
    const int mode = j.op == file_op::read ? O_RDONLY : O_WRONLY;
    fd_ = ::open(path.c_str(), mode | O_CLOEXEC | (j.direct ? O_DIRECT : 0));
    if (fd_ < 0 || io_uring_register_files(&ring_, &fd_, 1) != 0) error_ = "open/register " + path;
  }
  ~raw_qd_ring() {
    if (ring_ok_) io_uring_queue_exit(&ring_);
    if (fd_ >= 0) ::close(fd_);
  }
  raw_qd_ring(const raw_qd_ring&) = delete;
  raw_qd_ring& operator=(const raw_qd_ring&) = delete;

  // error(): why the ring is unusable or the last run() failed ("" if not).
  const std::string& error() const { return error_; }

  // run() is prio_qd_run() for the baseline: it returns the completions (0,
  // with error() set, if an operation failed; the rest are still waited for).
  template <class More>
  std::uint64_t run(More&& more) {
    if (!error_.empty()) return 0;
    for (unsigned i = 0; i < j_.qd; ++i) queue(i);
    unsigned in_flight = j_.qd, ready = 0;
    std::uint64_t done = 0;
    io_uring_cqe* cqe;
    while (more()) {
      // Like the executor: submit what is queued and wait only when nothing
      // completed is at hand.
      if (ready == 0) {
        io_uring_submit_and_wait(&ring_, 1);
        ready = io_uring_cq_ready(&ring_);
      }
      io_uring_peek_cqe(&ring_, &cqe);
      const bool ok = cqe->res == 4096;
      const auto i = static_cast<unsigned>(cqe->user_data);
      io_uring_cqe_seen(&ring_, cqe);
      --ready;
      --in_flight;
      ++done;
      if (!ok) {
        error_ = j_.op == file_op::read ? "read failed" : "write failed";
        break;
      }
      queue(i);
      ++in_flight;
    }
    io_uring_submit(&ring_);
    for (; in_flight > 0 && io_uring_wait_cqe(&ring_, &cqe) == 0; --in_flight, ++done) {
      if (cqe->res != 4096) error_ = j_.op == file_op::read ? "read failed" : "write failed";
      io_uring_cqe_seen(&ring_, cqe);
    }
    return error_.empty() ? done : 0;
  }

 private:
  void queue(unsigned i) {
    io_uring_sqe* s = io_uring_get_sqe(&ring_);
    const std::uint64_t off = j_.offs[next_++ % j_.offs.size()];
    if (j_.op == file_op::read)
      io_uring_prep_read(s, 0, bufs_.at(i), 4096, off);
    else
      io_uring_prep_write(s, 0, bufs_.at(i), 4096, off);
    s->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(s, i);
  }

  io_uring ring_{};
  bool ring_ok_ = false;
  int fd_ = -1;
  qd_job j_;
  aligned_buffers bufs_;
  std::size_t next_ = 0;
  std::string error_;
};

// run_in_task() runs body(tk, f) in one stackful prio task on a fresh
// executor (256 ring entries, j.track_task_time) with the file opened for
// j, closed after.
// The first error becomes the benchmark's (SkipWithError). Returns the
// executor's io_uring_enter count.
template <class Body>
std::uint64_t run_in_task(benchmark::State& state, const std::string& path, const qd_job& j, Body&& body) {
  auto ex = executor::create({.ring_entries = 256, .track_task_time = j.track_task_time}).value();
  auto t = task::create({.switcher = switcher_kind::asm_switch}).value();
  struct ctx_t {  // one pointer captured: a task stores its callable inline
    const std::string& path;
    const qd_job& j;
    Body& body;
  } ctx{path, j, body};
  t->set_body([c = &ctx](task& tk) -> result<std::int64_t> {
    const int mode = c->j.op == file_op::read ? O_RDONLY : O_WRONLY;
    auto f = open_file(tk, AT_FDCWD, c->path.c_str(), open_how_of(mode | (c->j.direct ? O_DIRECT : 0)));
    if (!f) return failure(f.error());
    auto r = c->body(tk, *f);
    auto closed = close_file(tk, *f);
    if (!r) return failure(r.error());
    if (!closed) return failure(closed.error());
    return 0;
  });
  if (!ex->attach(*t)) std::abort();
  while (t->state() != task_state::completed) (void)ex->run();
  if (!t->outcome()) state.SkipWithError(t->outcome().error().message().c_str());
  return ex->stats().enters;
}

// prio_qd_loop(): one prio task keeps qd operations in flight for the
// benchmark's iterations (one iteration = one completed operation).
// Counter enters_per_<op>: io_uring_enter calls per operation.
inline void prio_qd_loop(benchmark::State& state, const std::string& path, file_op op, unsigned qd, bool direct,
                         const std::vector<std::uint64_t>& offs) {
  const qd_job j{op, qd, direct, offs};
  aligned_buffers bufs(qd);
  std::vector<io_status> st(qd);
  std::size_t next = 0;
  const std::uint64_t enters = run_in_task(state, path, j, [&](task& tk, file& f) -> result<void> {
    PRIO_TRY(prio_qd_run(tk, f, j, bufs, st, next, [&] { return state.KeepRunning(); }));
    return success();
  });
  // (the baseline makes one per batch)
  state.counters[op == file_op::read ? "enters_per_read" : "enters_per_write"] =
      static_cast<double>(enters) / static_cast<double>(std::max<std::int64_t>(state.iterations(), 1));
  state.SetItemsProcessed(state.iterations());
}

// raw_qd_loop() is the baseline of prio_qd_loop().
inline void raw_qd_loop(benchmark::State& state, const std::string& path, file_op op, unsigned qd, bool direct,
                        const std::vector<std::uint64_t>& offs) {
  raw_qd_ring raw(path, {op, qd, direct, offs});
  raw.run([&] { return state.KeepRunning(); });
  if (!raw.error().empty()) state.SkipWithError(raw.error().c_str());
  state.SetItemsProcessed(state.iterations());
}

// paired_qd_loop(): the comparison that holds on a noisy shared host,
// where a neighbour's load moves either side's time by more than the gap
// measured. One benchmark iteration is one pair of chunks, prio's and the
// baseline's, back to back on the same thread (the baseline's ring is
// driven from inside the prio task's body, prio's ring drained and idle
// meanwhile), the order alternating from pair to pair; each chunk fills
// the queue to qd, completes operations for ~chunk_ms, and drains.
// Counters: ratio = the median over the pairs of prio's IOPS / the
// baseline's IOPS in the same pair, ratio_p25 / ratio_p75 its quartiles,
// prio_iops / raw_iops over all chunks. Each pair's ratio is appended to
// *ratios.
inline void paired_qd_loop(benchmark::State& state, const std::string& path, const qd_job& j,
                           std::vector<double>* ratios, double chunk_ms = 20) {
  using clock = std::chrono::steady_clock;
  raw_qd_ring raw(path, j);
  if (!raw.error().empty()) {
    state.SkipWithError(raw.error().c_str());
    return;
  }
  aligned_buffers bufs(j.qd);
  std::vector<io_status> st(j.qd);
  std::size_t next = 0;
  std::vector<double> mine;
  double prio_ops = 0, prio_s = 0, raw_ops = 0, raw_s = 0;
  run_in_task(state, path, j, [&](task& tk, file& f) -> result<void> {
    // A chunk of n operations (plus the qd drained): {ops, seconds}.
    auto prio_chunk = [&](std::uint64_t n) -> result<std::pair<double, double>> {
      std::uint64_t left = n;
      const auto t0 = clock::now();
      auto done = prio_qd_run(tk, f, j, bufs, st, next, [&] { return left-- > 0; });
      if (!done) return failure(done.error());
      return std::pair<double, double>(static_cast<double>(*done),
                                       std::chrono::duration<double>(clock::now() - t0).count());
    };
    auto raw_chunk = [&](std::uint64_t n) -> result<std::pair<double, double>> {
      std::uint64_t left = n;
      const auto t0 = clock::now();
      const std::uint64_t done = raw.run([&] { return left-- > 0; });
      if (!raw.error().empty()) return failure(errno_error(EIO));
      return std::pair<double, double>(static_cast<double>(done),
                                       std::chrono::duration<double>(clock::now() - t0).count());
    };
    // One pair: both chunks of n operations, in the order asked; p and r
    // are then prio's and the baseline's {ops, seconds}.
    std::pair<double, double> p{}, r{};
    auto measure = [&](bool prio_first, std::uint64_t n) -> result<void> {
      for (int side = 0; side < 2; ++side) {
        const bool is_prio = (side == 0) == prio_first;
        auto c = is_prio ? prio_chunk(n) : raw_chunk(n);
        if (!c) return failure(c.error());
        (is_prio ? p : r) = *c;
      }
      return success();
    };
    // Warm both sides, then size the chunks from the slower one.
    PRIO_TRY(measure(true, 256));
    PRIO_TRY(measure(false, 256));
    const double per_op = std::max(p.second / p.first, r.second / r.first);
    const auto n = static_cast<std::uint64_t>(std::clamp(chunk_ms * 1e-3 / per_op, 256.0, 1e6));
    bool prio_first = true;
    for (auto _ : state) {
      PRIO_TRY(measure(prio_first, n));
      prio_first = !prio_first;
      prio_ops += p.first, prio_s += p.second, raw_ops += r.first, raw_s += r.second;
      mine.push_back((p.first / p.second) / (r.first / r.second));
    }
    return success();
  });
  if (mine.empty()) return;
  if (ratios) ratios->insert(ratios->end(), mine.begin(), mine.end());
  std::sort(mine.begin(), mine.end());
  state.counters["ratio"] = quantile(mine, 0.5);
  state.counters["ratio_p25"] = quantile(mine, 0.25);
  state.counters["ratio_p75"] = quantile(mine, 0.75);
  state.counters["prio_iops"] = prio_ops / prio_s;
  state.counters["raw_iops"] = raw_ops / raw_s;
}

}  // namespace prio::bench
