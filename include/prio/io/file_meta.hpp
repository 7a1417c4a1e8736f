// file_meta.hpp: syncing, sizing and naming files: fsync (durable),
// fdatasync, sync_file_range, fallocate, ftruncate, statx, unlinkat,
// renameat, mkdirat. Stackful calls and coroutine (async_) forms; all go
// through perform/async_perform. Where the kernel lacks an opcode (probed
// once) the operation falls back to the plain syscall, documented per call.
//
// Operations on a file first wait for the task's write to it still in
// flight, so a sync covers every write the task issued before it. Paths and
// statx buffers must stay valid until the call returns (they do: the caller
// is suspended meanwhile). Bound thread of t's executor, inside t.
#pragma once

#include <sys/stat.h>

#include <cstdint>

#include "prio/io/file.hpp"

namespace prio {

// fsync() makes f's data and metadata durable; fdatasync() its data (and
// the metadata needed to read it back).
result<void> fsync(task& t, file& f) noexcept;
result<void> fdatasync(task& t, file& f) noexcept;
// sync_file_range() starts/waits writeback of [off, off+len) with
// SYNC_FILE_RANGE_* flags (not durable: no metadata, no disk cache flush).
result<void> sync_file_range(task& t, file& f, std::uint64_t off, std::uint64_t len, unsigned flags) noexcept;
// fallocate() with mode FALLOC_FL_* (0: allocate and extend).
result<void> fallocate(task& t, file& f, int mode, std::uint64_t off, std::uint64_t len) noexcept;
// ftruncate() sets f's size. IORING_OP_FTRUNCATE needs kernel 6.9; before,
// it uses ftruncate(2) on a plain fd, or on one installed from the fixed
// slot with IORING_OP_FIXED_FD_INSTALL (6.8); else EOPNOTSUPP.
result<void> ftruncate(task& t, file& f, std::uint64_t size) noexcept;
// statx() of path relative to dir (flags AT_*, mask STATX_*).
result<struct statx> statx(task& t, int dir, const char* path, int flags, unsigned mask) noexcept;
result<void> unlinkat(task& t, int dir, const char* path, int flags) noexcept;
result<void> renameat(task& t, int old_dir, const char* old_path, int new_dir, const char* new_path,
                      unsigned flags = 0) noexcept;
result<void> mkdirat(task& t, int dir, const char* path, mode_t mode) noexcept;

co<result<void>> async_fsync(task& t, file& f) noexcept;
co<result<void>> async_fdatasync(task& t, file& f) noexcept;
co<result<void>> async_sync_file_range(task& t, file& f, std::uint64_t off, std::uint64_t len,
                                       unsigned flags) noexcept;
co<result<void>> async_fallocate(task& t, file& f, int mode, std::uint64_t off, std::uint64_t len) noexcept;
co<result<void>> async_ftruncate(task& t, file& f, std::uint64_t size) noexcept;
co<result<struct statx>> async_statx(task& t, int dir, const char* path, int flags, unsigned mask) noexcept;
co<result<void>> async_unlinkat(task& t, int dir, const char* path, int flags) noexcept;
co<result<void>> async_renameat(task& t, int old_dir, const char* old_path, int new_dir, const char* new_path,
                                unsigned flags = 0) noexcept;
co<result<void>> async_mkdirat(task& t, int dir, const char* path, mode_t mode) noexcept;

}  // namespace prio
