// Description: a socket's fixed-file slot belongs to one executor's table.
// Every call that makes a slot (open_socket, adopt, listen_on, accept, an
// accept stream, connect_to) records its executor in socket::owner, and a
// task on another executor that uses the socket gets errc::foreign_handle
// from every operation instead of reaching whatever its own table holds at
// that index (there, the other executor's own connection). Regular-fd
// sockets work from any executor; hand-made slot handles are trusted.
#include <sys/socket.h>

#include "net_helpers.hpp"
#include "prio/io/accept_stream.hpp"

namespace prio::test {
namespace {

std::unique_ptr<executor> small_executor() {
  executor_options o;
  o.ring_entries = 64;
  o.fixed_files = 8;
  return make_executor(o);
}

// run_on() runs body in a fresh task of kind k on ex (this thread) until
// it completes and returns its outcome.
template <class Body>
result<std::int64_t> run_on(executor& ex, switcher_kind k, Body body) {
  auto t = make_task(k);
  if (!t) return failure(errno_error(ENOMEM));
  t->set_body(std::move(body));
  if (auto a = ex.attach(*t); !a) return failure(a.error());
  drive(ex, [&] { return t->state() == task_state::completed; });
  return t->outcome();
}

// recv_then_close() receives n bytes on s in a task on ex, then closes s.
std::string recv_then_close(executor& ex, net::socket& s, std::size_t n) {
  std::string got;
  EXPECT_TRUE(run_on(ex, switcher_kind::asm_switch, [&](task& t) -> result<std::int64_t> {
    auto m = recv_exact(t, s, n, 10s);
    if (!m) return failure(m.error());
    got = *m;
    return net::close(t, s) ? std::int64_t{0} : std::int64_t{-1};
  }));
  return got;
}

bool foreign(const std::error_code& e) {
  return e == errc::foreign_handle && e == std::errc::bad_file_descriptor;
}

// Two executors whose tables both hold a connected socket in slot 0: a's
// socket used by a task on b is refused by every operation and stays open;
// in particular b's recv does not read b's own connection in slot 0.
TEST(SocketOwner, SlotOfAnotherExecutorIsRefused) {
  auto a = small_executor();
  auto b = small_executor();
  int pa[2], pb[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pa), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pb), 0);
  net::socket sa, sb;
  ASSERT_TRUE(run_on(*a, switcher_kind::asm_switch, [&](task& t) -> result<std::int64_t> {
    auto s = net::adopt(t, pa[0]);
    if (!s) return failure(s.error());
    sa = *s;
    return std::int64_t{0};
  }));
  ASSERT_TRUE(run_on(*b, switcher_kind::asm_switch, [&](task& t) -> result<std::int64_t> {
    auto s = net::adopt(t, pb[0]);
    if (!s) return failure(s.error());
    sb = *s;
    return std::int64_t{0};
  }));
  EXPECT_EQ(sa.owner, a.get());
  EXPECT_EQ(sb.owner, b.get());
  ASSERT_EQ(sa.slot, sb.slot) << "the test wants both in the same slot index";
  ASSERT_EQ(::send(pb[1], "b-data", 6, 0), 6);  // waiting in b's own connection

  std::vector<std::error_code> seen;
  ASSERT_TRUE(run_on(*b, switcher_kind::asm_switch, [&](task& t) -> result<std::int64_t> {
    char buf[16];
    auto keep = [&](auto r) { seen.push_back(r ? std::error_code{} : r.error()); };
    keep(net::recv(t, sa, std::as_writable_bytes(std::span<char>(buf))));
    keep(net::send(t, sa, bytes("x")));
    keep(net::send_all(t, sa, bytes("x")));
    keep(net::shutdown(t, sa));
    keep(net::connect(t, sa, listen_address(family::v4)));
    keep(net::local_address(t, sa));
    keep(net::ensure_fd(t, sa));
    net::socket copy = sa;
    keep(net::close(t, copy));
    EXPECT_TRUE(copy.valid()) << "a refused close must not forget the handle";
    return std::int64_t{0};
  }));
  ASSERT_EQ(seen.size(), 8u);
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_TRUE(foreign(seen[i])) << i << ": " << seen[i].message();

  // Nothing was read from b's connection, and a's socket still works on a.
  EXPECT_EQ(recv_then_close(*b, sb, 6), "b-data");
  ASSERT_EQ(::send(pa[1], "a-data", 6, 0), 6);
  EXPECT_EQ(recv_then_close(*a, sa, 6), "a-data");
  for (int fd : {pa[1], pb[1]}) ::close(fd);
}

co<result<std::int64_t>> coro_use_foreign(task& t, net::socket s, std::vector<std::error_code>& seen) {
  char buf[16];
  auto r = co_await net::async_recv(t, s, std::as_writable_bytes(std::span<char>(buf)));
  seen.push_back(r ? std::error_code{} : r.error());
  auto w = co_await net::async_send(t, s, bytes("x"));
  seen.push_back(w ? std::error_code{} : w.error());
  auto sh = co_await net::async_shutdown(t, s);
  seen.push_back(sh ? std::error_code{} : sh.error());
  auto c = co_await net::async_close(t, s);
  seen.push_back(c ? std::error_code{} : c.error());
  co_return std::int64_t{0};
}

