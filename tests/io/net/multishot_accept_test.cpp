// Description: one multishot accept feeds a stream of 100 connections (one
// SQE), back-pressure pauses and re-arms it without losing a connection, and
// stop() cancels it and closes what was queued.
#include "net_helpers.hpp"
#include "prio/io/accept_stream.hpp"
#include "prio/io/nop.hpp"

namespace prio::test {
namespace {

struct MultishotCase {
  unsigned capacity;
  switcher_kind kind;
};

class MultishotAccept : public ::testing::TestWithParam<MultishotCase> {};

// 100 client tasks connect; the server takes all 100 from the stream.
TEST_P(MultishotAccept, HundredConnections) {
  constexpr int n = 100;
  auto ex = make_executor();
  auto server = make_task(GetParam().kind);
  std::vector<std::unique_ptr<task>> clients;
  for (int i = 0; i < n; ++i) clients.push_back(make_task(switcher_kind::asm_switch));
  net::address bound;
  int accepted = 0;
  std::uint64_t arms = 0;
  auto start_clients = [&](task& t) {
    for (auto& c : clients) EXPECT_TRUE(t.current_executor()->attach(*c));
  };
  for (auto& c : clients)
    c->set_body([&](task& t) -> result<std::int64_t> {
      auto s = net::connect_to(t, bound);
      EXPECT_TRUE(s) << s.error().message();
      if (!s) return failure(s.error());
      char b[1];
      auto r = net::recv(t, *s, std::as_writable_bytes(std::span<char>(b)));  // EOF when the server closes
      EXPECT_TRUE(r && *r == 0);
      net::socket c2 = *s;
      return net::close(t, c2) ? std::int64_t{0} : std::int64_t{-1};
    });
  if (GetParam().kind == switcher_kind::coroutine) {
    server->set_body([&](task& t) -> co<result<std::int64_t>> {
      auto l = co_await net::async_listen_on(t, listen_address(family::v4), 128);
      if (!l) co_return failure(l.error());
      net::socket ls = *l;
      bound = *net::address::ipv4("127.0.0.1", 0);
      bound.reset_for_kernel();
      ::getsockname(ls.fd, bound.get(), bound.size_ptr());
      start_clients(t);
      net::accept_stream st(ls, GetParam().capacity);
      for (int i = 0; i < n; ++i) {
        auto s = co_await st.async_next(t, 10s);
        EXPECT_TRUE(s) << s.error().message();
        if (!s) break;
        ++accepted;
        net::socket c = *s;
        EXPECT_TRUE(co_await net::async_close(t, c));
      }
      arms = st.arms();
      EXPECT_TRUE(co_await st.async_stop(t));
      EXPECT_EQ(st.accepted(), static_cast<std::uint64_t>(n));
      EXPECT_TRUE(co_await net::async_close(t, ls));
      co_return std::int64_t{0};
    });
  } else {
    server->set_body([&](task& t) -> result<std::int64_t> {
      auto l = net::listen_on(t, listen_address(family::v4), 128);
      if (!l) return failure(l.error());
      net::socket ls = *l;
      bound = *net::local_address(t, ls);
      start_clients(t);
      net::accept_stream st(ls, GetParam().capacity);
      for (int i = 0; i < n; ++i) {
        auto s = st.next(t, 10s);
        EXPECT_TRUE(s) << s.error().message();
        if (!s) break;
        ++accepted;
        net::socket c = *s;
        EXPECT_TRUE(net::close(t, c));
      }
      arms = st.arms();
      EXPECT_TRUE(st.stop(t));
      EXPECT_EQ(st.accepted(), static_cast<std::uint64_t>(n));
      EXPECT_TRUE(net::close(t, ls));
      return std::int64_t{0};
    });
  }
  ASSERT_TRUE(ex->attach(*server));
  drive(*ex, [&] { return server->state() == task_state::completed && all_completed(clients); });
  EXPECT_EQ(accepted, n);
  for (auto& c : clients) EXPECT_TRUE(c->outcome());
  if (GetParam().capacity >= 2 * n) EXPECT_EQ(arms, 1u);  // one SQE for all of them
  else EXPECT_GE(arms, 1u);
}

INSTANTIATE_TEST_SUITE_P(Cases, MultishotAccept,
                         ::testing::Values(MultishotCase{256, switcher_kind::asm_switch},
                                           MultishotCase{256, switcher_kind::coroutine},
                                           MultishotCase{8, switcher_kind::asm_switch},
                                           MultishotCase{8, switcher_kind::coroutine}),
                         [](const auto& i) {
                           return std::string(to_string(i.param.kind)) + "_cap" + std::to_string(i.param.capacity);
                         });

// stop() with connections queued closes them: the clients see EOF.
TEST(MultishotAcceptStop, ClosesQueued) {
  auto ex = make_executor();
  auto server = make_task(switcher_kind::asm_switch);
  auto client = make_task(switcher_kind::asm_switch);
  net::address bound;
  unsigned queued_at_stop = 0;
  client->set_body([&](task& t) -> result<std::int64_t> {
    net::socket s[3];
    for (auto& x : s) {
      auto c = net::connect_to(t, bound);
      if (!c) return failure(c.error());
      x = *c;
    }
    for (auto& x : s) {
      char b[1];
      auto r = net::recv(t, x, std::as_writable_bytes(std::span<char>(b)), 0, 10s);
      EXPECT_TRUE(r && *r == 0);
      EXPECT_TRUE(net::close(t, x));
    }
    return std::int64_t{0};
  });
  server->set_body([&](task& t) -> result<std::int64_t> {
    auto l = net::listen_on(t, listen_address(family::v4), 16);
    if (!l) return failure(l.error());
    net::socket ls = *l;
    bound = *net::local_address(t, ls);
    EXPECT_TRUE(t.current_executor()->attach(*client));
    net::accept_stream st(ls);
    auto first = st.next(t, 10s);  // arms; then wait until all three are queued
    EXPECT_TRUE(first);
    // Each NOP is a trip through the ring, which reaps the accept CQEs.
    for (int i = 0; i < 10000 && st.queued() < 2; ++i) EXPECT_TRUE(nop(t));
    queued_at_stop = st.queued();
    EXPECT_TRUE(st.stop(t));
    EXPECT_EQ(st.queued(), 0u);
    EXPECT_FALSE(st.armed());
    net::socket f = *first;
    EXPECT_TRUE(net::close(t, f));
    EXPECT_TRUE(net::close(t, ls));
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*server));
  drive(*ex, [&] { return server->state() == task_state::completed && client->state() == task_state::completed; });
  EXPECT_EQ(queued_at_stop, 2u);
  EXPECT_TRUE(client->outcome());
}

}  // namespace
}  // namespace prio::test
