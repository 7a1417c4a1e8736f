// file.cpp: the file handle, opening (openat2 into the fixed-file table),
// adopting an fd and closing.
#include "prio/io/file.hpp"

#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

#include "io/close_now.hpp"
#include "io/file/op_common.hpp"

#ifndef STATX_DIOALIGN
#define STATX_DIOALIGN 0x00002000U
#endif

namespace prio {

using detail::features;

file::file(file&& o) noexcept { *this = std::move(o); }

file& file::operator=(file&& o) noexcept {
  if (this != &o) {
    release();
    ex_ = o.ex_;
    fd_ = std::exchange(o.fd_, -1);
    fixed_ = o.fixed_;
    flags_ = o.flags_;
    dio_mem_align_ = o.dio_mem_align_;
    dio_offset_align_ = o.dio_offset_align_;
    async_every_ = o.async_every_;
    async_n_ = o.async_n_;
    order_ = std::move(o.order_);
  }
  return *this;
}

file::~file() { release(); }

void file::release() noexcept {
  if (fd_ < 0) return;
  if (fixed_ && !ex_->on_bound_thread())  // (an open file always has ex_: make())
    std::fprintf(stderr, "prio: file in fixed slot %d destroyed off its executor's thread; slot leaked\n", fd_);
  else
    (void)detail::close_now(*ex_, fd_, fixed_);
  fd_ = -1;
}

result<file> file::make(executor& ex, int fd, bool fixed, int flags) {
  file f;
  f.order_.reset(new (std::nothrow) detail::write_order());
  if (!f.order_) return failure(errno_error(ENOMEM));
  f.ex_ = &ex;
  f.fd_ = fd;
  f.fixed_ = fixed;
  f.flags_ = flags;
  f.async_every_ = detail::test_async_every;
  return f;
}

namespace {

// direct_prep fills an openat2 SQE that opens into a free fixed slot.
struct prep_openat2 {
  int dir;
  const char* path;
  open_how* how;
  bool direct;
  void operator()(io_uring_sqe* sqe) const noexcept {
    io_uring_prep_openat2(sqe, dir, path, how);
    if (direct) sqe->file_index = IORING_FILE_INDEX_ALLOC;
  }
};

// dio_align() is the O_DIRECT alignment of path (STATX_DIOALIGN), with 4096
// where the filesystem does not say.
void set_dio_align(file& f, int dir, const char* path, int at_flags) noexcept {
  struct statx sx {};
  std::uint32_t mem = 0, off = 0;
  if (::statx(dir, path, at_flags, STATX_DIOALIGN, &sx) == 0 && (sx.stx_mask & STATX_DIOALIGN)) {
    mem = sx.stx_dio_mem_align;
    off = sx.stx_dio_offset_align;
  }
  f.set_dio_align(mem ? mem : 4096, off ? off : 4096);
}

result<file> finish_open(task& t, int dir, const char* path, const open_how& how, result<std::int32_t> r,
                         bool direct) noexcept {
  if (!r) return failure(r.error());
  auto f = file::make(*t.current_executor(), *r, direct, static_cast<int>(how.flags));
  if (!f) return f;
  if (f->direct_io()) set_dio_align(*f, dir, path, 0);
  return f;
}

result<std::int32_t> open_fallback(int dir, const char* path, open_how how) noexcept {
  long fd = ::syscall(SYS_openat2, dir, path, &how, sizeof(how));
  if (fd < 0) return failure(errno_error(errno));
  return static_cast<std::int32_t>(fd);
}

bool open_direct(executor& ex) noexcept { return ex.fixed_file_slots() > 0 && features().openat2; }

}  // namespace

result<file> open_file(task& t, int dir, const char* path, const open_how& how_in) noexcept {
  executor* ex = t.current_executor();
  if (!path || !ex) return failure(errno_error(EINVAL));
  open_how how = how_in;
  const bool direct = open_direct(*ex);
  if (direct) how.flags &= ~static_cast<std::uint64_t>(O_CLOEXEC);  // fixed slots have none
  auto r = features().openat2 ? perform(t, prep_openat2{dir, path, &how, direct}) : open_fallback(dir, path, how);
  return finish_open(t, dir, path, how, r, direct);
}

co<result<file>> async_open_file(task& t, int dir, const char* path, open_how how) noexcept {
  executor* ex = t.current_executor();
  if (!path || !ex) co_return failure(errno_error(EINVAL));
  const bool direct = open_direct(*ex);
  if (direct) how.flags &= ~static_cast<std::uint64_t>(O_CLOEXEC);
  result<std::int32_t> r = features().openat2 ? co_await async_perform(t, prep_openat2{dir, path, &how, direct})
                                              : open_fallback(dir, path, how);
  co_return finish_open(t, dir, path, how, r, direct);
}

namespace {
struct prep_install {
  int* fd;
  void operator()(io_uring_sqe* sqe) const noexcept {
    io_uring_prep_files_update(sqe, fd, 1, static_cast<int>(IORING_FILE_INDEX_ALLOC));
  }
};

// adopt_finish() turns an installed slot (or, without a table, fd itself)
// into a file; the original fd is closed once the table holds the file.
result<file> adopt_finish(task& t, int fd, int flags, int slot, bool fixed) noexcept {
  auto f = file::make(*t.current_executor(), fixed ? slot : fd, fixed, flags);
  if (!f) return f;
  if (f->direct_io()) set_dio_align(*f, fd, "", AT_EMPTY_PATH);
  if (fixed) ::close(fd);
  return f;
}
}  // namespace

result<file> adopt_fd(task& t, int fd) noexcept {
  executor* ex = t.current_executor();
  if (!ex) return failure(errno_error(EINVAL));
  const int flags = fd < 0 ? -1 : ::fcntl(fd, F_GETFL);
  if (flags < 0) return failure(errno_error(EBADF));
  if (ex->fixed_file_slots() == 0 || !features().files_update) return adopt_finish(t, fd, flags, -1, false);
  int slot = fd;  // the kernel writes the allocated slot back here
  auto r = perform(t, prep_install{&slot});
  if (!r) return failure(r.error());
  return adopt_finish(t, fd, flags, slot, true);
}

co<result<file>> async_adopt_fd(task& t, int fd) noexcept {
  executor* ex = t.current_executor();
  if (!ex) co_return failure(errno_error(EINVAL));
  const int flags = fd < 0 ? -1 : ::fcntl(fd, F_GETFL);
  if (flags < 0) co_return failure(errno_error(EBADF));
  if (ex->fixed_file_slots() == 0 || !features().files_update) co_return adopt_finish(t, fd, flags, -1, false);
  int slot = fd;
  auto r = co_await async_perform(t, prep_install{&slot});
  if (!r) co_return failure(r.error());
  co_return adopt_finish(t, fd, flags, slot, true);
}

namespace {
struct prep_close {
  int fd;
  bool fixed;
  void operator()(io_uring_sqe* sqe) const noexcept {
    if (fixed)
      io_uring_prep_close_direct(sqe, static_cast<unsigned>(fd));
    else
      io_uring_prep_close(sqe, fd);
  }
};
}  // namespace

// close_file(): t's write still in flight on f is waited for first, in a
// cancelled task too (the executor is cancelling it then, so the wait is
// short): its completion uses f's write order. The close itself happens
// even in a cancelled task (io/close_now.hpp).
result<void> close_file(task& t, file& f) noexcept {
  PRIO_TRY(f.check(t));
  if (io_status* w = f.order().in_flight(t)) PRIO_TRY(wait_io(t, *w));
  const int fd = f.index();
  const bool fixed = f.fixed();
  f.forget();  // closed whatever the kernel says, as with close(2)
  executor& ex = *t.current_executor();
  if (!features().close) return detail::close_now(ex, fd, fixed);
  return detail::closed(ex, perform(t, prep_close{fd, fixed}), fd, fixed);
}

co<result<void>> async_close_file(task& t, file& f) noexcept {
  if (auto c = f.check(t); !c) co_return c;
  if (io_status* w = f.order().in_flight(t))
    if (auto r = co_await wait_io_awaiter(t, *w); !r) co_return r;
  const int fd = f.index();
  const bool fixed = f.fixed();
  f.forget();
  executor& ex = *t.current_executor();
  if (!features().close) co_return detail::close_now(ex, fd, fixed);
  co_return detail::closed(ex, co_await async_perform(t, prep_close{fd, fixed}), fd, fixed);
}

}  // namespace prio
