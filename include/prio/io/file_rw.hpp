// file_rw.hpp: reading and writing files: read, readv, write, writev and
// their registered-buffer forms read_fixed / write_fixed.
//
// Three styles over one implementation per operation:
//   read(t, f, ...)                      stackful: suspends until done
//   co_await async_read(t, f, ...)       coroutine body
//   initiate_read(t, st, f, ...)         many in flight: reap st later with
//   co_await async_initiate_read(...)    t.suspend_until_completed_io()
// Results are byte counts; a short count is reported as it is (read_exact /
// write_all loop). A read at end of file gives 0. Await-one calls retry an
// EAGAIN from the ring (non-blocking fds) after polling the file.
//
// Checked before anything is submitted: f open and owned by t's executor
// (EBADF), a null buffer with a non-zero length (EINVAL), for O_DIRECT files
// buffer address, length and offset aligned (EINVAL), a registered buffer of
// f's executor that is large enough (EINVAL).
//
// Ordering: a write waits for the same task's previous write to f if that
// one is still in flight, so a task's writes land in the order it issued
// them. initiate_write* use st.on_cqe and st.user while st is in flight.
// Each SQE carries the kernel ioprio of t's I/O priority (file_detail.hpp).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

#include "prio/io/file.hpp"
#include "prio/io/registered_buffers.hpp"

namespace prio {

// --- await one, stackful ---------------------------------------------------------
result<std::size_t> read(task& t, file& f, void* buf, std::size_t len, std::uint64_t off) noexcept;
result<std::size_t> readv(task& t, file& f, const iovec* iov, unsigned n, std::uint64_t off) noexcept;
result<std::size_t> write(task& t, file& f, const void* buf, std::size_t len, std::uint64_t off) noexcept;
result<std::size_t> writev(task& t, file& f, const iovec* iov, unsigned n, std::uint64_t off) noexcept;
// read_fixed() reads len bytes at off into b.data; write_fixed() writes
// b.data[0, len). len <= b.size.
result<std::size_t> read_fixed(task& t, file& f, const registered_buffer& b, std::size_t len,
                               std::uint64_t off) noexcept;
result<std::size_t> write_fixed(task& t, file& f, const registered_buffer& b, std::size_t len,
                                std::uint64_t off) noexcept;
// read_exact() reads until len bytes or end of file: fewer than len only at
// EOF. write_all() writes all len bytes (EIO if the kernel makes no progress).
result<std::size_t> read_exact(task& t, file& f, void* buf, std::size_t len, std::uint64_t off) noexcept;
result<std::size_t> write_all(task& t, file& f, const void* buf, std::size_t len, std::uint64_t off) noexcept;

// --- await one, coroutine ---------------------------------------------------------
co<result<std::size_t>> async_read(task& t, file& f, void* buf, std::size_t len, std::uint64_t off) noexcept;
co<result<std::size_t>> async_readv(task& t, file& f, const iovec* iov, unsigned n, std::uint64_t off) noexcept;
co<result<std::size_t>> async_write(task& t, file& f, const void* buf, std::size_t len, std::uint64_t off) noexcept;
co<result<std::size_t>> async_writev(task& t, file& f, const iovec* iov, unsigned n, std::uint64_t off) noexcept;
co<result<std::size_t>> async_read_fixed(task& t, file& f, const registered_buffer& b, std::size_t len,
                                         std::uint64_t off) noexcept;
co<result<std::size_t>> async_write_fixed(task& t, file& f, const registered_buffer& b, std::size_t len,
                                          std::uint64_t off) noexcept;
co<result<std::size_t>> async_read_exact(task& t, file& f, void* buf, std::size_t len, std::uint64_t off) noexcept;
co<result<std::size_t>> async_write_all(task& t, file& f, const void* buf, std::size_t len,
                                        std::uint64_t off) noexcept;

// --- many in flight: st gets the byte count (st.result()) ------------------------
result<void> initiate_read(task& t, io_status& st, file& f, void* buf, std::size_t len, std::uint64_t off) noexcept;
result<void> initiate_readv(task& t, io_status& st, file& f, const iovec* iov, unsigned n,
                            std::uint64_t off) noexcept;
result<void> initiate_write(task& t, io_status& st, file& f, const void* buf, std::size_t len,
                            std::uint64_t off) noexcept;
result<void> initiate_writev(task& t, io_status& st, file& f, const iovec* iov, unsigned n,
                             std::uint64_t off) noexcept;
result<void> initiate_read_fixed(task& t, io_status& st, file& f, const registered_buffer& b, std::size_t len,
                                 std::uint64_t off) noexcept;
result<void> initiate_write_fixed(task& t, io_status& st, file& f, const registered_buffer& b, std::size_t len,
                                  std::uint64_t off) noexcept;
co<result<void>> async_initiate_read(task& t, io_status& st, file& f, void* buf, std::size_t len,
                                     std::uint64_t off) noexcept;
co<result<void>> async_initiate_write(task& t, io_status& st, file& f, const void* buf, std::size_t len,
                                      std::uint64_t off) noexcept;
co<result<void>> async_initiate_read_fixed(task& t, io_status& st, file& f, const registered_buffer& b,
                                           std::size_t len, std::uint64_t off) noexcept;
co<result<void>> async_initiate_write_fixed(task& t, io_status& st, file& f, const registered_buffer& b,
                                            std::size_t len, std::uint64_t off) noexcept;

}  // namespace prio