TEST(SocketOwner, CoroutineFormsRefuseToo) {
  auto a = small_executor();
  auto b = small_executor();
  net::socket sa;
  ASSERT_TRUE(run_on(*a, switcher_kind::asm_switch, [&](task& t) -> result<std::int64_t> {
    auto s = net::open_socket(t, AF_INET, SOCK_STREAM);
    if (!s) return failure(s.error());
    sa = *s;
    return std::int64_t{0};
  }));
  ASSERT_TRUE(sa.fixed());
  EXPECT_EQ(sa.owner, a.get());
  std::vector<std::error_code> seen;
  ASSERT_TRUE(run_on(*b, switcher_kind::coroutine, [&](task& t) { return coro_use_foreign(t, sa, seen); }));
  ASSERT_EQ(seen.size(), 4u);
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_TRUE(foreign(seen[i])) << i << ": " << seen[i].message();
  EXPECT_TRUE(run_on(*a, switcher_kind::asm_switch, [&](task& t) -> result<std::int64_t> {
    return net::close(t, sa) ? std::int64_t{0} : std::int64_t{-1};
  }));
}

// Every call that makes a slot names its executor; regular fds name none.
TEST(SocketOwner, EverySlotMakerRecordsItsExecutor) {
  auto a = small_executor();
  net::socket listener, accepted, streamed, connected, plain;
  ASSERT_TRUE(run_on(*a, switcher_kind::asm_switch, [&](task& t) -> result<std::int64_t> {
    auto l = net::listen_on(t, listen_address(family::v4), 8);
    if (!l) return failure(l.error());
    listener = *l;
    auto bound = net::local_address(t, listener);
    if (!bound) return failure(bound.error());
    auto c = net::connect_to(t, *bound, 10s);
    if (!c) return failure(c.error());
    connected = *c;
    auto s = net::accept(t, listener, nullptr, 10s);
    if (!s) return failure(s.error());
    accepted = *s;
    const int raw = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_EQ(::connect(raw, bound->get(), bound->size()), 0);
    net::accept_stream stream(listener, 4);
    auto n = stream.next(t, 10s);
    if (!n) return failure(n.error());
    streamed = *n;
    PRIO_TRY(stream.stop(t));
    auto p = net::open_socket(t, AF_INET, SOCK_STREAM, 0, net::open_mode::regular_fd);
    if (!p) return failure(p.error());
    plain = *p;
    // Record, then close everything on a.
    net::socket record[5] = {listener, accepted, streamed, connected, plain};
    for (auto& s : record) EXPECT_TRUE(net::close(t, s));
    ::close(raw);
    return std::int64_t{0};
  }));
  for (const net::socket* s : {&listener, &accepted, &streamed, &connected}) {
    EXPECT_TRUE(s->fixed());
    EXPECT_EQ(s->owner, a.get());
  }
  EXPECT_FALSE(plain.fixed());
  EXPECT_EQ(plain.owner, nullptr);
}

// A regular-fd socket is the process's: any executor may use it. A slot
// handle made by hand has no owner and is trusted.
TEST(SocketOwner, RegularFdsAndHandMadeHandlesAreNotRefused) {
  auto a = small_executor();
  auto b = small_executor();
  int sp[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
  ASSERT_EQ(::send(sp[1], "abcd", 4, 0), 4);
  std::string got;
  for (executor* ex : {a.get(), b.get()}) {
    ASSERT_TRUE(run_on(*ex, switcher_kind::asm_switch, [&](task& t) -> result<std::int64_t> {
      auto m = recv_exact(t, net::socket{sp[0], -1}, 2, 10s);
      if (!m) return failure(m.error());
      got += *m;
      return std::int64_t{0};
    }));
  }
  EXPECT_EQ(got, "abcd");
  net::socket adopted;
  ASSERT_TRUE(run_on(*b, switcher_kind::asm_switch, [&](task& t) -> result<std::int64_t> {
    auto s = net::adopt(t, sp[0]);
    if (!s) return failure(s.error());
    adopted = *s;
    return std::int64_t{0};
  }));
  ASSERT_EQ(::send(sp[1], "ef", 2, 0), 2);
  ASSERT_TRUE(run_on(*b, switcher_kind::asm_switch, [&](task& t) -> result<std::int64_t> {
    net::socket by_hand{-1, adopted.slot};  // the slot index only
    auto m = recv_exact(t, by_hand, 2, 10s);
    if (!m) return failure(m.error());
    got += *m;
    return net::close(t, by_hand) ? std::int64_t{0} : std::int64_t{-1};
  }));
  EXPECT_EQ(got, "abcdef");
  ::close(sp[1]);
}

}  // namespace
}  // namespace prio::test
