// file_rw.cpp: read/write-family operations: validation before anything is
// submitted, the SQE, write ordering and the EAGAIN retry.
#include "prio/io/file_rw.hpp"

#include <climits>
#include <cstdint>

#include "io/file/op_common.hpp"

namespace prio {

using detail::prep_rw;

namespace {

constexpr std::size_t max_rw = 0x7ffff000;  // the kernel's MAX_RW_COUNT: longer is short
constexpr std::uint64_t max_off = static_cast<std::uint64_t>(INT64_MAX);  // -1 means "file position"

// Every function from here to start() is inlined into each initiate_* and
// read/write: the hot path is one function without copies of the prep.

// misaligned(): x is not a multiple of a (STATX_DIOALIGN's alignments are
// powers of two: a mask, not a 40-cycle division, on the hot path). The
// power-of-two test is spelled out: std::has_single_bit() is a call into
// libgcc's __popcountdi2 on baseline x86-64 (no POPCNT), twice per read.
[[gnu::always_inline]] inline bool misaligned(std::uint64_t x, std::uint32_t a) noexcept {
  if (a != 0 && (a & (a - 1)) == 0) [[likely]]
    return (x & (a - 1)) != 0;
  return x % a != 0;
}

[[gnu::always_inline]] inline result<void> check_dio(const file& f, const void* addr, std::size_t len,
                                                     std::uint64_t off) noexcept {
  if (!f.direct_io()) return success();
  if (misaligned(reinterpret_cast<std::uintptr_t>(addr), f.dio_mem_align()) ||
      misaligned(len, f.dio_offset_align()) || misaligned(off, f.dio_offset_align()))
    return failure(errno_error(EINVAL));
  return success();
}

[[gnu::always_inline]] inline prep_rw make_prep(const task& t, file& f, std::uint8_t op, const void* addr,
                                                std::size_t len, std::uint64_t off,
                                                std::uint16_t buf_index = 0) noexcept {
  return prep_rw{op, f.fixed(), f.index(), addr, static_cast<std::uint32_t>(len), off, buf_index,
                 detail::kernel_ioprio(t.io_priority()), f.punt_to_async()};
}

[[gnu::always_inline]] inline result<prep_rw> rw(const task& t, file& f, std::uint8_t op, const void* buf,
                                                 std::size_t len, std::uint64_t off) noexcept {
  PRIO_TRY(f.check(t));
  if ((buf == nullptr && len != 0) || off > max_off) return failure(errno_error(EINVAL));
  PRIO_TRY(check_dio(f, buf, len, off));
  return make_prep(t, f, op, buf, len < max_rw ? len : max_rw, off);
}

result<prep_rw> rwv(const task& t, file& f, std::uint8_t op, const iovec* iov, unsigned n,
                    std::uint64_t off) noexcept {
  PRIO_TRY(f.check(t));
  if ((iov == nullptr && n != 0) || n > IOV_MAX || off > max_off) return failure(errno_error(EINVAL));
  for (unsigned i = 0; i < n; ++i) {
    if (iov[i].iov_base == nullptr && iov[i].iov_len != 0) return failure(errno_error(EINVAL));
    PRIO_TRY(check_dio(f, iov[i].iov_base, iov[i].iov_len, off));
  }
  return make_prep(t, f, op, iov, n, off);
}

result<prep_rw> rw_fixed(const task& t, file& f, std::uint8_t op, const registered_buffer& b,
                         std::size_t len, std::uint64_t off) noexcept {
  PRIO_TRY(f.check(t));
  if (!b || b.pool == nullptr || &b.pool->owner() != f.owner() || len > b.size || off > max_off)
    return failure(errno_error(EINVAL));
  PRIO_TRY(check_dio(f, b.data, len, off));
  return make_prep(t, f, op, b.data, len, off, b.index);
}

result<std::size_t> to_size(const result<std::int32_t>& r) noexcept {
  if (!r) return failure(r.error());
  return static_cast<std::size_t>(*r);
}

[[gnu::always_inline]] inline bool is_write(const prep_rw& p) noexcept {
  return p.opcode == IORING_OP_WRITE || p.opcode == IORING_OP_WRITEV || p.opcode == IORING_OP_WRITE_FIXED;
}

// run() performs p to completion (stackful); a write waits first for the
// task's previous write to f.
result<std::size_t> run(task& t, file& f, const result<prep_rw>& p) noexcept {
  if (!p) return failure(p.error());
  const bool w = is_write(*p);
  if (w) PRIO_TRY(detail::wait_for_io(t, f.order().in_flight(t)));
  return to_size(detail::perform_retrying(t, f, *p, w ? POLLOUT : POLLIN));
}

co<result<std::size_t>> async_run(task& t, file& f, result<prep_rw> p) noexcept {
  if (!p) co_return failure(p.error());
  const bool w = is_write(*p);
  if (w) {
    auto prior = co_await detail::io_wait_awaiter(t, f.order().in_flight(t));
    if (!prior) co_return failure(prior.error());
  }
  co_return to_size(co_await detail::async_perform_retrying(t, f, *p, w ? POLLOUT : POLLIN));
}

// start() initiates p into st (stackful); a write is tracked so the task's
// next write to f waits for it.
[[gnu::always_inline]] inline result<void> start(task& t, io_status& st, file& f, const result<prep_rw>& p) noexcept {
  if (!p) return failure(p.error());
  if (!is_write(*p)) return initiate_inline(t, st, *p);  // (its admission refuses a busy st: EBUSY)
  if (st.state == io_state::in_flight || st.state == io_state::waiting_slot) return failure(errno_error(EBUSY));
  PRIO_TRY(detail::wait_for_io(t, f.order().in_flight(t)));
  f.order().track(t, st);
  auto r = initiate(t, st, *p);
  if (!r) f.order().untrack(st);
  return r;
}

co<result<void>> async_start(task& t, io_status& st, file& f, result<prep_rw> p) noexcept {
  if (!p) co_return failure(p.error());
  if (st.state == io_state::in_flight || st.state == io_state::waiting_slot)
    co_return failure(errno_error(EBUSY));
  if (!is_write(*p)) co_return co_await async_initiate(t, st, *p);
  auto prior = co_await detail::io_wait_awaiter(t, f.order().in_flight(t));
  if (!prior) co_return prior;
  f.order().track(t, st);
  auto r = co_await async_initiate(t, st, *p);
  if (!r) f.order().untrack(st);
  co_return r;
}

}  // namespace

// --- await one, stackful --------------------------------------------------------------
result<std::size_t> read(task& t, file& f, void* buf, std::size_t len, std::uint64_t off) noexcept {
  return run(t, f, rw(t, f, IORING_OP_READ, buf, len, off));
}
result<std::size_t> readv(task& t, file& f, const iovec* iov, unsigned n, std::uint64_t off) noexcept {
  return run(t, f, rwv(t, f, IORING_OP_READV, iov, n, off));
}
result<std::size_t> write(task& t, file& f, const void* buf, std::size_t len, std::uint64_t off) noexcept {
  return run(t, f, rw(t, f, IORING_OP_WRITE, buf, len, off));
}
result<std::size_t> writev(task& t, file& f, const iovec* iov, unsigned n, std::uint64_t off) noexcept {
  return run(t, f, rwv(t, f, IORING_OP_WRITEV, iov, n, off));
}
result<std::size_t> read_fixed(task& t, file& f, const registered_buffer& b, std::size_t len,
                               std::uint64_t off) noexcept {
  return run(t, f, rw_fixed(t, f, IORING_OP_READ_FIXED, b, len, off));
}
result<std::size_t> write_fixed(task& t, file& f, const registered_buffer& b, std::size_t len,
                                std::uint64_t off) noexcept {
  return run(t, f, rw_fixed(t, f, IORING_OP_WRITE_FIXED, b, len, off));
}

result<std::size_t> read_exact(task& t, file& f, void* buf, std::size_t len, std::uint64_t off) noexcept {
  auto* p = static_cast<std::byte*>(buf);
  std::size_t done = 0;
  while (done < len) {
    auto r = read(t, f, p + done, len - done, off + done);
    if (!r) return r;
    if (*r == 0) break;  // end of file
    done += *r;
  }
  return done;
}

result<std::size_t> write_all(task& t, file& f, const void* buf, std::size_t len, std::uint64_t off) noexcept {
  const auto* p = static_cast<const std::byte*>(buf);
  std::size_t done = 0;
  while (done < len) {
    auto r = write(t, f, p + done, len - done, off + done);
    if (!r) return r;
    if (*r == 0) return failure(errno_error(EIO));  // no progress: never spin
    done += *r;
  }
  return done;
}

// --- await one, coroutine --------------------------------------------------------------
co<result<std::size_t>> async_read(task& t, file& f, void* buf, std::size_t len, std::uint64_t off) noexcept {
  return async_run(t, f, rw(t, f, IORING_OP_READ, buf, len, off));
}
co<result<std::size_t>> async_readv(task& t, file& f, const iovec* iov, unsigned n, std::uint64_t off) noexcept {
  return async_run(t, f, rwv(t, f, IORING_OP_READV, iov, n, off));
}
co<result<std::size_t>> async_write(task& t, file& f, const void* buf, std::size_t len, std::uint64_t off) noexcept {
  return async_run(t, f, rw(t, f, IORING_OP_WRITE, buf, len, off));
}
co<result<std::size_t>> async_writev(task& t, file& f, const iovec* iov, unsigned n, std::uint64_t off) noexcept {
  return async_run(t, f, rwv(t, f, IORING_OP_WRITEV, iov, n, off));
}
co<result<std::size_t>> async_read_fixed(task& t, file& f, const registered_buffer& b, std::size_t len,
                                         std::uint64_t off) noexcept {
  return async_run(t, f, rw_fixed(t, f, IORING_OP_READ_FIXED, b, len, off));
}
co<result<std::size_t>> async_write_fixed(task& t, file& f, const registered_buffer& b, std::size_t len,
                                          std::uint64_t off) noexcept {
  return async_run(t, f, rw_fixed(t, f, IORING_OP_WRITE_FIXED, b, len, off));
}

co<result<std::size_t>> async_read_exact(task& t, file& f, void* buf, std::size_t len, std::uint64_t off) noexcept {
  auto* p = static_cast<std::byte*>(buf);
  std::size_t done = 0;
  while (done < len) {
    auto r = co_await async_read(t, f, p + done, len - done, off + done);
    if (!r) co_return r;
    if (*r == 0) break;
    done += *r;
  }
  co_return done;
}

co<result<std::size_t>> async_write_all(task& t, file& f, const void* buf, std::size_t len,
                                        std::uint64_t off) noexcept {
  const auto* p = static_cast<const std::byte*>(buf);
  std::size_t done = 0;
  while (done < len) {
    auto r = co_await async_write(t, f, p + done, len - done, off + done);
    if (!r) co_return r;
    if (*r == 0) co_return failure(errno_error(EIO));
    done += *r;
  }
  co_return done;
}

// --- many in flight ----------------------------------------------------------------------
result<void> initiate_read(task& t, io_status& st, file& f, void* buf, std::size_t len, std::uint64_t off) noexcept {
  return start(t, st, f, rw(t, f, IORING_OP_READ, buf, len, off));
}
result<void> initiate_readv(task& t, io_status& st, file& f, const iovec* iov, unsigned n,
                            std::uint64_t off) noexcept {
  return start(t, st, f, rwv(t, f, IORING_OP_READV, iov, n, off));
}
result<void> initiate_write(task& t, io_status& st, file& f, const void* buf, std::size_t len,
                            std::uint64_t off) noexcept {
  return start(t, st, f, rw(t, f, IORING_OP_WRITE, buf, len, off));
}
result<void> initiate_writev(task& t, io_status& st, file& f, const iovec* iov, unsigned n,
                             std::uint64_t off) noexcept {
  return start(t, st, f, rwv(t, f, IORING_OP_WRITEV, iov, n, off));
}
result<void> initiate_read_fixed(task& t, io_status& st, file& f, const registered_buffer& b, std::size_t len,
                                 std::uint64_t off) noexcept {
  return start(t, st, f, rw_fixed(t, f, IORING_OP_READ_FIXED, b, len, off));
}
result<void> initiate_write_fixed(task& t, io_status& st, file& f, const registered_buffer& b, std::size_t len,
                                  std::uint64_t off) noexcept {
  return start(t, st, f, rw_fixed(t, f, IORING_OP_WRITE_FIXED, b, len, off));
}
co<result<void>> async_initiate_read(task& t, io_status& st, file& f, void* buf, std::size_t len,
                                     std::uint64_t off) noexcept {
  return async_start(t, st, f, rw(t, f, IORING_OP_READ, buf, len, off));
}
co<result<void>> async_initiate_write(task& t, io_status& st, file& f, const void* buf, std::size_t len,
                                      std::uint64_t off) noexcept {
  return async_start(t, st, f, rw(t, f, IORING_OP_WRITE, buf, len, off));
}
co<result<void>> async_initiate_read_fixed(task& t, io_status& st, file& f, const registered_buffer& b,
                                           std::size_t len, std::uint64_t off) noexcept {
  return async_start(t, st, f, rw_fixed(t, f, IORING_OP_READ_FIXED, b, len, off));
}
co<result<void>> async_initiate_write_fixed(task& t, io_status& st, file& f, const registered_buffer& b,
                                            std::size_t len, std::uint64_t off) noexcept {
  return async_start(t, st, f, rw_fixed(t, f, IORING_OP_WRITE_FIXED, b, len, off));
}

}  // namespace prio
