// recv_select.cpp: a receive into a kernel-chosen provided buffer, with
// ENOBUFS (every buffer leased) waited out instead of returned.
#include <liburing.h>

#include "io/net/socket_prep.hpp"
#include "prio/io/provided_buffers.hpp"
#include "prio/io/status_wait.hpp"

namespace prio::net {

using namespace detail;

namespace {

struct prep_recv_select {
  socket s;
  unsigned len;
  std::uint16_t group;
  int flags;
  void operator()(io_uring_sqe* sqe) const noexcept {
    io_uring_prep_recv(sqe, 0, nullptr, len, flags);
    target(sqe, s);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = group;
  }
};

// remaining() is what is left of the caller's timeout at this attempt; ETIME
// once it has passed.
result<std::chrono::nanoseconds> remaining(tsc::ticks deadline) noexcept {
  if (deadline == 0) return forever;
  const tsc::ticks now = tsc::now();
  if (now >= deadline) return failure(errno_error(ETIME));
  return tsc::to_duration(deadline - now);
}

// finish() turns a reaped receive into a lease; a buffer the kernel picked
// for a failed receive goes straight back.
result<buffer_lease> finish(io_status& st, provided_buffers& pool) noexcept {
  buffer_lease lease;
  if (st.cqe_flags & IORING_CQE_F_BUFFER) {
    const auto id = static_cast<std::uint16_t>(st.cqe_flags >> IORING_CQE_BUFFER_SHIFT);
    pool.took(id);
    lease = buffer_lease(&pool, id, st.res > 0 ? static_cast<std::size_t>(st.res) : 0);
  }
  auto r = prio::detail::outcome_of(st);
  if (!r) return failure(r.error());  // the lease, if any, is released here
  return lease;
}

constexpr int max_attempts = 1 << 20;  // bounds the loop; each round needs a release or a CQE

// check_args(): s is a socket t may use, and pool's group is in the ring of
// t's executor (a group id names a group of one ring only: on another ring
// the kernel would hand out that ring's buffers, to be read as pool's).
result<void> check_args(const task& t, const socket& s, const provided_buffers& pool) noexcept {
  PRIO_TRY(check_socket(t, s));
  if (&pool.owner() != t.current_executor()) return failure(errno_error(EINVAL));
  return success();
}

}  // namespace

result<buffer_lease> recv_select(task& t, const socket& s, provided_buffers& pool, int flags,
                                 std::chrono::nanoseconds timeout) noexcept {
  PRIO_TRY(check_args(t, s, pool));
  const tsc::ticks deadline = deadline_after(timeout);
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    auto left = remaining(deadline);
    if (!left) return failure(left.error());
    const std::uint64_t releases_before = pool.releases();
    io_status st;
    t.set_awaited_io(&st);
    auto r = initiate(t, st, prep_recv_select{s, pool.buffer_size(), pool.group(), flags}, *left);
    t.set_awaited_io(nullptr);
    if (!r) return failure(r.error());
    PRIO_TRY(wait_status(t, st));
    executor::reap(st);
    auto lease = finish(st, pool);
    if (lease || lease.error() != std::errc::no_buffer_space) return lease;
    // Out of buffers. A release since the receive started may have come
    // after the kernel looked: try again at once; otherwise queue for one.
    if (pool.releases() == releases_before) PRIO_TRY(pool.wait_for_release(t, deadline));
  }
  return failure(errno_error(ENOBUFS));
}

co<result<buffer_lease>> async_recv_select(task& t, const socket& s, provided_buffers& pool, int flags,
                                           std::chrono::nanoseconds timeout) {
  if (auto c = check_args(t, s, pool); !c) co_return failure(c.error());
  const tsc::ticks deadline = deadline_after(timeout);
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    auto left = remaining(deadline);
    if (!left) co_return failure(left.error());
    const std::uint64_t releases_before = pool.releases();
    io_status st;
    t.set_awaited_io(&st);
    auto r = co_await async_initiate(t, st, prep_recv_select{s, pool.buffer_size(), pool.group(), flags}, *left);
    t.set_awaited_io(nullptr);
    if (!r) co_return failure(r.error());
    auto w = co_await status_awaiter(t, st);
    if (!w) co_return failure(w.error());
    executor::reap(st);
    auto lease = finish(st, pool);
    if (lease || lease.error() != std::errc::no_buffer_space) co_return lease;
    if (pool.releases() == releases_before) {
      auto waited = co_await pool.async_wait_for_release(t, deadline);
      if (!waited) co_return failure(waited.error());
    }
  }
  co_return failure(errno_error(ENOBUFS));
}

}  // namespace prio::net
