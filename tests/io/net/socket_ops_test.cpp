// Description: every socket operation over loopback (IPv4, IPv6, Unix), in
// stackful and coroutine bodies: listen_on (socket, bind, listen, adopt),
// accept, connect, send/recv, sendmsg/recvmsg, zero-copy send, shutdown
// and close, with sockets living in the fixed-file table.
#include <sys/uio.h>

#include "net_helpers.hpp"

namespace prio::test {
namespace {

class SocketOps : public ::testing::TestWithParam<family> {
 protected:
  void SetUp() override {
    if (GetParam() == family::v6 && !ipv6_loopback()) GTEST_SKIP() << "::1 is not available here";
  }
};

// The server accepts one connection and runs the exchange; the client is
// attached by the server once it listens. Both stackful.
TEST_P(SocketOps, Stackful) {
  auto ex = make_executor();
  auto server = make_task(switcher_kind::asm_switch);
  auto client = make_task(switcher_kind::asm_switch);
  net::address bound;
  std::string log;
  server->set_body([&](task& t) -> result<std::int64_t> {
    auto l = net::listen_on(t, listen_address(GetParam()), 16);
    EXPECT_TRUE(l) << l.error().message();
    if (!l) return failure(l.error());
    net::socket ls = *l;
    EXPECT_TRUE(ls.fixed());
    auto a = net::local_address(t, ls);
    EXPECT_TRUE(a);
    bound = *a;
    EXPECT_TRUE(t.current_executor()->attach(*client));
    net::address peer;
    auto s = net::accept(t, ls, &peer);
    EXPECT_TRUE(s) << s.error().message();
    if (!s) return failure(s.error());
    EXPECT_EQ(peer.family(), bound.family());
    auto hello = recv_exact(t, *s, 5);
    EXPECT_TRUE(hello && *hello == "hello");
    EXPECT_TRUE(net::send_all(t, *s, bytes("world")));
    // recvmsg into two iovecs.
    char a1[2], a2[2];
    iovec iov[2] = {{a1, 2}, {a2, 2}};
    msghdr m{};
    m.msg_iov = iov;
    m.msg_iovlen = 2;
    std::size_t got = 0;
    for (int i = 0; i < 4 && got < 4; ++i) {
      auto r = net::recvmsg(t, *s, &m);
      EXPECT_TRUE(r);
      if (!r) break;
      got += *r;
      iov[0] = {a1 + std::min<std::size_t>(got, 2), 2 - std::min<std::size_t>(got, 2)};
      iov[1] = {a2 + (got > 2 ? got - 2 : 0), 2 - (got > 2 ? got - 2 : 0)};
    }
    EXPECT_EQ(std::string(a1, 2) + std::string(a2, 2), "abcd");
    if (net::supports_send_zc(*t.current_executor())) {
      auto z = net::send_zc(t, *s, bytes("zero"));
      if (GetParam() == family::unix_domain) {  // Unix sockets have no zero-copy path
        EXPECT_EQ(z.error(), std::errc::operation_not_supported);
        EXPECT_TRUE(net::send_all(t, *s, bytes("zero")));
      } else {
        EXPECT_TRUE(z && *z == 4) << (z ? "" : z.error().message());
      }
    } else {
      EXPECT_TRUE(net::send_all(t, *s, bytes("zero")));
      log += "(no send_zc)";
    }
    EXPECT_TRUE(net::shutdown(t, *s, SHUT_WR));
    char b[8];
    auto eof = net::recv(t, *s, std::as_writable_bytes(std::span<char>(b)));
    EXPECT_TRUE(eof && *eof == 0);
    net::socket conn = *s;
    EXPECT_TRUE(net::close(t, conn));
    EXPECT_FALSE(conn.valid());
    EXPECT_TRUE(net::close(t, ls));
    log += "server done;";
    return std::int64_t{0};
  });
  client->set_body([&](task& t) -> result<std::int64_t> {
    auto c = net::connect_to(t, bound);
    EXPECT_TRUE(c) << c.error().message();
    if (!c) return failure(c.error());
    EXPECT_TRUE(net::send_all(t, *c, bytes("hello")));
    auto world = recv_exact(t, *c, 5);
    EXPECT_TRUE(world && *world == "world");
    char p1[] = "ab", p2[] = "cd";
    iovec iov[2] = {{p1, 2}, {p2, 2}};
    msghdr m{};
    m.msg_iov = iov;
    m.msg_iovlen = 2;
    auto sm = net::sendmsg(t, *c, &m);
    EXPECT_TRUE(sm && *sm == 4);
    auto zero = recv_exact(t, *c, 4);
    EXPECT_TRUE(zero && *zero == "zero");
    char b[8];
    auto eof = net::recv(t, *c, std::as_writable_bytes(std::span<char>(b)));
    EXPECT_TRUE(eof && *eof == 0);  // the server shut down its side
    net::socket s = *c;
    EXPECT_TRUE(net::close(t, s));
    log += "client done;";
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*server));
  drive(*ex, [&] { return server->state() == task_state::completed && client->state() == task_state::completed; });
  EXPECT_TRUE(server->outcome());
  EXPECT_TRUE(client->outcome());
  EXPECT_NE(log.find("server done;"), std::string::npos);
  EXPECT_NE(log.find("client done;"), std::string::npos);
}

// The same exchange with coroutine bodies and the async_ forms.
TEST_P(SocketOps, Coroutine) {
  auto ex = make_executor();
  auto server = make_task(switcher_kind::coroutine);
  auto client = make_task(switcher_kind::coroutine);
  net::address bound;
  int done = 0;
  server->set_body([&](task& t) -> co<result<std::int64_t>> {
    auto l = co_await net::async_listen_on(t, listen_address(GetParam()), 16);
    EXPECT_TRUE(l);
    if (!l) co_return failure(l.error());
    net::socket ls = *l;
    bound.reset_for_kernel();  // listen_on keeps a regular fd: getsockname directly
    EXPECT_EQ(::getsockname(ls.fd, bound.get(), bound.size_ptr()), 0);
    EXPECT_TRUE(t.current_executor()->attach(*client));
    auto s = co_await net::async_accept(t, ls);
    EXPECT_TRUE(s);
    if (!s) co_return failure(s.error());
    auto hello = co_await async_recv_exact(t, *s, 5);
    EXPECT_TRUE(hello && *hello == "hello");
    EXPECT_TRUE(co_await net::async_send_all(t, *s, bytes("world")));
    char a[4];
    iovec iov{a, 4};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    std::size_t got = 0;
    for (int i = 0; i < 4 && got < 4; ++i) {
      iov = {a + got, 4 - got};
      auto r = co_await net::async_recvmsg(t, *s, &m);
      EXPECT_TRUE(r);
      if (!r) break;
      got += *r;
    }
    EXPECT_EQ(std::string(a, 4), "abcd");
    if (net::supports_send_zc(*t.current_executor())) {
      auto z = co_await net::async_send_zc(t, *s, bytes("zero"));
      if (GetParam() == family::unix_domain) {
        EXPECT_EQ(z.error(), std::errc::operation_not_supported);
        EXPECT_TRUE(co_await net::async_send_all(t, *s, bytes("zero")));
      } else {
        EXPECT_TRUE(z && *z == 4);
      }
    } else {
      EXPECT_TRUE(co_await net::async_send_all(t, *s, bytes("zero")));
    }
    EXPECT_TRUE(co_await net::async_shutdown(t, *s, SHUT_WR));
    net::socket conn = *s;
    char b[8];
    auto eof = co_await net::async_recv(t, conn, std::as_writable_bytes(std::span<char>(b)));
    EXPECT_TRUE(eof && *eof == 0);
    EXPECT_TRUE(co_await net::async_close(t, conn));
    EXPECT_TRUE(co_await net::async_close(t, ls));
    ++done;
    co_return std::int64_t{0};
  });
  client->set_body([&](task& t) -> co<result<std::int64_t>> {
    auto c = co_await net::async_connect_to(t, bound);
    EXPECT_TRUE(c);
    if (!c) co_return failure(c.error());
    EXPECT_TRUE(co_await net::async_send(t, *c, bytes("hello")));
    auto world = co_await async_recv_exact(t, *c, 5);
    EXPECT_TRUE(world && *world == "world");
    char p[] = "abcd";
    iovec iov{p, 4};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    EXPECT_TRUE(co_await net::async_sendmsg(t, *c, &m));
    auto zero = co_await async_recv_exact(t, *c, 4);
    EXPECT_TRUE(zero && *zero == "zero");
    net::socket s = *c;
    EXPECT_TRUE(co_await net::async_shutdown(t, s, SHUT_WR));
    EXPECT_TRUE(co_await net::async_close(t, s));
    ++done;
    co_return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*server));
  drive(*ex, [&] { return server->state() == task_state::completed && client->state() == task_state::completed; });
  EXPECT_EQ(done, 2);
}

INSTANTIATE_TEST_SUITE_P(Families, SocketOps,
                         ::testing::Values(family::v4, family::v6, family::unix_domain), family_name);

}  // namespace
}  // namespace prio::test
