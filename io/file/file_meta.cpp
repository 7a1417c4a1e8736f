// file_meta.cpp: sync, allocate, truncate, statx and the path operations,
// with the plain-syscall fallback where the kernel lacks the opcode.
#include "prio/io/file_meta.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "io/file/op_common.hpp"

namespace prio {

using detail::features;

namespace {

result<void> sys(int r) noexcept { return r == 0 ? success() : result<void>(failure(errno_error(errno))); }

// An operation on f: its SQE preparer, or the syscall used where the kernel
// has no opcode (only reachable for a plain-fd file).
struct fsync_op {
  unsigned flags;
  bool have() const noexcept { return features().fsync; }
  void operator()(io_uring_sqe* s, int fd) const noexcept { io_uring_prep_fsync(s, fd, flags); }
  result<void> fallback(int fd) const noexcept { return sys(flags ? ::fdatasync(fd) : ::fsync(fd)); }
};
struct sync_range_op {
  std::uint64_t off, len;
  unsigned flags;
  bool have() const noexcept { return features().sync_file_range; }
  void operator()(io_uring_sqe* s, int fd) const noexcept {
    io_uring_prep_sync_file_range(s, fd, static_cast<unsigned>(len), off, static_cast<int>(flags));
  }
  result<void> fallback(int fd) const noexcept {
    return sys(::sync_file_range(fd, static_cast<off_t>(off), static_cast<off_t>(len), flags));
  }
};
struct fallocate_op {
  int mode;
  std::uint64_t off, len;
  bool have() const noexcept { return features().fallocate; }
  void operator()(io_uring_sqe* s, int fd) const noexcept { io_uring_prep_fallocate(s, fd, mode, off, len); }
  result<void> fallback(int fd) const noexcept {
    return sys(::fallocate(fd, mode, static_cast<off_t>(off), static_cast<off_t>(len)));
  }
};
struct ftruncate_op {
  std::uint64_t size;
  bool have() const noexcept { return features().ftruncate; }
  void operator()(io_uring_sqe* s, int fd) const noexcept {
    io_uring_prep_rw(detail::op_ftruncate, s, fd, nullptr, 0, size);
  }
  result<void> fallback(int fd) const noexcept { return sys(::ftruncate(fd, static_cast<off_t>(size))); }
};

// prep_fd_install asks for a plain fd of a fixed slot (IORING_OP_FIXED_FD_INSTALL).
struct prep_fd_install {
  int slot;
  void operator()(io_uring_sqe* s) const noexcept {
    io_uring_prep_rw(detail::op_fixed_fd_install, s, slot, nullptr, 0, 0);
    s->flags |= IOSQE_FIXED_FILE;
  }
};

// check_file() validates f for t; sizes that do not fit off_t are EINVAL.
result<void> check_file(const task& t, const file& f, std::uint64_t a = 0, std::uint64_t b = 0) noexcept {
  PRIO_TRY(f.check(t));
  if (a > static_cast<std::uint64_t>(INT64_MAX) || b > static_cast<std::uint64_t>(INT64_MAX))
    return failure(errno_error(EINVAL));
  return success();
}

// on_file_sync() runs op on f for stackful t, after t's write in flight to f.
template <class Op>
result<void> on_file_sync(task& t, file& f, const Op& op) noexcept {
  PRIO_TRY(detail::wait_for_io(t, f.order().in_flight(t)));
  if (op.have()) return detail::to_void(perform(t, detail::on_file(f, op)));
  if (!f.fixed()) return op.fallback(f.index());
  // A fixed file has no fd of ours: borrow one from the ring if it can.
  if (!features().fixed_fd_install) return failure(errno_error(EOPNOTSUPP));
  auto fd = perform(t, prep_fd_install{f.index()});
  if (!fd) return failure(fd.error());
  auto r = op.fallback(*fd);
  ::close(*fd);
  return r;
}

template <class Op>
co<result<void>> on_file_async(task& t, file& f, Op op) noexcept {
  auto prior = co_await detail::io_wait_awaiter(t, f.order().in_flight(t));
  if (!prior) co_return prior;
  if (op.have()) co_return detail::to_void(co_await async_perform(t, detail::on_file(f, op)));
  if (!f.fixed()) co_return op.fallback(f.index());
  if (!features().fixed_fd_install) co_return failure(errno_error(EOPNOTSUPP));
  auto fd = co_await async_perform(t, prep_fd_install{f.index()});
  if (!fd) co_return failure(fd.error());
  auto r = op.fallback(*fd);
  ::close(*fd);
  co_return r;
}

}  // namespace

result<void> fsync(task& t, file& f) noexcept {
  PRIO_TRY(check_file(t, f));
  return on_file_sync(t, f, fsync_op{0});
}
result<void> fdatasync(task& t, file& f) noexcept {
  PRIO_TRY(check_file(t, f));
  return on_file_sync(t, f, fsync_op{IORING_FSYNC_DATASYNC});
}
result<void> sync_file_range(task& t, file& f, std::uint64_t off, std::uint64_t len, unsigned flags) noexcept {
  PRIO_TRY(check_file(t, f, off, len));
  if (len > UINT32_MAX) return failure(errno_error(EINVAL));  // the SQE's len field is 32 bits
  return on_file_sync(t, f, sync_range_op{off, len, flags});
}
result<void> fallocate(task& t, file& f, int mode, std::uint64_t off, std::uint64_t len) noexcept {
  PRIO_TRY(check_file(t, f, off, len));
  return on_file_sync(t, f, fallocate_op{mode, off, len});
}
result<void> ftruncate(task& t, file& f, std::uint64_t size) noexcept {
  PRIO_TRY(check_file(t, f, size));
  return on_file_sync(t, f, ftruncate_op{size});
}

co<result<void>> async_fsync(task& t, file& f) noexcept {
  if (auto c = check_file(t, f); !c) co_return c;
  co_return co_await on_file_async(t, f, fsync_op{0});
}
co<result<void>> async_fdatasync(task& t, file& f) noexcept {
  if (auto c = check_file(t, f); !c) co_return c;
  co_return co_await on_file_async(t, f, fsync_op{IORING_FSYNC_DATASYNC});
}
co<result<void>> async_sync_file_range(task& t, file& f, std::uint64_t off, std::uint64_t len,
                                       unsigned flags) noexcept {
  if (auto c = check_file(t, f, off, len); !c) co_return c;
  if (len > UINT32_MAX) co_return failure(errno_error(EINVAL));
  co_return co_await on_file_async(t, f, sync_range_op{off, len, flags});
}
co<result<void>> async_fallocate(task& t, file& f, int mode, std::uint64_t off, std::uint64_t len) noexcept {
  if (auto c = check_file(t, f, off, len); !c) co_return c;
  co_return co_await on_file_async(t, f, fallocate_op{mode, off, len});
}
co<result<void>> async_ftruncate(task& t, file& f, std::uint64_t size) noexcept {
  if (auto c = check_file(t, f, size); !c) co_return c;
  co_return co_await on_file_async(t, f, ftruncate_op{size});
}

}  // namespace prio
