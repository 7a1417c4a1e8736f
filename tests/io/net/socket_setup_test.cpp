// Description: creating sockets in the ring: a slot-only socket that is
// bound and listened on (its regular fd installed with FIXED_FD_INSTALL),
// and existing fds adopted into the fixed-file table ("transfer to
// io_uring"), keeping or giving up the regular fd.
#include <fcntl.h>

#include "net_helpers.hpp"

namespace prio::test {
namespace {

TEST(SocketSetup, SlotOnlySocketBindsListensAndAccepts) {
  auto ex = make_executor();
  auto server = make_task(switcher_kind::asm_switch);
  auto client = make_task(switcher_kind::asm_switch);
  net::address bound;
  bool accepted = false;
  server->set_body([&](task& t) -> result<std::int64_t> {
    auto s = net::open_socket(t, AF_INET);
    EXPECT_TRUE(s);
    if (!s) return failure(s.error());
    net::socket l = *s;
    EXPECT_TRUE(l.fixed());
    EXPECT_EQ(l.fd, -1);
    auto b = net::bind(t, l, *net::address::ipv4("127.0.0.1", 0));
    if (!b && b.error() == std::errc::operation_not_supported) {
      (void)net::close(t, l);
      return std::int64_t{-1};  // no FIXED_FD_INSTALL: skipped below
    }
    EXPECT_TRUE(b) << b.error().message();
    EXPECT_GE(l.fd, 0);  // installed for the syscall fallback
    EXPECT_TRUE(net::listen(t, l, 4));
    bound = *net::local_address(t, l);
    EXPECT_NE(bound.port(), 0);
    EXPECT_TRUE(t.current_executor()->attach(*client));
    auto c = net::accept(t, l);
    EXPECT_TRUE(c);
    accepted = c.has_value();
    if (c) {
      net::socket cs = *c;
      EXPECT_TRUE(net::close(t, cs));
    }
    EXPECT_TRUE(net::close(t, l));
    return std::int64_t{0};
  });
  client->set_body([&](task& t) -> result<std::int64_t> {
    auto c = net::connect_to(t, bound);
    EXPECT_TRUE(c);
    if (c) {
      net::socket s = *c;
      EXPECT_TRUE(net::close(t, s));
    }
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*server));
  drive(*ex, [&] { return server->state() == task_state::completed; });
  if (*server->outcome() == -1) GTEST_SKIP() << "kernel lacks IORING_OP_FIXED_FD_INSTALL (6.8+)";
  drive(*ex, [&] { return client->state() == task_state::completed; });
  EXPECT_TRUE(accepted);
}

// adopt(transfer) leaves only the slot: the original fd is closed.
TEST(SocketSetup, AdoptTransfer) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  auto ex = make_executor();
  auto t1 = make_task(switcher_kind::sjlj);
  t1->set_body([&](task& t) -> result<std::int64_t> {
    auto s = net::adopt(t, sv[0], net::adopt_mode::transfer);
    EXPECT_TRUE(s);
    if (!s) return failure(s.error());
    EXPECT_TRUE(s->fixed());
    EXPECT_EQ(s->fd, -1);
    EXPECT_EQ(::fcntl(sv[0], F_GETFD), -1);  // the ring owns it now
    EXPECT_TRUE(net::send_all(t, *s, bytes("via slot")));
    auto back = recv_exact(t, *s, 4);
    EXPECT_TRUE(back && *back == "pong");
    net::socket c = *s;
    EXPECT_TRUE(net::close(t, c));
    return std::int64_t{0};
  });
  ASSERT_EQ(::write(sv[1], "pong", 4), 4);
  ASSERT_TRUE(ex->attach(*t1));
  drive(*ex, [&] { return t1->state() == task_state::completed; });
  char buf[16] = {};
  ASSERT_EQ(::read(sv[1], buf, sizeof(buf)), 8);
  EXPECT_EQ(std::string(buf, 8), "via slot");
  EXPECT_EQ(::read(sv[1], buf, sizeof(buf)), 0);  // closed through the ring
  ::close(sv[1]);
}

// adopt(share) keeps the fd usable beside the slot; the coroutine form.
TEST(SocketSetup, AdoptShareCoroutine) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  auto ex = make_executor();
  auto t1 = make_task(switcher_kind::coroutine);
  t1->set_body([&](task& t) -> co<result<std::int64_t>> {
    auto s = co_await net::async_adopt(t, sv[0], net::adopt_mode::share);
    EXPECT_TRUE(s);
    if (!s) co_return failure(s.error());
    EXPECT_EQ(s->fd, sv[0]);
    EXPECT_TRUE(s->fixed());
    EXPECT_TRUE(co_await net::async_send_all(t, *s, bytes("ab")));
    EXPECT_EQ(::send(sv[0], "cd", 2, MSG_NOSIGNAL), 2);  // the fd still works
    net::socket c = *s;
    EXPECT_TRUE(co_await net::async_close(t, c));
    co_return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t1));
  drive(*ex, [&] { return t1->state() == task_state::completed; });
  char buf[8] = {};
  ASSERT_EQ(::recv(sv[1], buf, 4, MSG_WAITALL), 4);
  EXPECT_EQ(std::string(buf, 4), "abcd");
  EXPECT_EQ(::fcntl(sv[0], F_GETFD), -1);  // close() closed both
  ::close(sv[1]);
}

// Without a fixed-file table sockets are regular fds and adopt refuses.
TEST(SocketSetup, NoFixedTable) {
  auto ex = make_executor({.fixed_files = 0});
  auto t1 = make_task(switcher_kind::asm_switch);
  t1->set_body([&](task& t) -> result<std::int64_t> {
    auto s = net::open_socket(t, AF_INET);
    EXPECT_TRUE(s);
    if (!s) return failure(s.error());
    EXPECT_FALSE(s->fixed());
    EXPECT_GE(s->fd, 0);
    EXPECT_EQ(net::adopt(t, s->fd).error(), std::errc::operation_not_supported);
    net::socket c = *s;
    EXPECT_TRUE(net::close(t, c));
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t1));
  drive(*ex, [&] { return t1->state() == task_state::completed; });
}

}  // namespace
}  // namespace prio::test
