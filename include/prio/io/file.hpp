// file.hpp: a file handle living in an executor ring's fixed-file table, and
// opening, adopting and closing it.
//
// A file is move-only and belongs to the executor whose task opened it: its
// slot means nothing on another ring. Operations on it (file_rw.hpp,
// file_meta.hpp) set IOSQE_FIXED_FILE. Where the executor has no fixed-file
// table (or the kernel cannot open directly into one) the file holds a plain
// fd instead, and everything else works the same.
//
// Every operation has a stackful form (a call that suspends the task) and a
// coroutine form (async_..., co_await it); both go through the executor's
// perform/initiate mechanism (executors/io_op.hpp).
#pragma once

#include <fcntl.h>
#include <linux/openat2.h>

#include <cstdint>
#include <memory>

#include "prio/context/coro.hpp"
#include "prio/executors/io_op.hpp"
#include "prio/io/file_detail.hpp"

namespace prio {

class file {
 public:
  file() noexcept = default;
  file(file&& o) noexcept;
  file& operator=(file&& o) noexcept;
  file(const file&) = delete;
  file& operator=(const file&) = delete;
  // ~file() releases a file still open: its fixed slot is emptied with a
  // synchronous register call (or its fd closed). Bound thread of its
  // executor, after every operation on it has completed; prefer close().
  ~file();

  bool is_open() const noexcept { return fd_ >= 0; }
  // fixed() says whether index() is a fixed-file slot (else a plain fd).
  bool fixed() const noexcept { return fixed_; }
  int index() const noexcept { return fd_; }
  bool direct_io() const noexcept { return (flags_ & O_DIRECT) != 0; }
  int open_flags() const noexcept { return flags_; }
  executor* owner() const noexcept { return ex_; }
  // O_DIRECT alignment of buffer addresses and of offsets/lengths (bytes).
  std::uint32_t dio_mem_align() const noexcept { return dio_mem_align_; }
  std::uint32_t dio_offset_align() const noexcept { return dio_offset_align_; }

  // Internal: used by the operations.
  detail::write_order& order() noexcept { return *order_; }
  // check() is success when t may operate on this file: open (else EBADF),
  // and t runs on the executor that owns it (else errc::foreign_handle,
  // whose condition is EBADF: its slot and write order live there).
  result<void> check(const task& t) const noexcept {
    if (fd_ < 0 || t.current_executor() != ex_) [[unlikely]]
      return fd_ < 0 ? failure(errno_error(EBADF)) : failure(errc::foreign_handle);
    return success();
  }
  static result<file> make(executor& ex, int fd, bool fixed, int flags);
  void set_dio_align(std::uint32_t mem, std::uint32_t off) noexcept {
    dio_mem_align_ = mem;
    dio_offset_align_ = off;
  }
  void forget() noexcept { fd_ = -1; }
  // punt_to_async(): whether this read/write SQE gets IOSQE_ASYNC (tests
  // only: detail::test_async_every as it was when the file was opened, kept
  // here so the hot path reads no global).
  bool punt_to_async() noexcept {
    if (async_every_ == 0) [[likely]]
      return false;
    return ++async_n_ % async_every_ == 0;
  }

 private:
  void release() noexcept;

  executor* ex_ = nullptr;
  int fd_ = -1;
  bool fixed_ = false;
  int flags_ = 0;
  std::uint32_t dio_mem_align_ = 0, dio_offset_align_ = 0;
  std::uint32_t async_every_ = 0, async_n_ = 0;  // punt_to_async()
  std::unique_ptr<detail::write_order> order_;
};

// open_file() opens path relative to directory fd dir (AT_FDCWD: the working
// directory) with openat2(how) straight into the fixed-file table
// (IORING_FILE_INDEX_ALLOC). Errors: the kernel's; EINVAL for a null path;
// ENFILE when the table is full. Stackful task t on its executor's thread.
result<file> open_file(task& t, int dir, const char* path, const open_how& how) noexcept;
co<result<file>> async_open_file(task& t, int dir, const char* path, open_how how) noexcept;
// open_how_of() is an open_how for flags and mode with O_CLOEXEC dropped
// (fixed files have no close-on-exec).
inline open_how open_how_of(std::uint64_t flags, std::uint64_t mode = 0, std::uint64_t resolve = 0) noexcept {
  open_how h{};
  h.flags = flags;
  h.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  h.resolve = resolve;
  return h;
}

// adopt_fd() moves an open fd into the fixed-file table (IORING_OP_FILES_UPDATE
// with IORING_FILE_INDEX_ALLOC) and closes fd: the file owns it from then on.
// On error fd is left open and untouched. Stackful task t.
result<file> adopt_fd(task& t, int fd) noexcept;
co<result<file>> async_adopt_fd(task& t, int fd) noexcept;

// close_file() closes f (its slot is emptied, or its fd closed) and leaves
// it not open. EBADF if f is not open. Waits for t's write still in flight
// on f first. In a cancelled task too: that write is being cancelled then,
// and the close, refused by the ring, is done synchronously.
result<void> close_file(task& t, file& f) noexcept;
co<result<void>> async_close_file(task& t, file& f) noexcept;

}  // namespace prio
