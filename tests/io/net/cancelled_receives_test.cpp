// Description: receives cut short by cancellation or timeouts lose no data:
// four byte streams (Unix socketpairs and TCP loopback connections, half
// of them moved into the ring's fixed-file table) are written by a plain
// thread in random chunks and read by prio tasks with recv() into buffers
// of random sizes, with and without timeouts, and with recv_select() from
// a pool of four kernel-provided buffers shared by all readers (so
// receives also wait out ENOBUFS). The executor's thread cancels the
// readers at random and attaches them again. Every byte a reader gets must
// be the next one of its stream, and each stream must arrive whole, up to
// its end: a cancelled receive that consumed data but reported ECANCELED,
// or a timed-out one that dropped it, shows as a wrong byte or a stream
// that never completes.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "net_helpers.hpp"
#include "prio/io/provided_buffers.hpp"

namespace prio::test {
namespace {

constexpr int stream_count = 4;
constexpr std::size_t stream_bytes = 2 * 1024 * 1024;

// The byte at position p of stream s: a shifted or repeated chunk shows
// within a few bytes.
std::uint8_t expected_byte(int s, std::size_t p) {
  return static_cast<std::uint8_t>(((p + 1) * 2654435761u + static_cast<unsigned>(s) * 40503u) >> 13);
}

// tcp_pair() is a connected TCP loopback pair made with plain calls.
bool tcp_pair(int fds[2]) {
  const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bool ok = l >= 0 && ::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(l, 1) == 0 &&
            ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  fds[0] = fds[1] = -1;
  if (ok) fds[1] = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ok = ok && fds[1] >= 0 && ::connect(fds[1], reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (ok) fds[0] = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
  if (l >= 0) ::close(l);
  return ok && fds[0] >= 0;
}

struct reader {
  int index = 0;
  net::socket s;
  int write_fd = -1;  // the writer thread's end
  std::unique_ptr<task> t;
  std::mt19937_64 rng;  // the bodies'
  std::size_t pos = 0;  // bytes received so far, all checked
  bool eof = false;
  bool broken = false;  // a wrong byte was seen: drained from then on
  std::vector<std::byte> buf = std::vector<std::byte>(8192);
  int runs = 0, cancelled = 0, timeouts = 0;
};

// take(): check n received bytes against the stream at r.pos. After the
// first wrong byte the stream is only drained (one failure, then the test
// still ends: the writer is not left blocked on it).
void take(reader& r, const std::byte* data, std::size_t n) {
  for (std::size_t i = 0; i < n && !r.broken; ++i)
    if (static_cast<std::uint8_t>(data[i]) != expected_byte(r.index, r.pos + i)) {
      ADD_FAILURE() << "stream " << r.index << ": byte " << r.pos + i << " is " << int(data[i]) << ", expected "
                    << int(expected_byte(r.index, r.pos + i));
      r.broken = true;
    }
  r.pos += n;
  if (r.pos > stream_bytes && !r.broken) {
    ADD_FAILURE() << "stream " << r.index << ": more bytes than were sent";
    r.broken = true;
  }
}

// ended(): whether an error ends the run (ECANCELED; anything else also
// fails the test); ETIME does not.
bool ended(reader& r, const std::error_code& e) {
  if (e == std::errc::timed_out || e == std::error_code(ETIME, std::system_category())) {
    ++r.timeouts;
    return false;
  }
  if (e != std::errc::operation_canceled) ADD_FAILURE() << "stream " << r.index << ": " << e.message();
  return true;
}

result<std::int64_t> reader_body(task& self, reader& r, net::provided_buffers* pool) {
  ++r.runs;
  const int n = 1 + static_cast<int>(r.rng() % 12);
  for (int i = 0; i < n && !r.eof; ++i) {
    const auto timeout = r.rng() % 3 == 0 ? std::chrono::microseconds(1 + r.rng() % 300) : forever;
    if (pool && r.rng() % 3 == 0) {
      auto got = net::recv_select(self, r.s, *pool, 0, timeout);
      if (!got) {
        if (ended(r, got.error())) return failure(got.error());
        continue;
      }
      if (got->size() == 0) r.eof = true;
      take(r, got->data().data(), got->size());
      continue;  // the lease goes back here
    }
    const std::size_t len = 1 + r.rng() % r.buf.size();
    auto got = net::recv(self, r.s, std::span<std::byte>(r.buf.data(), len), 0, timeout);
    if (!got) {
      if (ended(r, got.error())) return failure(got.error());
      continue;
    }
    if (*got == 0) r.eof = true;
    take(r, r.buf.data(), *got);
  }
  return std::int64_t{0};
}

// The writer: every stream in random chunks, round robin, then each
// write side shut down. Blocking writes: the readers drain the streams.
void write_streams(std::vector<std::unique_ptr<reader>>& rs, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::size_t> sent(stream_count, 0);
  std::vector<std::uint8_t> chunk(16384);
  for (bool more = true; more;) {
    more = false;
    for (auto& r : rs) {
      std::size_t& s = sent[static_cast<std::size_t>(r->index)];
      if (s == stream_bytes) continue;
      const std::size_t len = std::min(stream_bytes - s, 1 + rng() % chunk.size());
      for (std::size_t i = 0; i < len; ++i) chunk[i] = expected_byte(r->index, s + i);
      const ssize_t w = ::write(r->write_fd, chunk.data(), len);
      if (w <= 0) {
        ADD_FAILURE() << "writer: " << std::strerror(errno);
        return;
      }
      s += static_cast<std::size_t>(w);
      more = more || s < stream_bytes;
    }
  }
  for (auto& r : rs) ::shutdown(r->write_fd, SHUT_WR);
}

struct CancelledReceives : ::testing::TestWithParam<std::uint64_t> {};

TEST_P(CancelledReceives, EveryByteArrivesOnceInOrder) {
  const std::uint64_t seed = GetParam();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto ex = make_executor({.ring_entries = 16});
  ASSERT_TRUE(ex);
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));  // bind to this thread

