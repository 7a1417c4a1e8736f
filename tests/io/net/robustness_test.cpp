// Description: robustness of socket I/O on one executor: a peer reset
// mid-receive fails only that connection's task (ECONNRESET); 10,000
// connect/close cycles leak no descriptor; a stalled client does not hold
// up the others; 1,000 connections are open at once.
#include <sys/resource.h>

#include "net_helpers.hpp"
#include "prio/io/accept_stream.hpp"

namespace prio::test {
namespace {

// echo_once() answers one n-byte message on s (stackful).
result<void> echo_once(task& t, const net::socket& s, std::size_t n) {
  auto m = recv_exact(t, s, n, 10s);
  if (!m) return failure(m.error());
  auto w = net::send_all(t, s, bytes(*m), 10s);
  if (!w) return failure(w.error());
  return success();
}

TEST(SocketRobustness, PeerResetHitsOnlyThatTask) {
  auto ex = make_executor();
  auto server = make_task(switcher_kind::asm_switch);
  std::unique_ptr<task> handlers[2] = {make_task(switcher_kind::asm_switch), make_task(switcher_kind::asm_switch)};
  auto client = make_task(switcher_kind::asm_switch);
  net::address bound;
  net::socket conns[2];
  std::error_code handler_error[2];
  int echoed_after_reset = 0;
  for (int i = 0; i < 2; ++i)
    handlers[i]->set_body([&, i](task& t) -> result<std::int64_t> {
      for (int round = 0; round < 3; ++round) {
        auto r = echo_once(t, conns[i], 4);
        if (!r) {
          handler_error[i] = r.error();
          break;
        }
        if (i == 1 && round == 2) ++echoed_after_reset;
      }
      (void)net::close(t, conns[i]);
      return std::int64_t{0};
    });
  server->set_body([&](task& t) -> result<std::int64_t> {
    auto l = net::listen_on(t, listen_address(family::v4), 8);
    if (!l) return failure(l.error());
    net::socket ls = *l;
    bound = *net::local_address(t, ls);
    EXPECT_TRUE(t.current_executor()->attach(*client));
    for (int i = 0; i < 2; ++i) {
      auto s = net::accept(t, ls, nullptr, 10s);
      if (!s) return failure(s.error());
      conns[i] = *s;
      EXPECT_TRUE(t.current_executor()->attach(*handlers[i]));
    }
    EXPECT_TRUE(net::close(t, ls));
    return std::int64_t{0};
  });
  client->set_body([&](task& t) -> result<std::int64_t> {
    auto a = net::connect_to(t, bound, 10s);
    auto b = net::connect_to(t, bound, 10s);
    if (!a || !b) return failure(errno_error(ECONNREFUSED));
    net::socket sa = *a, sb = *b;
    for (auto* s : {&sa, &sb}) {
      EXPECT_TRUE(net::send_all(t, *s, bytes("ping")));
      EXPECT_TRUE(recv_exact(t, *s, 4, 10s));
    }
    // Reset a while its handler waits in recv: SO_LINGER 0 makes close send RST.
    linger lg{1, 0};
    EXPECT_TRUE(net::ensure_fd(t, sa));
    EXPECT_EQ(::setsockopt(sa.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    EXPECT_TRUE(net::close(t, sa));
    for (int round = 0; round < 2; ++round) {  // b keeps working
      EXPECT_TRUE(net::send_all(t, sb, bytes("pong")));
      auto r = recv_exact(t, sb, 4, 10s);
      EXPECT_TRUE(r && *r == "pong");
    }
    EXPECT_TRUE(net::close(t, sb));
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*server));
  drive(*ex, [&] {
    return server->state() == task_state::completed && client->state() == task_state::completed &&
           handlers[0]->state() == task_state::completed && handlers[1]->state() == task_state::completed;
  });
  EXPECT_EQ(handler_error[0], std::errc::connection_reset) << handler_error[0].message();
  EXPECT_FALSE(handler_error[1]) << handler_error[1].message();
  EXPECT_EQ(echoed_after_reset, 1);
  EXPECT_TRUE(client->outcome());
}

TEST(SocketRobustness, TenThousandConnectCloseCyclesLeakNothing) {
  constexpr int cycles = 10000;
  auto ex = make_executor();
  auto t1 = make_task(switcher_kind::asm_switch);
  const int fds_before = count_fds();
  int done = 0;
  t1->set_body([&](task& t) -> result<std::int64_t> {
    auto l = net::listen_on(t, listen_address(family::v4), 64);
    if (!l) return failure(l.error());
    net::socket ls = *l;
    const net::address a = *net::local_address(t, ls);
    net::accept_stream acc(ls);
    for (int i = 0; i < cycles; ++i) {
      auto c = net::connect_to(t, a, 10s);
      if (!c) return failure(c.error());
      auto s = acc.next(t, 10s);
      if (!s) return failure(s.error());
      net::socket x = *c, y = *s;
      PRIO_TRY(net::close(t, y));  // server side first: TIME_WAIT stays on its side
      PRIO_TRY(net::close(t, x));
      ++done;
    }
    PRIO_TRY(acc.stop(t));
    PRIO_TRY(net::close(t, ls));
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t1));
  drive(*ex, [&] { return t1->state() == task_state::completed; });
  EXPECT_TRUE(t1->outcome()) << t1->outcome().error().message();
  EXPECT_EQ(done, cycles);
  EXPECT_EQ(count_fds(), fds_before);
}

// Nine clients echo while a tenth connects and never sends: all nine
// finish while the stalled connection's handler is still waiting.
TEST(SocketRobustness, StalledClientDoesNotDelayOthers) {
  constexpr int n = 10;
  auto ex = make_executor();
  int sv[n][2];
  std::vector<std::unique_ptr<task>> handlers, clients;
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv[i]), 0);
    handlers.push_back(make_task(switcher_kind::asm_switch));
    handlers.back()->set_body([&, i](task& t) -> result<std::int64_t> {
      for (int r = 0; r < 5; ++r) PRIO_TRY(echo_once(t, net::socket{sv[i][0], -1}, 16));
      return std::int64_t{0};
    });
    ASSERT_TRUE(ex->attach(*handlers.back()));
  }
  for (int i = 1; i < n; ++i) {  // client 0 is the stalled one
    clients.push_back(make_task(switcher_kind::coroutine));
    clients.back()->set_body([&, i](task& t) -> co<result<std::int64_t>> {
      const net::socket s{sv[i][1], -1};
      for (int r = 0; r < 5; ++r) {
        auto w = co_await net::async_send_all(t, s, bytes("0123456789abcdef"));
        if (!w) co_return failure(w.error());
        auto m = co_await async_recv_exact(t, s, 16);
        if (!m) co_return failure(m.error());
      }
      co_return std::int64_t{0};
    });
    ASSERT_TRUE(ex->attach(*clients.back()));
  }
  ASSERT_EQ(::send(sv[0][1], "partial", 7, 0), 7);  // the stalled client sends half a message
  drive(*ex, [&] { return all_completed(clients); });
  for (auto& c : clients) EXPECT_TRUE(c->outcome());
  for (int i = 1; i < n; ++i) EXPECT_EQ(handlers[i]->state(), task_state::completed);
  EXPECT_EQ(handlers[0]->state(), task_state::suspended_io);  // still waiting, alone
  ::shutdown(sv[0][1], SHUT_WR);  // end it: its handler sees EOF (EPIPE from recv_exact)
  drive(*ex, [&] { return handlers[0]->state() == task_state::completed; });
  EXPECT_FALSE(handlers[0]->outcome());
  for (auto& p : sv) {
    ::close(p[0]);
    ::close(p[1]);
  }
}

TEST(SocketRobustness, ThousandConcurrentConnections) {
  constexpr int n = 1000;
  rlimit rl{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
  const rlimit saved = rl;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &rl), 0);
  }
  if (rl.rlim_cur < 2 * n + 256) GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << rl.rlim_max << " is below " << 2 * n + 256;
  auto ex = make_executor({.ring_entries = 1024, .fixed_files = 2 * n + 64});
  ASSERT_EQ(ex->fixed_file_slots(), static_cast<unsigned>(2 * n + 64));
  auto acceptor = make_task(switcher_kind::asm_switch);
  std::vector<std::unique_ptr<task>> handlers, clients;
  std::vector<net::socket> conns(n);
  net::address bound;
  int open_now = 0, open_max = 0, echoed = 0;
  std::vector<task*> parked;
  for (int i = 0; i < n; ++i) {
    handlers.push_back(make_task(switcher_kind::coroutine));
    handlers.back()->set_body([&, i](task& t) -> co<result<std::int64_t>> {
      auto m = co_await async_recv_exact(t, conns[i], 8);
      if (m) (void)co_await net::async_send_all(t, conns[i], bytes(*m));
      char b[1];
      auto eof = co_await net::async_recv(t, conns[i], std::as_writable_bytes(std::span<char>(b)));
      EXPECT_TRUE(eof && *eof == 0);
      (void)co_await net::async_close(t, conns[i]);
      co_return std::int64_t{m ? 0 : -1};
    });
    clients.push_back(make_task(switcher_kind::coroutine));
    clients.back()->set_body([&](task& t) -> co<result<std::int64_t>> {
      auto c = co_await net::async_connect_to(t, bound, 10s);
      if (!c) co_return failure(c.error());
      open_max = std::max(open_max, ++open_now);
      net::socket s = *c;
      (void)co_await net::async_send_all(t, s, bytes("12345678"));
      auto m = co_await async_recv_exact(t, s, 8);
      EXPECT_TRUE(m && *m == "12345678");
      if (++echoed < n) {  // hold the connection open until all n are
        parked.push_back(&t);
        (void)co_await task::awaiter(t, task_state::suspended_other, 0);
      } else {
        for (task* p : parked) t.current_executor()->resume_waiter(*p);
      }
      --open_now;
      co_return (co_await net::async_close(t, s)) ? std::int64_t{0} : std::int64_t{-1};
    });
  }
  acceptor->set_body([&](task& t) -> result<std::int64_t> {
    auto l = net::listen_on(t, listen_address(family::v4), 4096);
    if (!l) return failure(l.error());
    net::socket ls = *l;
    bound = *net::local_address(t, ls);
    for (auto& c : clients) EXPECT_TRUE(t.current_executor()->attach(*c));
    net::accept_stream acc(ls, 64);
    for (int i = 0; i < n; ++i) {
      auto s = acc.next(t, 10s);
      if (!s) return failure(s.error());
      conns[i] = *s;
      EXPECT_TRUE(t.current_executor()->attach(*handlers[i]));
    }
    PRIO_TRY(acc.stop(t));
    PRIO_TRY(net::close(t, ls));
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*acceptor));
  drive(*ex, [&] { return acceptor->state() == task_state::completed && all_completed(clients) && all_completed(handlers); });
  EXPECT_TRUE(acceptor->outcome());
  for (auto& c : clients) EXPECT_TRUE(c->outcome());
  for (auto& h : handlers) EXPECT_TRUE(h->outcome());
  EXPECT_EQ(open_max, n);
  ::setrlimit(RLIMIT_NOFILE, &saved);
}

}  // namespace
}  // namespace prio::test
