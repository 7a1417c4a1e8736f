// Description: kernel-provided receive buffers: the kernel picks a buffer
// per receive, the task releases it, and exhaustion (ENOBUFS) is waited out
// until a buffer comes back instead of surfacing as an error; a second
// release of a buffer is refused.
#include "net_helpers.hpp"
#include "prio/io/provided_buffers.hpp"

#include <set>
#include <string>
#include <vector>

namespace prio::test {
namespace {

// A connected socketpair with both ends adopted into the ring.
struct pair_fds {
  int sv[2] = {-1, -1};
  pair_fds() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0); }
  ~pair_fds() {
    for (int fd : sv)
      if (fd >= 0) ::close(fd);
  }
};

TEST(ProvidedBuffers, ReceiveAndRelease) {
  auto ex = make_executor();
  pair_fds p;
  auto t1 = make_task(switcher_kind::asm_switch);
  t1->set_body([&](task& t) -> result<std::int64_t> {
    auto pool = net::provided_buffers::create(*t.current_executor(), {.count = 4, .buffer_size = 64, .group = 3});
    EXPECT_TRUE(pool) << pool.error().message();
    if (!pool) return failure(pool.error());
    net::socket s{p.sv[0], -1};
    std::set<std::uint16_t> ids;
    for (int i = 0; i < 8; ++i) {  // twice the pool: buffers are recycled
      const std::string msg = "msg" + std::to_string(i);
      EXPECT_EQ(::send(p.sv[1], msg.data(), msg.size(), 0), static_cast<ssize_t>(msg.size()));
      auto lease = net::recv_select(t, s, **pool);
      EXPECT_TRUE(lease) << lease.error().message();
      if (!lease) break;
      EXPECT_TRUE(lease->holds_buffer());
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(lease->data().data()), lease->size()), msg);
      EXPECT_EQ((*pool)->leased(), 1u);
      ids.insert(lease->id());
    }  // each lease released as it goes out of scope
    EXPECT_EQ((*pool)->leased(), 0u);
    EXPECT_EQ(ids.size(), 4u);  // every buffer of the ring was used
    ::shutdown(p.sv[1], SHUT_WR);
    auto eof = net::recv_select(t, s, **pool);
    EXPECT_TRUE(eof && eof->size() == 0);
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t1));
  drive(*ex, [&] { return t1->state() == task_state::completed; });
  EXPECT_TRUE(t1->outcome());
}

// A buffer released twice is refused: the ring would hold it twice and two
// receives held at once could get the same buffer.
TEST(ProvidedBuffers, SecondReleaseIsRefused) {
  auto ex = make_executor();
  pair_fds p;
  auto t1 = make_task(switcher_kind::asm_switch);
  std::string err;
  t1->set_body([&](task& t) -> result<std::int64_t> {
    auto pool = net::provided_buffers::create(*t.current_executor(), {.count = 4, .buffer_size = 64, .group = 5});
    if (!pool) return failure(pool.error());
    net::socket s{p.sv[0], -1};
    auto receive = [&](const std::string& msg) {
      EXPECT_EQ(::send(p.sv[1], msg.data(), msg.size(), 0), static_cast<ssize_t>(msg.size()));
      return net::recv_select(t, s, **pool);
    };
    std::uint16_t twice = 0;
    {
      auto a = receive("a");
      auto b = receive("b");  // held meanwhile: the count alone cannot tell
      if (!a || !b) return failure(errno_error(EIO));
      twice = a->id();
      ::testing::internal::CaptureStderr();
      (*pool)->release(twice);
      (*pool)->release(twice);  // refused
      (*pool)->release(999);    // not one of ours: refused
      EXPECT_EQ((*pool)->leased(), 1u) << "b is still leased";
    }  // a's own release comes third (refused as well); b's is taken
    err = ::testing::internal::GetCapturedStderr();
    std::vector<net::buffer_lease> held;  // the whole pool at once: four distinct buffers
    std::set<std::uint16_t> ids;
    for (int i = 0; i < 4; ++i) {
      auto l = receive("m" + std::to_string(i));
      if (!l) return failure(l.error());
      ids.insert(l->id());
      held.push_back(std::move(*l));
    }
    EXPECT_EQ(ids.size(), 4u);
    EXPECT_EQ((*pool)->leased(), 4u);
    held.clear();
    EXPECT_EQ((*pool)->leased(), 0u);
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t1));
  drive(*ex, [&] { return t1->state() == task_state::completed; });
  ASSERT_TRUE(t1->outcome()) << t1->outcome().error().message();
  EXPECT_NE(err.find("released while not leased"), std::string::npos) << err;
}

