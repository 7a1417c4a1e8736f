// file_detail.hpp: pieces shared by the file operations: the kernel ioprio a
// task's I/O priority maps to, the opcodes this machine has (probed once),
// write ordering per (task, file), and the waits the operations build on.
// Not a public API: use file.hpp, file_rw.hpp and file_meta.hpp.
#pragma once

#include <cstdint>
#include <vector>

#include "prio/context/coro.hpp"
#include "prio/executors/io_op.hpp"

namespace prio::detail {

// --- kernel I/O priority ------------------------------------------------------
inline constexpr std::uint16_t ioprio_class_rt = 1, ioprio_class_be = 2, ioprio_class_idle = 3;
constexpr std::uint16_t ioprio_value(std::uint16_t cls, std::uint16_t level) noexcept {
  return static_cast<std::uint16_t>((cls << 13) | level);
}

// rt_ioprio_permitted() says whether this process may use IOPRIO_CLASS_RT
// (CAP_SYS_ADMIN or CAP_SYS_NICE); checked once. Any thread.
bool rt_ioprio_permitted() noexcept;

// kernel_ioprio() is the SQE ioprio for I/O priority p: high -> RT level 4
// (BE level 0 where RT is not permitted), normal -> BE 4, low -> IDLE.
inline std::uint16_t kernel_ioprio(priority p) noexcept {
  switch (p) {
    case priority::high:
      return rt_ioprio_permitted() ? ioprio_value(ioprio_class_rt, 4) : ioprio_value(ioprio_class_be, 0);
    case priority::normal: return ioprio_value(ioprio_class_be, 4);
    case priority::low: return ioprio_value(ioprio_class_idle, 0);
  }
  return 0;
}

// --- opcodes ------------------------------------------------------------------
// Opcodes newer than liburing 2.3's header.
inline constexpr std::uint8_t op_fixed_fd_install = 54, op_ftruncate = 55;

// file_features: which file opcodes the kernel has. Probed once per process
// with io_uring_get_probe() (its own short-lived ring: a SINGLE_ISSUER
// executor ring may only be probed from its bound thread). Tests may turn
// features off to exercise the fallbacks (file_features_for_test()).
struct file_features {
  bool openat2 = false, close = false, files_update = false, statx = false;
  bool fallocate = false, sync_file_range = false, fsync = false;
  bool unlinkat = false, renameat = false, mkdirat = false;
  bool ftruncate = false, fixed_fd_install = false, read_write = false;
};
const file_features& features() noexcept;
// file_features_for_test() is the same record, writable (tests only, before
// any operation runs or between runs on the executor's thread).
file_features& file_features_for_test() noexcept;

// Tests only: IOSQE_ASYNC on every n-th read/write SQE on each file opened
// while it is set (0: never; a file samples it when opened, so the hot path
// reads no global). Punted operations run on io-wq workers while the others
// run inline, so the kernel completes them out of order: what the
// write-order guarantee has to withstand.
extern unsigned test_async_every;

// --- waits ---------------------------------------------------------------------
// wait_for_io() suspends the stackful task t until st (its own, in flight)
// completes, without reaping it. Bound thread, inside t.
result<void> wait_for_io(task& t, io_status* st) noexcept;

// io_wait_awaiter: the same for a coroutine body (over prio::wait_io_awaiter).
class io_wait_awaiter {
 public:
  io_wait_awaiter(task& t, io_status* st) noexcept : t_(t), st_(st) {}
  bool await_ready() const noexcept {
    return st_ == nullptr || t_.cancel_requested() || st_->done();
  }
  // (false: the wait ended inline, executor::wait_inline; the body goes on.)
  bool await_suspend(std::coroutine_handle<> h) noexcept {
    suspended_ = true;
    return wait_io_awaiter(t_, *st_).await_suspend(h);
  }
  result<void> await_resume() noexcept {
    if (st_ == nullptr) return success();
    if (suspended_) PRIO_TRY(wait_io_awaiter(t_, *st_).await_resume());
    if (t_.cancel_requested()) return failure(errno_error(ECANCELED));
    return success();
  }

 private:
  task& t_;
  io_status* st_;
  bool suspended_ = false;
};

// --- write ordering -------------------------------------------------------------
// write_order keeps, per task, the one write of that task to this file that
// is still in flight. A new write (or sync, truncate, allocate) of the same
// task first waits for it, so io-wq can never run a task's writes to one
// file out of order; other tasks and reads are unaffected. The operation's
// io_status carries this object in st.user and write_order::on_cqe as
// st.on_cqe while in flight. Bound thread only.
class write_order {
 public:
  // in_flight() is t's write in flight on this file, or nullptr.
  io_status* in_flight(const task& t) const noexcept;
  // track() records st as t's write in flight (before it is initiated).
  void track(task& t, io_status& st);
  // untrack() forgets st (initiation failed, or its CQE arrived).
  void untrack(io_status& st) noexcept;
  static bool on_cqe(io_status& st, std::int32_t res, std::uint32_t flags) noexcept;

 private:
  struct entry {
    const task* t;
    io_status* st;
  };
  std::vector<entry> entries_;  // one per task writing now; reused, rarely grows
};

}  // namespace prio::detail
