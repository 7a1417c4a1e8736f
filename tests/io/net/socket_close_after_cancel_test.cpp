// Description: a cancelled task still releases its sockets. Cancellation
// makes every later wait of the run fail with ECANCELED, so a body unwinds
// into its cleanup; the close there must still close the regular fd and
// empty the fixed-file slot (a refused close would leak both for as long as
// the process, or the executor, lives). Stackful and coroutine bodies, the
// cancel coming from the task itself or from cancel_all() while it waits,
// an accept stream stopped in a cancelled task, and adopt() refused in one
// (the fd stays the caller's).
#include <fcntl.h>
#include <sys/socket.h>

#include "net_helpers.hpp"
#include "prio/io/accept_stream.hpp"

namespace prio::test {
namespace {

bool fd_closed(int fd) { return ::fcntl(fd, F_GETFD) == -1 && errno == EBADF; }

// An executor with one fixed-file slot: a slot that was not emptied makes
// the next direct socket fail with ENFILE.
std::unique_ptr<executor> one_slot_executor() {
  executor_options o;
  o.ring_entries = 64;
  o.fixed_files = 1;
  return make_executor(o);
}

// shared_socket(): a socket with both a slot and a regular fd (socketpair's
// end adopted with adopt_mode::share), so one close must release both.
result<net::socket> shared_socket(task& t, int fd) { return net::adopt(t, fd, net::adopt_mode::share); }

// cleanup: what a body's cleanup after its cancelled receive saw.
struct cleanup {
  std::error_code recv_error, close_error{errno_error(EINPROGRESS)};
  bool closed = false;  // the regular fd, right after the close
  void expect_released() const {
    EXPECT_EQ(recv_error, std::errc::operation_canceled);
    EXPECT_FALSE(close_error) << close_error.message();
    EXPECT_TRUE(closed) << "the regular fd stayed open";
  }
};

// run_cancelled(): runs t on ex until it completes; with `while_waiting`,
// cancel_all() once t waits for its I/O (else t cancels itself).
void run_cancelled(executor& ex, task& t, bool while_waiting) {
  ASSERT_TRUE(ex.attach(t));
  if (while_waiting) {
    drive(ex, [&] { return t.state() == task_state::suspended_io; });
    ASSERT_TRUE(ex.cancel_all());
  }
  drive(ex, [&] { return t.state() == task_state::completed; });
}

class CloseAfterCancel : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(CloseAfterCancel, SelfCancelledTaskClosesFdAndSlot) {
  auto ex = one_slot_executor();
  int sp[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
  ::close(sp[1]);
  auto t = make_task(GetParam());
  std::error_code close_error{errno_error(EINPROGRESS)};
  bool closed_before_return = false;
  t->set_body([&](task& self) -> result<std::int64_t> {
    auto s = shared_socket(self, sp[0]);
    if (!s) return failure(s.error());
    EXPECT_TRUE(self.cancel());
    EXPECT_EQ(net::recv(self, *s, std::span<std::byte>()).error(), std::errc::operation_canceled);
    auto c = net::close(self, *s);
    close_error = c ? std::error_code{} : c.error();
    closed_before_return = fd_closed(sp[0]);
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_FALSE(close_error) << close_error.message();
  EXPECT_TRUE(closed_before_return) << "the regular fd stayed open";

  // The slot is free again: a direct socket takes it.
  auto probe = make_task(GetParam());
  result<net::socket> next = failure(errno_error(EINPROGRESS));
  bool next_fixed = false;
  probe->set_body([&](task& self) -> result<std::int64_t> {
    next = net::open_socket(self, AF_INET, SOCK_STREAM);
    if (next) {
      next_fixed = next->fixed();
      EXPECT_TRUE(net::close(self, *next));
    }
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*probe));
  drive(*ex, [&] { return probe->state() == task_state::completed; });
  ASSERT_TRUE(next) << next.error().message();
  EXPECT_TRUE(next_fixed);
}

TEST_P(CloseAfterCancel, CancelAllDuringRecvThenCloseReleases) {
  auto ex = one_slot_executor();
  int sp[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
  auto t = make_task(GetParam());
  cleanup seen;
  t->set_body([&](task& self) -> result<std::int64_t> {
    auto s = shared_socket(self, sp[0]);
    if (!s) return failure(s.error());
    std::byte buf[16];
    auto r = net::recv(self, *s, buf);  // nothing is ever sent: only the cancel ends it
    seen.recv_error = r ? std::error_code{} : r.error();
    auto c = net::close(self, *s);
    seen.close_error = c ? std::error_code{} : c.error();
    seen.closed = fd_closed(sp[0]);
    return std::int64_t{0};
  });
  run_cancelled(*ex, *t, true);
  ::close(sp[1]);
  seen.expect_released();
}

// adopt() in a cancelled task is refused and leaves the fd the caller's,
// open, with no slot taken.
TEST_P(CloseAfterCancel, AdoptRefusedLeavesTheFdOpen) {
  auto ex = one_slot_executor();
  int sp[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
  auto t = make_task(GetParam());
  std::error_code adopt_error;
  t->set_body([&](task& self) -> result<std::int64_t> {
    EXPECT_TRUE(self.cancel());
    auto s = net::adopt(self, sp[0]);
    adopt_error = s ? std::error_code{} : s.error();
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_EQ(adopt_error, std::errc::operation_canceled);
  EXPECT_FALSE(fd_closed(sp[0]));
  ASSERT_EQ(::send(sp[1], "x", 1, 0), 1);  // the pair still works
  char c = 0;
  EXPECT_EQ(::recv(sp[0], &c, 1, 0), 1);
  auto probe = make_task(GetParam());
  result<net::socket> next = failure(errno_error(EINPROGRESS));
  probe->set_body([&](task& self) -> result<std::int64_t> {
    next = net::adopt(self, sp[0]);  // the one slot is free
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*probe));
  drive(*ex, [&] { return probe->state() == task_state::completed; });
  ASSERT_TRUE(next) << next.error().message();
  EXPECT_TRUE(fd_closed(sp[0]));  // transferred into the ring
  ::close(sp[1]);
}

INSTANTIATE_TEST_SUITE_P(Stackful, CloseAfterCancel, ::testing::ValuesIn(stackful), kind_name);

co<result<std::int64_t>> coro_close_after_cancel(task& self, int fd, bool self_cancel, cleanup& seen) {
  auto s = co_await net::async_adopt(self, fd, net::adopt_mode::share);
  if (!s) co_return failure(s.error());
  if (self_cancel) {
    EXPECT_TRUE(self.cancel());
  }
  std::byte buf[16];
  auto r = co_await net::async_recv(self, *s, buf);
  seen.recv_error = r ? std::error_code{} : r.error();
  auto c = co_await net::async_close(self, *s);
  seen.close_error = c ? std::error_code{} : c.error();
  seen.closed = fd_closed(fd);
  co_return std::int64_t{0};
}

TEST(CloseAfterCancelCoroutine, SelfCancelledAndCancelledWhileWaiting) {
  for (bool self_cancel : {true, false}) {
    SCOPED_TRACE(self_cancel ? "cancelled by itself" : "cancelled by cancel_all() in recv");
    auto ex = one_slot_executor();
    int sp[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    auto t = make_task(switcher_kind::coroutine);
    cleanup seen;
    t->set_body([&](task& self) { return coro_close_after_cancel(self, sp[0], self_cancel, seen); });
    run_cancelled(*ex, *t, !self_cancel);
    ::close(sp[1]);
    seen.expect_released();
  }
}

// An acceptor cancelled with connections still queued in its stream: stop()
// closes them (each accepted socket is a slot), and the listener closes too
// (a regular fd and a slot). Four slots: the listener and three accepted;
// afterwards all four are free again.
TEST(CloseAfterCancelStream, StoppedStreamClosesQueuedSockets) {
  executor_options o;
  o.fixed_files = 4;
  auto ex = make_executor(o);
  const int fds_before = count_fds();
  auto t = make_task(switcher_kind::asm_switch);
  net::address bound;
  std::vector<int> clients;
  std::size_t queued = 0;
  std::error_code stop_error{errno_error(EINPROGRESS)}, close_error{errno_error(EINPROGRESS)};
  t->set_body([&](task& self) -> result<std::int64_t> {
    auto l = net::listen_on(self, listen_address(family::v4), 16);
    if (!l) return failure(l.error());
    net::socket ls = *l;
    bound = *net::local_address(self, ls);
    for (int i = 0; i < 3; ++i) {
      const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      EXPECT_EQ(::connect(c, bound.get(), bound.size()), 0);  // completes through the backlog
      clients.push_back(c);
    }
    net::accept_stream stream(ls, 8);
    auto first = stream.next(self, 10s);
    EXPECT_TRUE(first);
    if (first) {
      EXPECT_TRUE(net::close(self, *first));
    }
    // Let the other two arrive in the stream before the cancel.
    for (int i = 0; i < 100 && stream.queued() < 2; ++i) (void)self.yield();
    queued = stream.queued();
    EXPECT_TRUE(self.cancel());
    auto st = stream.stop(self);
    stop_error = st ? std::error_code{} : st.error();
    auto c = net::close(self, ls);
    close_error = c ? std::error_code{} : c.error();
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  for (int c : clients) ::close(c);
  EXPECT_EQ(queued, 2u);
  EXPECT_FALSE(stop_error) << stop_error.message();
  EXPECT_FALSE(close_error) << close_error.message();
  EXPECT_EQ(count_fds(), fds_before) << "a socket stayed open";

  auto probe = make_task(switcher_kind::asm_switch);
  int opened = 0;
  probe->set_body([&](task& self) -> result<std::int64_t> {
    net::socket s[4];
    for (auto& one : s) {
      auto r = net::open_socket(self, AF_INET, SOCK_STREAM);
      if (!r || !r->fixed()) break;
      one = *r;
      ++opened;
    }
    for (auto& one : s) {
      if (one.valid()) {
        EXPECT_TRUE(net::close(self, one));
      }
    }
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*probe));
  drive(*ex, [&] { return probe->state() == task_state::completed; });
  EXPECT_EQ(opened, 4) << "a fixed-file slot stayed taken";
}

}  // namespace
}  // namespace prio::test
