// socket_async.cpp: the coroutine forms of the socket operations. Each
// mirrors its stackful twin in socket_setup.cpp / socket_data.cpp with
// co_await async_perform / async_initiate in place of perform / initiate.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/close_now.hpp"
#include "io/net/probe.hpp"
#include "io/net/socket_prep.hpp"
#include "prio/io/status_wait.hpp"

namespace prio::net {

using namespace detail;

namespace {
bool direct_table(const executor* ex) noexcept { return ex && ex->fixed_file_slots() > 0; }
}  // namespace

co<result<socket>> async_open_socket(task& t, int domain, int type, int protocol, open_mode mode) {
  const bool direct = mode == open_mode::direct && direct_table(t.current_executor());
  auto r = co_await async_perform(t, prep_socket{domain, type, protocol, direct});
  if (!r) co_return failure(r.error());
  co_return direct ? socket{-1, *r, t.current_executor()} : socket{*r, -1};
}

co<result<socket>> async_adopt(task& t, int fd, adopt_mode mode) {
  if (fd < 0) co_return failure(errno_error(EBADF));
  if (!direct_table(t.current_executor())) co_return failure(errno_error(EOPNOTSUPP));
  int fds[1] = {fd};  // in the coroutine frame: stable while in flight
  auto r = co_await async_perform(t, prep_files_update{fds});
  if (!r) co_return failure(r.error());
  socket s{fd, fds[0], t.current_executor()};
  if (mode == adopt_mode::transfer) {
    auto c = co_await async_perform(t, prep_close_fd{fd});
    if (!c && c.error() == std::errc::operation_canceled) {
      // Never ran (a cancelled task): the fd stays the caller's, the slot goes.
      auto undo = co_await async_perform(t, prep_close_slot{s.slot});
      (void)prio::detail::closed(*s.owner, undo, s.slot, true);
      co_return failure(c.error());
    }
    s.fd = -1;  // closed (a failing close(2) releases the descriptor too)
  }
  co_return s;
}

co<result<void>> async_ensure_fd(task& t, socket& s) {
  if (auto c = check_socket(t, s); !c) co_return failure(c.error());
  if (s.fd >= 0) co_return success();
  executor* ex = t.current_executor();
  if (!ex || !opcode_supported(*ex, op_fixed_fd_install)) co_return failure(errno_error(EOPNOTSUPP));
  auto r = co_await async_perform(t, prep_fixed_fd_install{s.slot});
  if (!r) co_return failure(r.error());
  s.fd = *r;
  co_return success();
}

co<result<void>> async_bind(task& t, socket& s, const address& a) {
  if (auto c = check_socket(t, s); !c) co_return failure(c.error());
  if (a.size() == 0) co_return failure(errno_error(EINVAL));
#if PRIO_HAVE_IO_URING_PREP_BIND
  co_return to_void(co_await async_perform(t, [&](io_uring_sqe* sqe) {
    io_uring_prep_bind(sqe, 0, const_cast<sockaddr*>(a.get()), a.size());
    target(sqe, s);
  }));
#else
  auto f = co_await async_ensure_fd(t, s);
  if (!f) co_return f;
  co_return syscall_result(::bind(s.fd, a.get(), a.size()));
#endif
}

co<result<void>> async_listen(task& t, socket& s, int backlog) {
  if (auto c = check_socket(t, s); !c) co_return failure(c.error());
#if PRIO_HAVE_IO_URING_PREP_LISTEN
  co_return to_void(co_await async_perform(t, [&](io_uring_sqe* sqe) {
    io_uring_prep_listen(sqe, 0, backlog);
    target(sqe, s);
  }));
#else
  auto f = co_await async_ensure_fd(t, s);
  if (!f) co_return f;
  co_return syscall_result(::listen(s.fd, backlog));
#endif
}

co<result<socket>> async_listen_on(task& t, const address& a, int backlog) {
  if (a.size() == 0) co_return failure(errno_error(EINVAL));
  auto s = co_await async_open_socket(t, a.family(), SOCK_STREAM, 0, open_mode::regular_fd);
  if (!s) co_return s;
  socket l = *s;
  result<void> r = success();
  const int one = 1;
  if (a.family() != AF_UNIX) r = syscall_result(::setsockopt(l.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
  if (r) r = co_await async_bind(t, l, a);
  if (r) r = co_await async_listen(t, l, backlog);
  if (r && direct_table(t.current_executor())) {
    auto fixed = co_await async_adopt(t, l.fd, adopt_mode::share);
    if (fixed) {
      l.slot = fixed->slot;
      l.owner = fixed->owner;
    } else {
      r = failure(fixed.error());
    }
  }
  if (!r) {
    (void)co_await async_close(t, l);
    co_return failure(r.error());
  }
  co_return l;
}

co<result<socket>> async_accept(task& t, const socket& l, address* peer, nanoseconds timeout) {
  if (auto c = check_socket(t, l); !c) co_return failure(c.error());
  const bool direct = direct_table(t.current_executor());
  if (peer) peer->reset_for_kernel();
  auto r = co_await async_perform(
      t, prep_accept{l, peer ? peer->get() : nullptr, peer ? peer->size_ptr() : nullptr, direct}, timeout);
  if (!r) co_return failure(r.error());
  co_return direct ? socket{-1, *r, t.current_executor()} : socket{*r, -1};
}

co<result<void>> async_connect(task& t, const socket& s, const address& a, nanoseconds timeout) {
  if (auto c = check_socket(t, s); !c) co_return failure(c.error());
  if (a.size() == 0) co_return failure(errno_error(EINVAL));
  co_return to_void(co_await async_perform(t, prep_connect{s, &a}, timeout));
}

co<result<socket>> async_connect_to(task& t, const address& a, nanoseconds timeout) {
  if (a.size() == 0) co_return failure(errno_error(EINVAL));
  auto s = co_await async_open_socket(t, a.family());
  if (!s) co_return s;
  socket c = *s;
  auto r = co_await async_connect(t, c, a, timeout);
  if (!r) {
    (void)co_await async_close(t, c);
    co_return failure(r.error());
  }
  co_return c;
}

co<result<std::size_t>> async_recv(task& t, const socket& s, std::span<std::byte> buf, int flags,
                                   nanoseconds timeout) {
  if (auto c = check_socket(t, s); !c) co_return failure(c.error());
  if (!check_buffer(buf.data(), buf.size())) co_return failure(errno_error(EINVAL));
  co_return to_size(co_await async_perform(t, prep_recv{s, buf.data(), io_len(buf.size()), flags}, timeout));
}

co<result<std::size_t>> async_send(task& t, const socket& s, std::span<const std::byte> buf, int flags,
                                   nanoseconds timeout) {
  if (auto c = check_socket(t, s); !c) co_return failure(c.error());
  if (!check_buffer(buf.data(), buf.size())) co_return failure(errno_error(EINVAL));
  co_return to_size(co_await async_perform(t, prep_send{s, buf.data(), io_len(buf.size()), flags}, timeout));
}

co<result<std::size_t>> async_send_all(task& t, const socket& s, std::span<const std::byte> buf,
                                       nanoseconds timeout) {
  if (auto c = check_socket(t, s); !c) co_return failure(c.error());
  if (!check_buffer(buf.data(), buf.size())) co_return failure(errno_error(EINVAL));
  std::size_t done = 0;
  while (done < buf.size()) {
    auto r = co_await async_send(t, s, buf.subspan(done), 0, timeout);
    if (!r) co_return r;
    if (*r == 0) co_return failure(errno_error(EPIPE));
    done += *r;
  }
  co_return done;
}

co<result<std::size_t>> async_recvmsg(task& t, const socket& s, msghdr* msg, int flags, nanoseconds timeout) {
  if (auto c = check_socket(t, s); !c) co_return failure(c.error());
  if (!msg) co_return failure(errno_error(EINVAL));
  co_return to_size(co_await async_perform(t, prep_recvmsg{s, msg, flags}, timeout));
}

co<result<std::size_t>> async_sendmsg(task& t, const socket& s, const msghdr* msg, int flags,
                                      nanoseconds timeout) {
  if (auto c = check_socket(t, s); !c) co_return failure(c.error());
  if (!msg) co_return failure(errno_error(EINVAL));
  co_return to_size(co_await async_perform(t, prep_sendmsg{s, msg, flags}, timeout));
}

co<result<std::size_t>> async_send_zc(task& t, const socket& s, std::span<const std::byte> buf, int flags,
                                      nanoseconds timeout) {
  if (auto c = check_socket(t, s); !c) co_return failure(c.error());
  if (!check_buffer(buf.data(), buf.size())) co_return failure(errno_error(EINVAL));
  executor* ex = t.current_executor();
  if (!ex || !supports_send_zc(*ex)) co_return failure(errno_error(EOPNOTSUPP));
  io_status st;  // in the coroutine frame: stable while in flight
  st.on_cqe = send_zc_on_cqe;
  t.set_awaited_io(&st);
  auto r = co_await async_initiate(t, st, prep_send_zc{s, buf.data(), io_len(buf.size()), flags}, timeout);
  t.set_awaited_io(nullptr);
  if (!r) co_return failure(r.error());
  auto w = co_await status_awaiter(t, st);
  if (!w) co_return failure(w.error());
  executor::reap(st);
  co_return zc_result(st);
}

co<result<void>> async_shutdown(task& t, const socket& s, int how) {
  if (auto c = check_socket(t, s); !c) co_return failure(c.error());
  co_return to_void(co_await async_perform(t, prep_shutdown{s, how}));
}

co<result<void>> async_close(task& t, socket& s) {
  if (auto c = check_socket(t, s); !c) co_return failure(c.error());
  executor* ex = t.current_executor();
  if (!ex) co_return failure(errno_error(EINVAL));
  const socket was = s;
  s = socket{};
  result<void> out = success();
  if (was.slot >= 0) {
    auto r = co_await async_perform(t, prep_close_slot{was.slot});
    out = prio::detail::closed(*ex, r, was.slot, true);
  }
  if (was.fd >= 0) {
    auto r = co_await async_perform(t, prep_close_fd{was.fd});
    if (auto c = prio::detail::closed(*ex, r, was.fd, false); !c && out) out = c;
  }
  co_return out;
}

}  // namespace prio::net
