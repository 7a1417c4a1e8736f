// nop_baselines.hpp: the two loops nop_roundtrip_bench measures prio
// against, each on its own ring set up like the executor's (same flags, fd
// registered), batches of kTasks NOPs:
//
// raw_loop        liburing alone: prepare the batch's NOPs, one
//                 io_uring_submit_and_wait, reap. No tasks.
// bare_coro_loop  the least a coroutine scheduler needs on the same ring:
//                 kTasks C++20 coroutines, each awaiting one NOP at a time
//                 (its awaiter's address as user_data), a FIFO of handles
//                 to resume. No priorities, accounting, cancellation,
//                 timeouts, slot limits or cross-thread attach: what prio
//                 adds on top of it is the gap between the two.
#pragma once

#include <liburing.h>

#include <coroutine>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench/common/bare_coroutine.hpp"

namespace prio::bench {

constexpr int kTasks = 64;

// baseline_ring: a ring with the executor's flags (SINGLE_ISSUER |
// DEFER_TASKRUN | SUBMIT_ALL, falling back to none) and its fd registered,
// as the executor registers its own on its thread.
class baseline_ring {
 public:
  baseline_ring() {
    io_uring_params p;
    std::memset(&p, 0, sizeof(p));
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL;
    if (io_uring_queue_init_params(128, &ring_, &p) < 0) {
      std::memset(&p, 0, sizeof(p));
      if (io_uring_queue_init_params(128, &ring_, &p) < 0) std::abort();
    }
    (void)io_uring_register_ring_fd(&ring_);
  }
  ~baseline_ring() { io_uring_queue_exit(&ring_); }
  baseline_ring(const baseline_ring&) = delete;
  baseline_ring& operator=(const baseline_ring&) = delete;
  io_uring* get() { return &ring_; }

  // reap() hands every CQE ready now to f and consumes them.
  template <class F>
  void reap(F&& f) {
    unsigned head, seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      f(*cqe);
      ++seen;
    }
    io_uring_cq_advance(&ring_, seen);
  }

 private:
  io_uring ring_;
};

class raw_loop {
 public:
  // batches() runs n x kTasks round trips (true: as prio_loop's does).
  bool batches(int n) {
    for (int b = 0; b < n; ++b) {
      for (int i = 0; i < kTasks; ++i) {
        io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
        io_uring_prep_nop(sqe);
        io_uring_sqe_set_data64(sqe, static_cast<std::uint64_t>(i));
      }
      io_uring_submit_and_wait(ring_.get(), kTasks);
      ring_.reap([this](const io_uring_cqe& c) { nops_ += c.res == 0; });
    }
    return true;
  }
  std::uint64_t nops() const { return nops_; }

 private:
  baseline_ring ring_;
  std::uint64_t nops_ = 0;
};

class bare_coro_loop {
 public:
  bare_coro_loop() {
    for (int i = 0; i < kTasks; ++i) tasks_.push_back(body());
    for (auto& t : tasks_) t.h.resume();  // each has its first NOP prepared
  }
  ~bare_coro_loop() {
    stop_ = true;
    // The last batch: every coroutine sees stop_ once its NOP is in and
    // runs to its final suspend.
    io_uring_submit_and_wait(ring_.get(), kTasks);
    ring_.reap([this](const io_uring_cqe& c) { complete(c); });
    resume_ready();
    for (auto& t : tasks_) t.h.destroy();
  }
  bare_coro_loop(const bare_coro_loop&) = delete;
  bare_coro_loop& operator=(const bare_coro_loop&) = delete;

  // batches() runs n x kTasks round trips: submit and wait for the batch,
  // queue each CQE's coroutine, resume them (each prepares its next NOP).
  bool batches(int n) {
    for (int b = 0; b < n; ++b) {
      io_uring_submit_and_wait(ring_.get(), kTasks);
      ring_.reap([this](const io_uring_cqe& c) { complete(c); });
      resume_ready();
    }
    return true;
  }
  std::uint64_t nops() const { return nops_; }

 private:
  struct nop_awaiter {
    bare_coro_loop& loop;
    std::coroutine_handle<> h{};
    std::int32_t res = 0;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> caller) noexcept {
      h = caller;
      io_uring_sqe* sqe = io_uring_get_sqe(loop.ring_.get());
      io_uring_prep_nop(sqe);
      io_uring_sqe_set_data(sqe, this);
    }
    std::int32_t await_resume() const noexcept { return res; }
  };

  bare_task body() {
    while (!stop_) {
      const std::int32_t r = co_await nop_awaiter{*this};
      if (r < 0) std::abort();
      ++nops_;
    }
  }
  void complete(const io_uring_cqe& c) {
    auto* a = static_cast<nop_awaiter*>(io_uring_cqe_get_data(&c));
    a->res = c.res;
    ready_[tail_++ % kReady] = a->h;
  }
  void resume_ready() {
    while (head_ != tail_) ready_[head_++ % kReady].resume();
  }

  static constexpr unsigned kReady = 128;  // > kTasks: each coroutine is queued once at most
  baseline_ring ring_;
  std::vector<bare_task> tasks_;
  std::coroutine_handle<> ready_[kReady];
  unsigned head_ = 0, tail_ = 0;
  bool stop_ = false;
  std::uint64_t nops_ = 0;
};

}  // namespace prio::bench
