// Description: per-operation timeouts (linked timeouts) return ETIME: recv
// on an idle connection, accept with nobody connecting, and connect to a
// listener whose backlog is full (the SYN is dropped); the socket stays
// usable after a receive timed out.
#include "net_helpers.hpp"

namespace prio::test {
namespace {

constexpr auto etime = std::errc::stream_timeout;

TEST(SocketTimeouts, RecvAndAccept) {
  auto ex = make_executor();
  auto t1 = make_task(switcher_kind::asm_switch);
  t1->set_body([&](task& t) -> result<std::int64_t> {
    auto l = net::listen_on(t, listen_address(family::v4), 4);
    if (!l) return failure(l.error());
    net::socket ls = *l;
    auto none = net::accept(t, ls, nullptr, 10ms);
    EXPECT_EQ(none.error(), etime);
    auto c = net::connect_to(t, *net::local_address(t, ls), 10s);
    EXPECT_TRUE(c);
    auto s = net::accept(t, ls, nullptr, 10s);
    EXPECT_TRUE(s);
    char b[4];
    auto r = net::recv(t, *s, std::as_writable_bytes(std::span<char>(b)), 0, 10ms);
    EXPECT_EQ(r.error(), etime);
    // Still usable afterwards.
    EXPECT_TRUE(net::send_all(t, *c, bytes("ok")));
    auto ok = recv_exact(t, *s, 2, 10s);
    EXPECT_TRUE(ok && *ok == "ok");
    net::socket a = *c, b2 = *s;
    EXPECT_TRUE(net::close(t, a));
    EXPECT_TRUE(net::close(t, b2));
    EXPECT_TRUE(net::close(t, ls));
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t1));
  drive(*ex, [&] { return t1->state() == task_state::completed; });
  EXPECT_TRUE(t1->outcome());
}

TEST(SocketTimeouts, RecvTimeoutCoroutine) {
  auto ex = make_executor();
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  auto t1 = make_task(switcher_kind::coroutine);
  t1->set_body([&](task& t) -> co<result<std::int64_t>> {
    char b[4];
    auto r = co_await net::async_recv(t, net::socket{sv[0], -1}, std::as_writable_bytes(std::span<char>(b)), 0, 5ms);
    EXPECT_EQ(r.error(), etime);
    co_return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t1));
  drive(*ex, [&] { return t1->state() == task_state::completed; });
  ::close(sv[0]);
  ::close(sv[1]);
}

// A listener with backlog 0 and unaccepted connections drops further SYNs,
// so a connect waits for the retransmit: its timeout gives ETIME.
TEST(SocketTimeouts, ConnectToFullBacklog) {
  const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(l, 0);
  auto any = *net::address::ipv4("127.0.0.1", 0);
  ASSERT_EQ(::bind(l, any.get(), any.size()), 0);
  ASSERT_EQ(::listen(l, 0), 0);
  net::address bound;
  bound.reset_for_kernel();
  ASSERT_EQ(::getsockname(l, bound.get(), bound.size_ptr()), 0);
  auto ex = make_executor();
  auto t1 = make_task(switcher_kind::asm_switch);
  int timed_out = 0, connected = 0;
  t1->set_body([&](task& t) -> result<std::int64_t> {
    std::vector<net::socket> open;
    for (int i = 0; i < 8 && timed_out == 0; ++i) {  // fill the backlog, then one more
      auto c = net::connect_to(t, bound, 200ms);
      if (c) {
        ++connected;
        open.push_back(*c);
      } else {
        EXPECT_EQ(c.error(), etime) << c.error().message();
        timed_out += c.error() == etime;
      }
    }
    for (auto& s : open) EXPECT_TRUE(net::close(t, s));
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t1));
  drive(*ex, [&] { return t1->state() == task_state::completed; });
  ::close(l);
  if (timed_out == 0) GTEST_SKIP() << "the kernel accepted " << connected << " connections into a backlog of 0";
  EXPECT_EQ(timed_out, 1);
}

}  // namespace
}  // namespace prio::test
