// Description: an operation awaited with perform()/async_perform() is on none
// of its task's lists (it is reaped as its task wakes), yet it still counts as
// the task's I/O in flight and is cancelled with the task; wait_io() keeps
// its completion on the completed list for a later reap.
#include "exec_helpers.hpp"
#include "prio/io/nop.hpp"

namespace prio::test {
namespace {

const std::vector<switcher_kind> all_suspending = {switcher_kind::sjlj, switcher_kind::ucontext,
                                                   switcher_kind::asm_switch, switcher_kind::coroutine};

// set_read_body() makes t read up to 8 bytes of fd with perform (or
// async_perform), leaving the result in *got.
void set_read_body(task& t, int fd, char* buf, result<std::int32_t>* got) {
  auto prep = [fd, buf](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fd, buf, 8, 0); };
  if (t.ctx().kind() == switcher_kind::coroutine) {
    t.set_body([prep, got](task& self) -> co<result<std::int64_t>> {
      *got = co_await async_perform(self, prep);
      co_return std::int64_t{0};
    });
  } else {
    t.set_body([prep, got](task& self) -> result<std::int64_t> {
      *got = perform(self, prep);
      return std::int64_t{0};
    });
  }
}

// Each case: a task of the parameter's switcher reading an empty pipe.
class AwaitedIo : public ::testing::TestWithParam<switcher_kind> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(ex && t);
    set_read_body(*t, p.read_end(), buf, &got);
  }
  test_pipe p;
  std::unique_ptr<executor> ex = make_executor();
  std::unique_ptr<task> t = make_task(GetParam());
  char buf[8] = {};
  result<std::int32_t> got = failure(errno_error(EINVAL));
};

TEST_P(AwaitedIo, CountsAsInFlightUntilItsTaskWakes) {
  ASSERT_TRUE(ex->attach(*t));
  ASSERT_TRUE(ex->run(1, 0ns));
  ASSERT_EQ(t->state(), task_state::suspended_io);
  EXPECT_EQ(t->io_in_flight(), 1u);
  EXPECT_EQ(ex->stats().io_in_flight, 1u);
  ASSERT_EQ(::write(p.write_end(), "abc", 3), 3);
  drive(*ex, [&] { return t->state() == task_state::completed; });
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, 3);
  EXPECT_EQ(std::string(buf, 3), "abc");
  EXPECT_EQ(t->io_in_flight(), 0u);
  EXPECT_EQ(ex->stats().io_in_flight, 0u);
  // Reusable: a second run waits and completes the same way.
  ASSERT_TRUE(ex->attach(*t));
  ASSERT_TRUE(ex->run(1, 0ns));
  EXPECT_EQ(t->io_in_flight(), 1u);
  ASSERT_EQ(::write(p.write_end(), "z", 1), 1);
  drive(*ex, [&] { return t->state() == task_state::completed; });
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 1);
  EXPECT_EQ(t->io_in_flight(), 0u);
}

TEST_P(AwaitedIo, CancelledTaskCancelsIt) {
  got = 0;
  ASSERT_TRUE(ex->attach(*t));
  ASSERT_TRUE(ex->run(1, 0ns));
  ASSERT_EQ(t->io_in_flight(), 1u);
  ASSERT_TRUE(t->cancel());
  drive(*ex, [&] { return t->state() == task_state::completed; });
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), std::errc::operation_canceled);
  EXPECT_EQ(t->io_in_flight(), 0u);
  EXPECT_EQ(ex->stats().io_in_flight, 0u);
}