// Two buffers, three receivers: the third waits (no error) until a lease is
// released, then receives. Both forms: stackful and coroutine receivers.
TEST(ProvidedBuffers, ExhaustionWaitsForRelease) {
  auto ex = make_executor();
  pair_fds p[3];
  std::unique_ptr<net::provided_buffers> pool;
  std::vector<net::buffer_lease> held;
  std::vector<std::string> got;
  auto setup = make_task(switcher_kind::asm_switch);
  setup->set_body([&](task& t) -> result<std::int64_t> {
    auto r = net::provided_buffers::create(*t.current_executor(), {.count = 2, .buffer_size = 32});
    if (!r) return failure(r.error());
    pool = std::move(*r);
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*setup));
  drive(*ex, [&] { return setup->state() == task_state::completed; });
  ASSERT_TRUE(pool);
  std::vector<std::unique_ptr<task>> rx;
  for (int i = 0; i < 3; ++i) {
    const bool coro = i == 2;
    rx.push_back(make_task(coro ? switcher_kind::coroutine : switcher_kind::asm_switch));
    net::socket s{p[i].sv[0], -1};
    if (coro) {
      rx.back()->set_body([&, s](task& t) -> co<result<std::int64_t>> {
        auto lease = co_await net::async_recv_select(t, s, *pool, 0, 10s);
        EXPECT_TRUE(lease) << lease.error().message();
        if (!lease) co_return failure(lease.error());
        got.emplace_back(reinterpret_cast<const char*>(lease->data().data()), lease->size());
        held.push_back(std::move(*lease));
        co_return std::int64_t{0};
      });
    } else {
      rx.back()->set_body([&, s](task& t) -> result<std::int64_t> {
        auto lease = net::recv_select(t, s, *pool, 0, 10s);
        EXPECT_TRUE(lease) << lease.error().message();
        if (!lease) return failure(lease.error());
        got.emplace_back(reinterpret_cast<const char*>(lease->data().data()), lease->size());
        held.push_back(std::move(*lease));
        return std::int64_t{0};
      });
    }
    ASSERT_TRUE(ex->attach(*rx.back()));
  }
  ASSERT_TRUE(ex->run(3, 0ns));  // all three receives in flight
  for (int i = 0; i < 3; ++i) ASSERT_EQ(::send(p[i].sv[1], "data", 4, 0), 4);
  // Two receivers get the two buffers; the third hits ENOBUFS and waits.
  auto waiting = [&] {
    int n = 0;
    for (auto& t : rx) n += t->state() == task_state::suspended_other;
    return n;
  };
  drive(*ex, [&] { return held.size() == 2 && waiting() == 1; });
  EXPECT_EQ(pool->leased(), 2u);  // the third is queued for a buffer, not failed
  held.erase(held.begin());  // release one: the waiter is resumed and receives
  drive(*ex, [&] { return all_completed(rx); });
  for (auto& t : rx) EXPECT_TRUE(t->outcome());
  EXPECT_EQ(got, (std::vector<std::string>{"data", "data", "data"}));
  held.clear();
  EXPECT_EQ(pool->leased(), 0u);
  // The pool is destroyed on the bound thread (this one: run() bound it).
  pool.reset();
}

// A receive waiting for a buffer honours its timeout: ETIME, not ENOBUFS.
TEST(ProvidedBuffers, ExhaustedWaitTimesOut) {
  auto ex = make_executor();
  pair_fds p;
  auto t1 = make_task(switcher_kind::asm_switch);
  t1->set_body([&](task& t) -> result<std::int64_t> {
    auto pool = net::provided_buffers::create(*t.current_executor(), {.count = 1, .buffer_size = 16});
    if (!pool) return failure(pool.error());
    net::socket s{p.sv[0], -1};
    EXPECT_EQ(::send(p.sv[1], "ab", 2, 0), 2);
    auto first = net::recv_select(t, s, **pool);
    EXPECT_TRUE(first);
    EXPECT_EQ(::send(p.sv[1], "cd", 2, 0), 2);
    auto second = net::recv_select(t, s, **pool, 0, 20ms);
    EXPECT_FALSE(second);
    if (!second) {
      EXPECT_EQ(second.error(), std::errc::stream_timeout) << second.error().message();  // ETIME
    }
    first->release();
    auto third = net::recv_select(t, s, **pool, 0, 10s);  // the data was left in the socket
    EXPECT_TRUE(third && third->size() == 2);
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t1));
  drive(*ex, [&] { return t1->state() == task_state::completed; });
  EXPECT_TRUE(t1->outcome());
}

