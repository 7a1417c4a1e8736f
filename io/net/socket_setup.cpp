// socket_setup.cpp: creating, naming, connecting and closing sockets, for
// stackful task bodies (the coroutine forms are in socket_async.cpp).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/close_now.hpp"
#include "io/net/probe.hpp"
#include "io/net/socket_prep.hpp"

namespace prio::net {

using namespace detail;

namespace {
// direct_table() is true when ex has a fixed-file table to create into.
bool direct_table(const executor* ex) noexcept { return ex && ex->fixed_file_slots() > 0; }
}  // namespace

result<socket> open_socket(task& t, int domain, int type, int protocol, open_mode mode) noexcept {
  executor* ex = t.current_executor();
  if (!ex) return failure(errno_error(EINVAL));
  const bool direct = mode == open_mode::direct && direct_table(ex);
  auto r = perform(t, prep_socket{domain, type, protocol, direct});
  if (!r) return failure(r.error());
  return direct ? socket{-1, *r, t.current_executor()} : socket{*r, -1};
}

result<socket> adopt(task& t, int fd, adopt_mode mode) noexcept {
  executor* ex = t.current_executor();
  if (!ex) return failure(errno_error(EINVAL));
  if (fd < 0) return failure(errno_error(EBADF));
  if (!direct_table(ex)) return failure(errno_error(EOPNOTSUPP));
  int fds[1] = {fd};  // the kernel writes the allocated slot back here
  auto r = perform(t, prep_files_update{fds});
  if (!r) return failure(r.error());
  socket s{fd, fds[0], ex};
  if (mode == adopt_mode::transfer) {
    auto c = perform(t, prep_close_fd{fd});
    if (!c && c.error() == std::errc::operation_canceled) {
      // Never ran (a cancelled task): the fd stays the caller's, the slot goes.
      (void)prio::detail::closed(*ex, perform(t, prep_close_slot{s.slot}), s.slot, true);
      return failure(c.error());
    }
    s.fd = -1;  // closed (a failing close(2) releases the descriptor too)
  }
  return s;
}

result<void> ensure_fd(task& t, socket& s) noexcept {
  PRIO_TRY(check_socket(t, s));
  if (s.fd >= 0) return success();
  executor* ex = t.current_executor();
  if (!ex) return failure(errno_error(EINVAL));
  if (!opcode_supported(*ex, op_fixed_fd_install)) return failure(errno_error(EOPNOTSUPP));
  auto r = perform(t, prep_fixed_fd_install{s.slot});
  if (!r) return failure(r.error());
  s.fd = *r;
  return success();
}

result<void> bind(task& t, socket& s, const address& a) noexcept {
  PRIO_TRY(check_socket(t, s));
  if (a.size() == 0) return failure(errno_error(EINVAL));
#if PRIO_HAVE_IO_URING_PREP_BIND
  return to_void(perform(t, [&](io_uring_sqe* sqe) {
    io_uring_prep_bind(sqe, 0, const_cast<sockaddr*>(a.get()), a.size());
    target(sqe, s);
  }));
#else
  PRIO_TRY(ensure_fd(t, s));
  return syscall_result(::bind(s.fd, a.get(), a.size()));
#endif
}

result<void> listen(task& t, socket& s, int backlog) noexcept {
  PRIO_TRY(check_socket(t, s));
#if PRIO_HAVE_IO_URING_PREP_LISTEN
  return to_void(perform(t, [&](io_uring_sqe* sqe) {
    io_uring_prep_listen(sqe, 0, backlog);
    target(sqe, s);
  }));
#else
  PRIO_TRY(ensure_fd(t, s));
  return syscall_result(::listen(s.fd, backlog));
#endif
}

result<void> set_option(task& t, socket& s, int level, int name, int value) noexcept {
  PRIO_TRY(check_socket(t, s));
  PRIO_TRY(ensure_fd(t, s));
  return syscall_result(::setsockopt(s.fd, level, name, &value, sizeof(value)));
}

result<address> local_address(task& t, socket& s) noexcept {
  PRIO_TRY(check_socket(t, s));
  PRIO_TRY(ensure_fd(t, s));
  address a;
  a.reset_for_kernel();
  PRIO_TRY(syscall_result(::getsockname(s.fd, a.get(), a.size_ptr())));
  return a;
}

result<socket> listen_on(task& t, const address& a, int backlog) noexcept {
  if (a.size() == 0) return failure(errno_error(EINVAL));
  auto s = open_socket(t, a.family(), SOCK_STREAM, 0, open_mode::regular_fd);
  if (!s) return s;
  socket l = *s;
  auto setup = [&]() -> result<void> {
    if (a.family() != AF_UNIX) PRIO_TRY(set_option(t, l, SOL_SOCKET, SO_REUSEADDR, 1));
    PRIO_TRY(bind(t, l, a));
    PRIO_TRY(listen(t, l, backlog));
    if (direct_table(t.current_executor())) {
      auto fixed = adopt(t, l.fd, adopt_mode::share);
      if (!fixed) return failure(fixed.error());
      l.slot = fixed->slot;
      l.owner = fixed->owner;
    }
    return success();
  };
  auto r = setup();
  if (!r) {
    (void)close(t, l);
    return failure(r.error());
  }
  return l;
}

result<socket> accept(task& t, const socket& l, address* peer, nanoseconds timeout) noexcept {
  PRIO_TRY(check_socket(t, l));
  const bool direct = direct_table(t.current_executor());
  if (peer) peer->reset_for_kernel();
  auto r = perform(t, prep_accept{l, peer ? peer->get() : nullptr, peer ? peer->size_ptr() : nullptr, direct},
                   timeout);
  if (!r) return failure(r.error());
  return direct ? socket{-1, *r, t.current_executor()} : socket{*r, -1};
}

result<void> connect(task& t, const socket& s, const address& a, nanoseconds timeout) noexcept {
  PRIO_TRY(check_socket(t, s));
  if (a.size() == 0) return failure(errno_error(EINVAL));
  return to_void(perform(t, prep_connect{s, &a}, timeout));
}

result<socket> connect_to(task& t, const address& a, nanoseconds timeout) noexcept {
  if (a.size() == 0) return failure(errno_error(EINVAL));
  auto s = open_socket(t, a.family());
  if (!s) return s;
  socket c = *s;
  auto r = connect(t, c, a, timeout);
  if (!r) {
    (void)close(t, c);
    return failure(r.error());
  }
  return c;
}

result<void> shutdown(task& t, const socket& s, int how) noexcept {
  PRIO_TRY(check_socket(t, s));
  return to_void(perform(t, prep_shutdown{s, how}));
}

result<void> close(task& t, socket& s) noexcept {
  PRIO_TRY(check_socket(t, s));
  executor* ex = t.current_executor();
  if (!ex) return failure(errno_error(EINVAL));
  const socket was = s;
  s = socket{};
  result<void> out = success();
  if (was.slot >= 0) out = prio::detail::closed(*ex, perform(t, prep_close_slot{was.slot}), was.slot, true);
  if (was.fd >= 0) {
    auto r = prio::detail::closed(*ex, perform(t, prep_close_fd{was.fd}), was.fd, false);
    if (!r && out) out = r;
  }
  return out;
}

}  // namespace prio::net
