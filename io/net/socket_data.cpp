// socket_data.cpp: receiving and sending, for stackful task bodies; the
// zero-copy send's two-CQE handling shared with the coroutine form.
#include "io/net/probe.hpp"
#include "io/net/socket_prep.hpp"
#include "prio/io/status_wait.hpp"

namespace prio::net {

using namespace detail;

result<std::size_t> recv(task& t, const socket& s, std::span<std::byte> buf, int flags,
                         nanoseconds timeout) noexcept {
  PRIO_TRY(check_socket(t, s));
  PRIO_TRY(check_buffer(buf.data(), buf.size()));
  return to_size(perform(t, prep_recv{s, buf.data(), io_len(buf.size()), flags}, timeout));
}

result<std::size_t> send(task& t, const socket& s, std::span<const std::byte> buf, int flags,
                         nanoseconds timeout) noexcept {
  PRIO_TRY(check_socket(t, s));
  PRIO_TRY(check_buffer(buf.data(), buf.size()));
  return to_size(perform(t, prep_send{s, buf.data(), io_len(buf.size()), flags}, timeout));
}

result<std::size_t> send_all(task& t, const socket& s, std::span<const std::byte> buf,
                             nanoseconds timeout) noexcept {
  PRIO_TRY(check_socket(t, s));
  PRIO_TRY(check_buffer(buf.data(), buf.size()));
  std::size_t done = 0;
  while (done < buf.size()) {  // each round sends at least one byte or returns
    auto r = send(t, s, buf.subspan(done), 0, timeout);
    if (!r) return r;
    if (*r == 0) return failure(errno_error(EPIPE));
    done += *r;
  }
  return done;
}

result<std::size_t> recvmsg(task& t, const socket& s, msghdr* msg, int flags,
                            nanoseconds timeout) noexcept {
  PRIO_TRY(check_socket(t, s));
  if (!msg) return failure(errno_error(EINVAL));
  return to_size(perform(t, prep_recvmsg{s, msg, flags}, timeout));
}

result<std::size_t> sendmsg(task& t, const socket& s, const msghdr* msg, int flags,
                            nanoseconds timeout) noexcept {
  PRIO_TRY(check_socket(t, s));
  if (!msg) return failure(errno_error(EINVAL));
  return to_size(perform(t, prep_sendmsg{s, msg, flags}, timeout));
}

bool supports_send_zc(executor& ex) noexcept { return opcode_supported(ex, IORING_OP_SEND_ZC); }

namespace detail {

// The first CQE's result is kept in st.user, tagged in bit 32 so that a
// recorded 0 differs from "nothing recorded".
bool send_zc_on_cqe(io_status& st, std::int32_t res, std::uint32_t flags) noexcept {
  if (flags & IORING_CQE_F_NOTIF) return false;  // the notification: done
  st.user = reinterpret_cast<void*>((std::uintptr_t{1} << 32) | static_cast<std::uint32_t>(res));
  return (flags & IORING_CQE_F_MORE) != 0;       // MORE: a notification follows
}

result<std::size_t> zc_result(const io_status& st) noexcept {
  const auto u = reinterpret_cast<std::uintptr_t>(st.user);
  const std::int32_t res = (u >> 32) ? static_cast<std::int32_t>(static_cast<std::uint32_t>(u)) : st.res;
  if (st.timed_out && res == -ECANCELED) return failure(errno_error(ETIME));
  if (res < 0) return failure(errno_error(-res));
  return static_cast<std::size_t>(res);
}

}  // namespace detail

result<std::size_t> send_zc(task& t, const socket& s, std::span<const std::byte> buf, int flags,
                            nanoseconds timeout) noexcept {
  PRIO_TRY(check_socket(t, s));
  PRIO_TRY(check_buffer(buf.data(), buf.size()));
  executor* ex = t.current_executor();
  if (!ex) return failure(errno_error(EINVAL));
  if (!supports_send_zc(*ex)) return failure(errno_error(EOPNOTSUPP));
  io_status st;
  st.on_cqe = send_zc_on_cqe;
  // The awaited I/O is named before initiating, so that a slot granted
  // later leaves the task waiting for the completion itself (as perform).
  t.set_awaited_io(&st);
  auto r = initiate(t, st, prep_send_zc{s, buf.data(), io_len(buf.size()), flags}, timeout);
  t.set_awaited_io(nullptr);
  if (!r) return failure(r.error());
  PRIO_TRY(wait_status(t, st));
  executor::reap(st);
  return zc_result(st);
}

}  // namespace prio::net