TEST(ProvidedBuffers, BadOptionsAndWrongThread) {
  auto ex = make_executor();
  // Not bound yet: no run() has happened on any thread.
  EXPECT_EQ(net::provided_buffers::create(*ex).error(), errc::not_on_executor);
  ASSERT_FALSE(ex->run(1, 0ns));  // binds this thread (nothing to do: ETIME)
  EXPECT_EQ(net::provided_buffers::create(*ex, {.count = 3}).error(), std::errc::invalid_argument);
  EXPECT_EQ(net::provided_buffers::create(*ex, {.count = 4, .buffer_size = 0}).error(),
            std::errc::invalid_argument);
  auto a = net::provided_buffers::create(*ex, {.count = 4, .group = 9});
  ASSERT_TRUE(a);
  EXPECT_EQ(net::provided_buffers::create(*ex, {.count = 4, .group = 9}).error(), std::errc::file_exists);
  auto compute = make_executor({.ring_entries = 0});
  EXPECT_EQ(net::provided_buffers::create(*compute).error(), std::errc::operation_not_supported);
}

// A group id names a buffer group of one ring: a pool of executor a used
// by a task on executor b (which has its own group of that id) is refused
// before anything is submitted, so b's kernel never hands out one of b's
// buffers to be read as one of a's, and the bytes stay for b's own pool.
TEST(ProvidedBuffers, PoolOfAnotherExecutorIsRefused) {
  auto a = make_executor();
  auto b = make_executor();
  ASSERT_FALSE(a->run(1, 0ns));  // bind both to this thread
  ASSERT_FALSE(b->run(1, 0ns));
  auto pool_a = net::provided_buffers::create(*a, {.count = 4, .buffer_size = 64, .group = 7});
  auto pool_b = net::provided_buffers::create(*b, {.count = 4, .buffer_size = 64, .group = 7});
  ASSERT_TRUE(pool_a && pool_b);
  pair_fds p;
  ASSERT_EQ(::send(p.sv[1], "for-b", 5, 0), 5);
  std::error_code refused, refused_co;
  std::string got;
  auto t = make_task(switcher_kind::asm_switch);
  t->set_body([&](task& self) -> result<std::int64_t> {
    net::socket s{p.sv[0], -1};
    auto wrong = net::recv_select(self, s, **pool_a, 0, 10s);
    if (!wrong) refused = wrong.error();
    auto right = net::recv_select(self, s, **pool_b, 0, 10s);
    if (!right) return failure(right.error());
    got.assign(reinterpret_cast<const char*>(right->data().data()), right->data().size());
    return std::int64_t{0};
  });
  ASSERT_TRUE(b->attach(*t));
  drive(*b, [&] { return t->state() == task_state::completed; });
  ASSERT_TRUE(t->outcome()) << t->outcome().error().message();
  EXPECT_EQ(refused, std::errc::invalid_argument);
  EXPECT_EQ(got, "for-b");
  EXPECT_EQ((*pool_a)->leased(), 0u);

  auto c = make_task(switcher_kind::coroutine);
  c->set_body([&](task& self) -> co<result<std::int64_t>> {
    net::socket s{p.sv[0], -1};
    auto wrong = co_await net::async_recv_select(self, s, **pool_a, 0, 10s);
    if (!wrong) refused_co = wrong.error();
    co_return std::int64_t{0};
  });
  ASSERT_TRUE(b->attach(*c));
  drive(*b, [&] { return c->state() == task_state::completed; });
  EXPECT_EQ(refused_co, std::errc::invalid_argument);
}

}  // namespace
}  // namespace prio::test
