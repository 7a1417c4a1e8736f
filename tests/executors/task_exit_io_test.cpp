// Description: a task that returns with I/O still in flight (NOPs, kernel
// timeouts, reads that never complete) has it cancelled and drained before it
// counts as completed; the process never aborts and the task can run again.
#include "exec_helpers.hpp"
#include "prio/io/nop.hpp"

#include <cerrno>
#include <string>

namespace prio::test {
namespace {

class TaskExitIo : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(TaskExitIo, ReturnsWithOperationsOutstanding) {
  auto ex = make_executor();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto t = make_task(GetParam());
  // Kept outside the body: the operations outlive the body's frame.
  static io_status nops[16], timeouts[4], reads[4];
  static __kernel_timespec long_ts{3600, 0};
  static char buf[4][8];
  t->set_body([&](task& self) -> result<std::int64_t> {
    for (auto& st : nops) PRIO_TRY(initiate_nop(self, st));
    for (auto& st : timeouts)
      PRIO_TRY(initiate(self, st, [](io_uring_sqe* sqe) { io_uring_prep_timeout(sqe, &long_ts, 0, 0); }));
    for (int i = 0; i < 4; ++i)
      PRIO_TRY(initiate(self, reads[i], [&, i](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fds[0], buf[i], 8, 0); }));
    (void)self.suspend_for(1h);  // cancelled below: returns ECANCELED at once
    return std::int64_t{3};
  });
  // The body sleeps on a timer with 24 operations in flight; cancelling the
  // sleep makes it return with all of them outstanding.
  ASSERT_TRUE(ex->attach(*t));
  ASSERT_TRUE(ex->run(1, 0ns));
  ASSERT_EQ(t->state(), task_state::suspended_timer);
  EXPECT_EQ(t->io_in_flight(), 24u);
  ASSERT_TRUE(t->cancel());
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_EQ(ex->stats().io_in_flight, 0u);
  EXPECT_EQ(t->io_in_flight(), 0u);
  for (auto& st : reads) EXPECT_EQ(st.state, io_state::reaped);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_P(TaskExitIo, PlainReturnWithReadsInFlight) {
  auto ex = make_executor();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto t = make_task(GetParam());
  static io_status reads[100];
  static char buf[100][4];
  for (int run = 0; run < 3; ++run) {
    t->set_body([&](task& self) -> result<std::int64_t> {
      for (int i = 0; i < 100; ++i)
        PRIO_TRY(initiate(self, reads[i], [&, i](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fds[0], buf[i], 4, 0); }));
      return std::int64_t{100};
    });
    ASSERT_TRUE(ex->attach(*t));
    drive(*ex, [&] { return t->state() == task_state::completed; });
    ASSERT_TRUE(t->outcome());
    EXPECT_EQ(*t->outcome(), 100);
    EXPECT_EQ(ex->stats().io_in_flight, 0u);
  }
  // Nothing can arrive later for the finished task: the pipe stays empty and
  // a write now completes nobody.
  ASSERT_EQ(::write(fds[1], "abcd", 4), 4);
  EXPECT_FALSE(ex->run(SIZE_MAX, 1ms));
  ::close(fds[0]);
  ::close(fds[1]);
}

// An io_status that completed and goes out of scope unreaped leaves its
// task's completed list: the next suspend_until_completed_io() hands out
// the live one, and finishing the task never walks a dead record (the
// body's later calls overwrite that stack memory).
TEST_P(TaskExitIo, CompletedUnreapedStatusLeavesWithItsScope) {
  auto ex = make_executor();
  auto t = make_task(GetParam());
  io_status outer;
  io_status* handed = nullptr;
  t->set_body([&](task& self) -> result<std::int64_t> {
    {
      io_status inner;
      PRIO_TRY(initiate_nop(self, inner));
      PRIO_TRY(wait_io(self, inner));  // completed, still on the completed list
      EXPECT_EQ(inner.state, io_state::completed);
    }
    volatile unsigned char scribble[512];
    for (auto& b : scribble) b = 0xa5;
    PRIO_TRY(initiate_nop(self, outer));
    auto r = self.suspend_until_completed_io();
    if (!r) return failure(r.error());
    handed = *r;
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  ASSERT_TRUE(t->outcome());
  EXPECT_EQ(handed, &outer);
  EXPECT_EQ(outer.state, io_state::reaped);
}

// left_read: the two cases below leave a pipe read in flight in a dead
// frame, then write "hello" and read it with a new operation.
struct left_read {
  std::unique_ptr<executor> ex = make_executor();
  test_pipe p;
  std::size_t in_flight_after = 99;  // the task's I/O in flight once the frame is gone
  std::string got;                   // what the later read received
  // read_into(buf): a prep reading up to 8 bytes of the pipe into buf.
  auto read_into(char* buf) const {
    return [fd = p.read_end(), buf](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fd, buf, 8, 0); };
  }
  bool write_hello() const { return ::write(p.write_end(), "hello", 5) == 5; }
  // run() runs t to completion; the abandoned read was cancelled before it
  // took any data: nothing in flight after the frame, "hello" read whole.
  void run(task& t) {
    ASSERT_TRUE(ex->attach(t));
    drive(*ex, [&] { return t.state() == task_state::completed; });
    ASSERT_TRUE(t.outcome()) << t.outcome().error().message();
    EXPECT_EQ(in_flight_after, 0u);
    EXPECT_EQ(got, "hello");
    EXPECT_EQ(ex->stats().abandoned_io, 1u);
    EXPECT_EQ(ex->stats().io_in_flight, 0u);
  }
};

// An io_status that leaves its scope while its read is in flight (a
// function that initiates and returns without waiting) is cancelled and
// waited for by its destructor: nothing stays in flight that points into the
// dead frame, and the read, cancelled before data came, consumed none of it.
TEST_P(TaskExitIo, StatusLeavingItsScopeInFlightIsCancelledFirst) {
  left_read c;
  ASSERT_TRUE(c.p.ok());
  auto t = make_task(GetParam());
  t->set_body([&](task& self) -> result<std::int64_t> {
    {
      io_status st;
      char buf[8];
      PRIO_TRY(initiate(self, st, c.read_into(buf)));
      EXPECT_EQ(self.io_in_flight(), 1u);
    }
    c.in_flight_after = self.io_in_flight();
    volatile unsigned char scribble[512];  // the dead frame's memory, reused
    for (auto& b : scribble) b = 0xa5;
    if (!c.write_hello()) return failure(errno_error(errno));
    char buf[8] = {};
    auto n = perform(self, c.read_into(buf));
    if (!n) return failure(n.error());
    c.got.assign(buf, static_cast<std::size_t>(*n));
    return std::int64_t{0};
  });
  c.run(*t);
}

INSTANTIATE_TEST_SUITE_P(Switchers, TaskExitIo, ::testing::ValuesIn(stackful), kind_name);

// The same from a nested coroutine: its frame (and the io_status and buffer
// in it) is gone once it returns to the body, which then finds nothing in
// flight and its data intact.
co<result<void>> read_and_leave(task& self, const left_read& c) {
  io_status st;
  char buf[8];
  auto r = co_await async_initiate(self, st, c.read_into(buf));
  if (!r) co_return failure(r.error());
  EXPECT_EQ(self.io_in_flight(), 1u);
  co_return success();
}

TEST(TaskExitIo, NestedCoroutineLeavingWithReadInFlight) {
  left_read c;
  ASSERT_TRUE(c.p.ok());
  auto t = make_task(switcher_kind::coroutine);
  t->set_body([&](task& self) -> co<result<std::int64_t>> {
    auto left = co_await read_and_leave(self, c);
    if (!left) co_return failure(left.error());
    c.in_flight_after = self.io_in_flight();
    if (!c.write_hello()) co_return failure(errno_error(errno));
    char buf[8] = {};
    auto n = co_await async_perform(self, c.read_into(buf));
    if (!n) co_return failure(n.error());
    c.got.assign(buf, static_cast<std::size_t>(*n));
    co_return std::int64_t{0};
  });
  c.run(*t);
}

// The same from inside the executor's CQE walk: task a's last CQE completes
// it there, and its on_complete callback destroys the io_status of task b's
// read, still in flight. Its CQEs are picked out of the ring under the walk
// (which must not handle them again, nor a's twice).
TEST(TaskExitIo, StatusDestroyedInFlightByACompletionCallback) {
  auto ex = make_executor();
  test_pipe p;
  ASSERT_TRUE(p.ok());
  struct shared {
    std::unique_ptr<io_status> b_read = std::make_unique<io_status>();
    char buf[8] = {};
    task* b = nullptr;
    std::size_t b_in_flight_after = 99;
    int callbacks = 0;
  } sh;
  auto b = make_task(switcher_kind::asm_switch);
  sh.b = b.get();
  b->set_body([&](task& self) -> result<std::int64_t> {
    PRIO_TRY(initiate(self, *sh.b_read, [&](io_uring_sqe* sqe) {
      io_uring_prep_read(sqe, p.read_end(), sh.buf, 8, 0);
    }));
    return self.suspend_for(1h) ? std::int64_t{0} : std::int64_t{-1};  // cancelled below
  });
  static io_status a_nop;  // outlives a's body: a completes when its CQE is reaped
  auto a = make_task(switcher_kind::asm_switch);
  a->set_body([&](task& self) -> result<std::int64_t> {
    PRIO_TRY(initiate_nop(self, a_nop));
    return std::int64_t{0};
  });
  a->set_on_complete(
      [](task&, void* arg) {
        auto& s = *static_cast<shared*>(arg);
        ++s.callbacks;
        s.b_read.reset();  // in flight: cancelled and waited for here
        s.b_in_flight_after = s.b->io_in_flight();
      },
      &sh);
  ASSERT_TRUE(ex->attach(*b));
  ASSERT_TRUE(ex->run(1, 0ns));
  ASSERT_EQ(b->io_in_flight(), 1u);
  ASSERT_TRUE(ex->attach(*a));
  drive(*ex, [&] { return a->state() == task_state::completed; });
  EXPECT_EQ(sh.callbacks, 1);
  EXPECT_EQ(sh.b_in_flight_after, 0u);
  EXPECT_EQ(ex->stats().abandoned_io, 1u);
  EXPECT_EQ(a_nop.state, io_state::reaped);
  EXPECT_EQ(unsigned{a_nop.pending}, 0u) << "a's CQEs were handled twice";  // (ASan also sees b's handled after free)
  ASSERT_TRUE(b->cancel());
  drive(*ex, [&] { return b->state() == task_state::completed; });
  EXPECT_EQ(ex->stats().io_in_flight, 0u);
  ASSERT_EQ(::write(p.write_end(), "hello", 5), 5);
  char out[8] = {};
  ASSERT_EQ(::read(p.read_end(), out, sizeof(out)), 5);  // the abandoned read took none of it
  EXPECT_EQ(std::string(out, 5), "hello");
}

TEST(TaskExitIo, CoroutineReturnsWithNopsInFlight) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::coroutine);
  static io_status nops[32];
  t->set_body([](task& self) -> co<result<std::int64_t>> {
    for (auto& st : nops) {
      auto r = co_await async_initiate_nop(self, st);
      if (!r) co_return failure(r.error());
    }
    co_return std::int64_t{32};
  });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_EQ(*t->outcome(), 32);
  EXPECT_EQ(ex->stats().io_in_flight, 0u);
}

}  // namespace
}  // namespace prio::test
