// executor_inl.hpp: the inline part of the executor's I/O mechanism.
#pragma once

#include <liburing.h>

#include <cerrno>
#include <cstring>

namespace prio {

template <class Prep>
result<executor::admission> executor::try_initiate(task& t, io_status& st, Prep&& prep,
                                                   std::chrono::nanoseconds timeout) noexcept {
  if (t.cancel_requested_) return failure(errno_error(ECANCELED));
  if (!ring_) return failure(errno_error(EOPNOTSUPP));
  if (st.state == io_state::in_flight || st.state == io_state::waiting_slot)
    return failure(errno_error(EBUSY));
  const unsigned need = timeout == forever ? 1 : 2;
  if (io_uring_sqe* sqe = acquire_sqes(t.io_, need)) {
    prep(sqe);
    commit(t, st, sqe, timeout);
    return admission::submitted;
  }
  auto* copy = reinterpret_cast<io_uring_sqe*>(t.deferred_sqe_);
  std::memset(copy, 0, sizeof(*copy));
  prep(copy);
  queue_for_slot(t, st, timeout);
  return admission::queued;
}

}  // namespace prio
