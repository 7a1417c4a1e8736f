// socket.hpp: stream sockets (IPv4, IPv6, Unix) over the executor's ring.
//
// A net::socket is a plain handle, like an int fd: `slot` is its index in
// the executor's fixed-file table (operations then set IOSQE_FIXED_FILE and
// the kernel skips the fd lookup), `fd` a regular descriptor. A socket may
// have either or both. Sockets are created in the ring (IORING_OP_SOCKET)
// straight into the fixed-file table when the executor has one.
//
// bind/listen: liburing 2.3 has no IORING_OP_BIND/LISTEN helpers, so unless
// the build found them (PRIO_HAVE_IO_URING_PREP_BIND/LISTEN) they are the
// plain syscalls on a regular fd. A slot-only socket gets one installed with
// IORING_OP_FIXED_FD_INSTALL (kernel 6.8+) and keeps it in `fd` from then
// on; close() closes both. listen_on() instead opens the listener with a
// regular fd and then adopts it into the table, so accepts use the slot.
//
// Every operation: stackful call `op(t, ...)` suspending the task t (the
// current task, on its executor's thread) and a coroutine form
// `co_await async_op(t, ...)`; both go through perform/initiate
// (io_op.hpp). Arguments are validated first: a bad handle gives EBADF, a
// slot of another executor's table errc::foreign_handle, a null buffer with a
// non-zero length EINVAL, and nothing is submitted.
// `timeout` (other than forever) links a timeout: ETIME when it fires.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <span>

#include "prio/context/coro.hpp"
#include "prio/executors/io_op.hpp"
#include "prio/io/address.hpp"

