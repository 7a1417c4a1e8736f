// close_now.cpp: synchronous release of an fd or a fixed-file slot.
#include "io/close_now.hpp"

#include <liburing.h>
#include <unistd.h>

#include <cerrno>

namespace prio::detail {

result<void> close_now(executor& ex, int fd, bool fixed) noexcept {
  if (fd < 0) return failure(errno_error(EBADF));
  if (!fixed) return ::close(fd) == 0 ? success() : result<void>(failure(errno_error(errno)));
  if (!ex.ring()) return failure(errno_error(EBADF));  // a compute-only executor has no table
  int empty = -1;
  const int r = io_uring_register_files_update(ex.ring(), static_cast<unsigned>(fd), &empty, 1);
  return r < 0 ? result<void>(failure(errno_error(-r))) : success();
}

result<void> closed(executor& ex, const result<std::int32_t>& r, int fd, bool fixed) noexcept {
  if (r) return success();
  if (r.error() == std::errc::operation_canceled) return close_now(ex, fd, fixed);
  return failure(r.error());
}

}  // namespace prio::detail
