// socket_prep.hpp: SQE preparation and argument checks shared by the
// stackful and coroutine forms of the socket operations (private to io/net).
//
// Each prep is a small callable filling one SQE for perform()/initiate();
// a check returns the error an operation gives before submitting anything.
#pragma once

#include <liburing.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>

#include "prio/io/socket.hpp"
#include "prio_build_config.h"

namespace prio::net::detail {

// Opcodes newer than liburing 2.3's header (values from the kernel's uapi).
inline constexpr std::uint8_t op_fixed_fd_install = 54;

// target() points the SQE at the socket: the fixed slot when it has one.
inline void target(io_uring_sqe* sqe, const socket& s) noexcept {
  if (s.slot >= 0) {
    sqe->fd = s.slot;
    sqe->flags |= IOSQE_FIXED_FILE;
  } else {
    sqe->fd = s.fd;
  }
}

// check_socket(): s is a handle task t may use (see socket::owner).
inline result<void> check_socket(const task& t, const socket& s) noexcept {
  if (!s.valid()) [[unlikely]]
    return failure(errno_error(EBADF));
  if (s.slot >= 0 && s.owner && s.owner != t.current_executor()) [[unlikely]]
    return failure(errc::foreign_handle);
  return success();
}

inline result<void> check_buffer(const void* p, std::size_t n) noexcept {
  if (p == nullptr && n != 0) return failure(errno_error(EINVAL));
  return success();
}

// io_len() clamps a length to what one CQE can report.
inline unsigned io_len(std::size_t n) noexcept {
  return n > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<unsigned>(n);
}

struct prep_socket {
  int domain, type, protocol;
  bool direct;
  void operator()(io_uring_sqe* sqe) const noexcept {
    if (direct)
      io_uring_prep_socket_direct_alloc(sqe, domain, type, protocol, 0);
    else
      io_uring_prep_socket(sqe, domain, type | SOCK_CLOEXEC, protocol, 0);
  }
};

// prep_files_update: put fds[0] in a slot the kernel allocates; it writes
// the slot index back into fds[0].
struct prep_files_update {
  int* fds;
  void operator()(io_uring_sqe* sqe) const noexcept {
    io_uring_prep_files_update(sqe, fds, 1, IORING_FILE_INDEX_ALLOC);
  }
};

struct prep_fixed_fd_install {
  int slot;
  void operator()(io_uring_sqe* sqe) const noexcept {
    io_uring_prep_rw(op_fixed_fd_install, sqe, slot, nullptr, 0, 0);
    sqe->flags |= IOSQE_FIXED_FILE;
    sqe->rw_flags = 0;  // install_fd_flags: 0 keeps O_CLOEXEC on the new fd
  }
};

struct prep_accept {
  socket listener;
  sockaddr* addr;
  socklen_t* addrlen;
  bool direct;
  void operator()(io_uring_sqe* sqe) const noexcept {
    io_uring_prep_accept(sqe, 0, addr, addrlen, direct ? 0 : SOCK_CLOEXEC);
    target(sqe, listener);
    // liburing 2.3's accept_direct turns IORING_FILE_INDEX_ALLOC into 0
    // (off by one), so the allocating target is set here as its multishot
    // form does.
    if (direct) __io_uring_set_target_fixed_file(sqe, IORING_FILE_INDEX_ALLOC - 1);
  }
};

struct prep_connect {
  socket s;
  const address* a;
  void operator()(io_uring_sqe* sqe) const noexcept {
    io_uring_prep_connect(sqe, 0, a->get(), a->size());
    target(sqe, s);
  }
};

struct prep_recv {
  socket s;
  void* buf;
  unsigned len;
  int flags;
  void operator()(io_uring_sqe* sqe) const noexcept {
    io_uring_prep_recv(sqe, 0, buf, len, flags);
    target(sqe, s);
  }
};

struct prep_send {
  socket s;
  const void* buf;
  unsigned len;
  int flags;
  void operator()(io_uring_sqe* sqe) const noexcept {
    io_uring_prep_send(sqe, 0, buf, len, flags | MSG_NOSIGNAL);
    target(sqe, s);
  }
};

struct prep_send_zc {
  socket s;
  const void* buf;
  unsigned len;
  int flags;
  void operator()(io_uring_sqe* sqe) const noexcept {
    io_uring_prep_send_zc(sqe, 0, buf, len, flags | MSG_NOSIGNAL, 0);
    target(sqe, s);
  }
};

struct prep_recvmsg {
  socket s;
  msghdr* msg;
  int flags;
  void operator()(io_uring_sqe* sqe) const noexcept {
    io_uring_prep_recvmsg(sqe, 0, msg, static_cast<unsigned>(flags));
    target(sqe, s);
  }
};

struct prep_sendmsg {
  socket s;
  const msghdr* msg;
  int flags;
  void operator()(io_uring_sqe* sqe) const noexcept {
    io_uring_prep_sendmsg(sqe, 0, msg, static_cast<unsigned>(flags | MSG_NOSIGNAL));
    target(sqe, s);
  }
};

struct prep_shutdown {
  socket s;
  int how;
  void operator()(io_uring_sqe* sqe) const noexcept {
    io_uring_prep_shutdown(sqe, 0, how);
    target(sqe, s);
  }
};

struct prep_close_slot {
  int slot;
  void operator()(io_uring_sqe* sqe) const noexcept {
    io_uring_prep_close_direct(sqe, static_cast<unsigned>(slot));
  }
};

struct prep_close_fd {
  int fd;
  void operator()(io_uring_sqe* sqe) const noexcept { io_uring_prep_close(sqe, fd); }
};

// send_zc_on_cqe() keeps a zero-copy send in flight across its first CQE
// (the result, flagged MORE) and records that result in st.user; the
// notification CQE then completes the operation.
bool send_zc_on_cqe(io_status& st, std::int32_t res, std::uint32_t flags) noexcept;

// zc_result() is what a finished zero-copy send reports.
result<std::size_t> zc_result(const io_status& st) noexcept;

// to_size() maps a CQE result to a byte count.
inline result<std::size_t> to_size(const result<std::int32_t>& r) noexcept {
  if (!r) return failure(r.error());
  return static_cast<std::size_t>(*r);
}

inline result<void> to_void(const result<std::int32_t>& r) noexcept {
  if (!r) return failure(r.error());
  return success();
}

// syscall_result() turns a plain syscall's return into a result.
inline result<void> syscall_result(int r) noexcept {
  if (r < 0) return failure(errno_error(errno));
  return success();
}

}  // namespace prio::net::detail