namespace prio::net {

struct socket {
  int fd = -1;    // regular descriptor, or -1
  int slot = -1;  // fixed-file table index, or -1
  // owner: the executor whose fixed-file table `slot` indexes, set by the
  // calls that make slots (nullptr: no slot, or a handle made by hand, which
  // is trusted). A slot is only an index into one ring's table: used by a
  // task on another executor it would name whatever that table holds there,
  // so every operation refuses it (errc::foreign_handle, EBADF's condition).
  executor* owner = nullptr;
  bool valid() const noexcept { return fd >= 0 || slot >= 0; }
  bool fixed() const noexcept { return slot >= 0; }
};

// How open_socket() creates the socket.
enum class open_mode : unsigned char {
  direct,      // a fixed-file slot only (a regular fd if the executor has no table)
  regular_fd,  // a regular fd only (adopt() can add a slot later)
};

// How adopt() treats the descriptor it puts in the fixed-file table.
enum class adopt_mode : unsigned char {
  transfer,  // the ring owns it: the regular fd is closed, only the slot remains
  share,     // keep the regular fd as well (close() closes both)
};

using std::chrono::nanoseconds;

// --- creating, naming, connecting --------------------------------------------
result<socket> open_socket(task& t, int domain, int type = SOCK_STREAM, int protocol = 0,
                           open_mode mode = open_mode::direct) noexcept;
co<result<socket>> async_open_socket(task& t, int domain, int type = SOCK_STREAM,
                                     int protocol = 0, open_mode mode = open_mode::direct);
// adopt() ("transfer to io_uring") puts an existing socket fd into the
// executor's fixed-file table. EBADF for a negative fd; ENFILE if the table
// is full; EOPNOTSUPP if the executor has no table. On error fd is still
// the caller's, open (also when the task was cancelled meanwhile).
result<socket> adopt(task& t, int fd, adopt_mode mode = adopt_mode::transfer) noexcept;
co<result<socket>> async_adopt(task& t, int fd, adopt_mode mode = adopt_mode::transfer);
// ensure_fd() gives a slot-only socket a regular fd (FIXED_FD_INSTALL).
result<void> ensure_fd(task& t, socket& s) noexcept;
co<result<void>> async_ensure_fd(task& t, socket& s);
result<void> bind(task& t, socket& s, const address& a) noexcept;
co<result<void>> async_bind(task& t, socket& s, const address& a);
result<void> listen(task& t, socket& s, int backlog = SOMAXCONN) noexcept;
co<result<void>> async_listen(task& t, socket& s, int backlog = SOMAXCONN);
// listen_on() is open + SO_REUSEADDR + bind + listen + adopt(share): a
// listener with both an fd and a slot. Port 0 picks a free port; read it
// with local_address().
result<socket> listen_on(task& t, const address& a, int backlog = SOMAXCONN) noexcept;
co<result<socket>> async_listen_on(task& t, const address& a, int backlog = SOMAXCONN);
// local_address() is getsockname() (installs an fd for slot-only sockets).
result<address> local_address(task& t, socket& s) noexcept;
// set_option() is setsockopt() on the socket's fd (installed if needed).
result<void> set_option(task& t, socket& s, int level, int name, int value) noexcept;

// accept() takes one connection from listener `l`: a slot-only socket when
// the executor has a fixed-file table. `peer`, if given, gets its address.
result<socket> accept(task& t, const socket& l, address* peer = nullptr,
                      nanoseconds timeout = forever) noexcept;
co<result<socket>> async_accept(task& t, const socket& l, address* peer = nullptr,
                                nanoseconds timeout = forever);
result<void> connect(task& t, const socket& s, const address& a,
                     nanoseconds timeout = forever) noexcept;
co<result<void>> async_connect(task& t, const socket& s, const address& a,
                               nanoseconds timeout = forever);
// connect_to() is open_socket (a's family) + connect; the socket is closed
// again if connecting fails.
result<socket> connect_to(task& t, const address& a, nanoseconds timeout = forever) noexcept;
co<result<socket>> async_connect_to(task& t, const address& a, nanoseconds timeout = forever);

// --- data ----------------------------------------------------------------------
// recv() returns the bytes received (0: the peer shut down its side).
result<std::size_t> recv(task& t, const socket& s, std::span<std::byte> buf, int flags = 0,
                         nanoseconds timeout = forever) noexcept;
co<result<std::size_t>> async_recv(task& t, const socket& s, std::span<std::byte> buf,
                                   int flags = 0, nanoseconds timeout = forever);
// send() returns the bytes sent (may be fewer than asked); send_all() loops.
// MSG_NOSIGNAL is always added: a reset peer gives EPIPE, never SIGPIPE.
result<std::size_t> send(task& t, const socket& s, std::span<const std::byte> buf, int flags = 0,
                         nanoseconds timeout = forever) noexcept;
co<result<std::size_t>> async_send(task& t, const socket& s, std::span<const std::byte> buf,
                                   int flags = 0, nanoseconds timeout = forever);
result<std::size_t> send_all(task& t, const socket& s, std::span<const std::byte> buf,
                             nanoseconds timeout = forever) noexcept;
co<result<std::size_t>> async_send_all(task& t, const socket& s, std::span<const std::byte> buf,
                                       nanoseconds timeout = forever);
result<std::size_t> recvmsg(task& t, const socket& s, msghdr* msg, int flags = 0,
                            nanoseconds timeout = forever) noexcept;
co<result<std::size_t>> async_recvmsg(task& t, const socket& s, msghdr* msg, int flags = 0,
                                      nanoseconds timeout = forever);
result<std::size_t> sendmsg(task& t, const socket& s, const msghdr* msg, int flags = 0,
                            nanoseconds timeout = forever) noexcept;
co<result<std::size_t>> async_sendmsg(task& t, const socket& s, const msghdr* msg, int flags = 0,
                                      nanoseconds timeout = forever);
// send_zc() is a zero-copy send (IORING_OP_SEND_ZC): it returns once the
// kernel no longer needs `buf` (both CQEs: the result and the notification).
// EOPNOTSUPP where the kernel lacks the opcode or the socket has no
// zero-copy path (Unix-domain sockets).
result<std::size_t> send_zc(task& t, const socket& s, std::span<const std::byte> buf, int flags = 0,
                            nanoseconds timeout = forever) noexcept;
co<result<std::size_t>> async_send_zc(task& t, const socket& s, std::span<const std::byte> buf,
                                      int flags = 0, nanoseconds timeout = forever);
// supports_send_zc() probes the kernel once (executor thread).
bool supports_send_zc(executor& ex) noexcept;

// --- ending ----------------------------------------------------------------------
result<void> shutdown(task& t, const socket& s, int how = SHUT_WR) noexcept;
co<result<void>> async_shutdown(task& t, const socket& s, int how = SHUT_WR);
// close() closes the slot and the fd the socket has and resets the handle
// (also when closing fails, since the kernel frees the descriptor anyway).
// It works in a cancelled task too, where every other operation fails with
// ECANCELED: a close the ring refused is done synchronously instead, so the
// cleanup a cancelled body unwinds into leaks no fd and no slot.
result<void> close(task& t, socket& s) noexcept;
co<result<void>> async_close(task& t, socket& s);

}  // namespace prio::net