// wait_io() is the many-in-flight style: the completion stays listed until
// the body reaps it (here through a polling suspend_until_completed_io()).
TEST(AwaitedIoWaitIo, CompletionStaysListedUntilReaped) {
  auto ex = make_executor();
  auto t = make_task(switcher_kind::asm_switch);
  io_status st;
  bool listed_after_wait = false;
  result<io_status*> handed = nullptr;
  t->set_body([&](task& self) -> result<std::int64_t> {
    PRIO_TRY(initiate_nop(self, st));
    PRIO_TRY(wait_io(self, st));
    listed_after_wait = st.state == io_state::completed && self.io_in_flight() == 0;
    handed = self.suspend_until_completed_io(0ns);  // listed: handed out at once
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_TRUE(listed_after_wait);
  ASSERT_TRUE(handed);
  EXPECT_EQ(*handed, &st);
  EXPECT_EQ(st.state, io_state::reaped);
}

// wait_io() on an io_status nothing will complete for this task (never
// initiated; another task's read) is EINVAL at once, not a wait forever.
TEST(AwaitedIoWaitIo, NothingToWaitForIsEinval) {
  auto ex = make_executor();
  test_pipe p;
  ASSERT_TRUE(p.ok());
  io_status theirs, never;
  char buf[8];
  auto owner = make_task(switcher_kind::asm_switch);
  owner->set_body([&](task& self) -> result<std::int64_t> {
    PRIO_TRY(initiate(self, theirs, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, p.read_end(), buf, 8, 0); }));
    PRIO_TRY(wait_io(self, theirs));  // its own: waits until cancelled below
    return std::int64_t{0};
  });
  result<void> on_idle = success(), on_theirs = success(), co_idle = success(), co_theirs = success();
  auto stackful = make_task(switcher_kind::asm_switch);
  stackful->set_body([&](task& self) -> result<std::int64_t> {
    on_idle = wait_io(self, never);
    on_theirs = wait_io(self, theirs);
    return std::int64_t{0};
  });
  auto coro = make_task(switcher_kind::coroutine);
  coro->set_body([&](task& self) -> co<result<std::int64_t>> {
    co_idle = co_await async_wait_io(self, never);
    co_theirs = co_await async_wait_io(self, theirs);
    co_return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*owner));
  ASSERT_TRUE(ex->run(1, 0ns));
  ASSERT_EQ(theirs.state, io_state::in_flight);
  ASSERT_TRUE(ex->attach(*stackful));
  ASSERT_TRUE(ex->attach(*coro));
  drive(*ex, [&] { return stackful->state() == task_state::completed && coro->state() == task_state::completed; });
  for (const auto* r : {&on_idle, &on_theirs, &co_idle, &co_theirs}) {
    ASSERT_FALSE(*r);
    EXPECT_EQ(r->error(), std::errc::invalid_argument);
  }
  ASSERT_TRUE(owner->cancel());
  drive(*ex, [&] { return owner->state() == task_state::completed; });
}

INSTANTIATE_TEST_SUITE_P(Switchers, AwaitedIo, ::testing::ValuesIn(all_suspending), kind_name);

// A task that cannot suspend (switcher none, which runs on the executor's
// own stack) gets errc::cannot_suspend from perform() with nothing
// submitted: the pipe's data is there for the next reader, not taken by a
// read whose buffer and record are gone.
TEST(AwaitedIoCannotWait, NoneTaskGetsAnErrorAndLeavesNothingInFlight) {
  auto ex = make_executor();
  test_pipe p;
  ASSERT_TRUE(p.ok());
  auto t = make_task(switcher_kind::none);
  result<std::int32_t> got = 0;
  std::size_t in_flight_after = 99;
  t->set_body([&](task& self) -> result<std::int64_t> {
    char buf[8];
    got = perform(self, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, p.read_end(), buf, 8, 0); });
    in_flight_after = self.io_in_flight();
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), make_error_code(errc::cannot_suspend));
  EXPECT_EQ(in_flight_after, 0u);
  EXPECT_EQ(ex->stats().io_in_flight, 0u);
  EXPECT_EQ(ex->stats().submitted_sqes, 1u);  // the executor's own wake-up read only
  EXPECT_EQ(ex->stats().abandoned_io, 0u);
  ASSERT_EQ(::write(p.write_end(), "abc", 3), 3);
  char out[8] = {};
  ASSERT_EQ(::read(p.read_end(), out, sizeof(out)), 3);
  EXPECT_EQ(std::string(out, 3), "abc");
}

}  // namespace
}  // namespace prio::test
