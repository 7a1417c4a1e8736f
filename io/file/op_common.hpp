// op_common.hpp (private to io/file): SQE preparers shared by the file
// operations, and the ordered / EAGAIN-retrying ways of running them.
#pragma once

#include <liburing.h>
#include <poll.h>

#include "prio/io/file.hpp"

namespace prio::detail {

// prep_rw fills a read/write-family SQE (read, write, readv, writev, the
// fixed-buffer forms) including the kernel ioprio of the task.
struct prep_rw {
  std::uint8_t opcode;
  bool fixed_file;
  int fd;
  const void* addr;
  std::uint32_t len;
  std::uint64_t off;
  std::uint16_t buf_index;
  std::uint16_t ioprio;
  bool async = false;  // IOSQE_ASYNC (detail::test_async_every, tests)
  void operator()(io_uring_sqe* sqe) const noexcept {
    io_uring_prep_rw(opcode, sqe, fd, addr, len, off);
    if (fixed_file) sqe->flags |= IOSQE_FIXED_FILE;
    if (async) sqe->flags |= IOSQE_ASYNC;
    sqe->buf_index = buf_index;
    sqe->ioprio = ioprio;
  }
};

// prep_fd wraps a liburing prep function on a file: it sets IOSQE_FIXED_FILE.
template <class F>
struct prep_fd {
  const file* f;
  F fill;  // fill(sqe, fd)
  void operator()(io_uring_sqe* sqe) const noexcept {
    fill(sqe, f->index());
    if (f->fixed()) sqe->flags |= IOSQE_FIXED_FILE;
  }
};
template <class F>
prep_fd<F> on_file(const file& f, F fill) noexcept {
  return {&f, fill};
}

inline bool is_errno(const std::error_code& e, int v) noexcept {
  return e.category() == std::system_category() && e.value() == v;
}

inline constexpr int eagain_retries = 64;

// perform_retrying() runs p for stackful t; an EAGAIN (a non-blocking fd)
// is retried after a POLL_ADD for `events` says the file is ready.
template <class Prep>
result<std::int32_t> perform_retrying(task& t, const file& f, const Prep& p, unsigned events) noexcept {
  for (int i = 0;; ++i) {
    auto r = perform(t, p);
    if (r || !is_errno(r.error(), EAGAIN) || i == eagain_retries) return r;
    auto polled = perform(t, on_file(f, [events](io_uring_sqe* s, int fd) { io_uring_prep_poll_add(s, fd, events); }));
    if (!polled) return polled;
  }
}

template <class Prep>
co<result<std::int32_t>> async_perform_retrying(task& t, const file& f, Prep p, unsigned events) noexcept {
  for (int i = 0;; ++i) {
    auto r = co_await async_perform(t, p);
    if (r || !is_errno(r.error(), EAGAIN) || i == eagain_retries) co_return r;
    auto polled = co_await async_perform(
        t, on_file(f, [events](io_uring_sqe* s, int fd) { io_uring_prep_poll_add(s, fd, events); }));
    if (!polled) co_return polled;
  }
}

// to_void() drops a byte count.
inline result<void> to_void(const result<std::int32_t>& r) noexcept {
  if (!r) return failure(r.error());
  return success();
}

}  // namespace prio::detail