  std::vector<std::unique_ptr<reader>> rs;
  std::unique_ptr<net::provided_buffers> pool;
  auto setup = make_task(switcher_kind::asm_switch);
  ASSERT_TRUE(setup);
  setup->set_body([&](task& t) -> result<std::int64_t> {
    auto p = net::provided_buffers::create(*t.current_executor(), {.count = 4, .buffer_size = 1024, .group = 9});
    if (p) pool = std::move(*p);  // else: plain receives only (no buffer rings here)
    for (int i = 0; i < stream_count; ++i) {
      auto r = std::make_unique<reader>();
      r->index = i;
      int fds[2];
      if (i % 2 == 0 ? ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0 : !tcp_pair(fds))
        return failure(errno_error(errno ? errno : EIO));
      r->write_fd = fds[1];
      if (i < 2) {
        r->s = net::socket{fds[0], -1};
      } else {
        auto a = net::adopt(t, fds[0]);
        if (!a) return failure(a.error());
        r->s = *a;
      }
      r->rng.seed(seed * 100 + static_cast<std::uint64_t>(i));
      rs.push_back(std::move(r));
    }
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*setup));
  drive(*ex, [&] { return setup->state() == task_state::completed; });
  ASSERT_TRUE(setup->outcome()) << setup->outcome().error().message();

  const switcher_kind kinds[] = {switcher_kind::sjlj, switcher_kind::ucontext, switcher_kind::asm_switch};
  for (auto& r : rs) {
    r->t = make_task(kinds[rng() % 3], priority::normal, static_cast<priority>(rng() % 3));
    ASSERT_TRUE(r->t);
    reader* rp = r.get();
    net::provided_buffers* pp = pool.get();
    r->t->set_body([rp, pp](task& self) { return reader_body(self, *rp, pp); });
  }

  std::thread writer([&] { write_streams(rs, seed + 1); });
  struct joiner {
    std::thread& t;
    ~joiner() {
      if (t.joinable()) t.join();
    }
  } join_writer{writer};

  // Until every stream has ended: run, cancel, attach again, at random.
  const auto done = [&] {
    for (auto& r : rs)
      if (!r->eof || r->t->state() != task_state::completed) return false;
    return true;
  };
  const auto attach_again = [&](reader& r) {
    const task_state s = r.t->state();
    if ((s != task_state::idle && s != task_state::completed) || r.eof) return;
    if (s == task_state::completed) {
      const auto& o = r.t->outcome();
      EXPECT_TRUE(o || is_cancelled(o)) << "stream " << r.index << ": " << o.error().message();
      if (!o) ++r.cancelled;
    }
    EXPECT_TRUE(ex->attach(*r.t));
  };
  while (!done()) {
    reader& r = *rs[rng() % stream_count];
    const task_state s = r.t->state();
    switch (rng() % 8) {
      case 0:
        if (s != task_state::idle && s != task_state::completed) {
          EXPECT_TRUE(r.t->cancel());
        }
        break;
      case 1:
        attach_again(r);
        break;
      default: {
        // With every unfinished stream's reader attached, the writer cannot
        // be stuck on a stream nobody reads, so run() blocks only until
        // the next receive completes: ten seconds of nothing while a stream
        // is unfinished means lost bytes (or a hang).
        for (auto& x : rs) attach_again(*x);
        auto ran = ex->run(1 + rng() % 4, 10s);
        ASSERT_TRUE(ran || done()) << "no progress for 10 s; received " << rs[0]->pos << ", " << rs[1]->pos
                                   << ", " << rs[2]->pos << ", " << rs[3]->pos << " of " << stream_bytes;
        break;
      }
    }
  }
  writer.join();

  int cancelled = 0, timeouts = 0;
  for (auto& r : rs) {
    EXPECT_EQ(r->pos, stream_bytes) << "stream " << r->index;
    cancelled += r->cancelled;
    timeouts += r->timeouts;
  }
  if (pool) {
    EXPECT_EQ(pool->leased(), 0u);
  }
  ::testing::Test::RecordProperty("cancelled_runs", cancelled);
  ::testing::Test::RecordProperty("timeouts", timeouts);

  // Close the readers' sockets and drop the pool on the bound thread.
  auto teardown = make_task(switcher_kind::asm_switch);
  ASSERT_TRUE(teardown);
  teardown->set_body([&](task& t) -> result<std::int64_t> {
    for (auto& r : rs) {
      EXPECT_TRUE(net::close(t, r->s));
      ::close(r->write_fd);
    }
    pool.reset();
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*teardown));
  drive(*ex, [&] { return teardown->state() == task_state::completed; });
}

INSTANTIATE_TEST_SUITE_P(Seeds, CancelledReceives, ::testing::Values(1, 2, 3, 4));

}  // namespace
}  // namespace prio::test
