// Description: cancel() in every state a task can be in: waiting to launch
// (local and remote queue), runnable, running, suspended on a timer, on I/O,
// on a submission slot; the wait returns ECANCELED and nothing leaks.
#include <atomic>
#include <thread>

#include "exec_helpers.hpp"
#include "prio/io/nop.hpp"

namespace prio::test {
namespace {

// cancel_while_waiting() attaches t, runs it until it waits in state `waiting`,
// cancels it on the executor's thread between runs and drives it to the end.
void cancel_while_waiting(executor& ex, task& t, task_state waiting) {
  ASSERT_TRUE(ex.attach(t));
  ASSERT_TRUE(ex.run(1, 0ns));
  ASSERT_EQ(t.state(), waiting);
  ASSERT_TRUE(t.cancel());
  drive(ex, [&] { return t.state() == task_state::completed; });
}

result<std::int64_t> never_runs(task&) {
  ADD_FAILURE() << "a task cancelled before launch ran";
  return std::int64_t{0};
}

TEST(Cancellation, PendingLocal) {
  auto ex = make_executor();
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));
  auto t = make_task(switcher_kind::asm_switch);
  t->set_body(&never_runs);
  ASSERT_TRUE(ex->attach(*t));
  ASSERT_TRUE(t->cancel());
  EXPECT_EQ(t->state(), task_state::completed);
  EXPECT_TRUE(is_cancelled(t->outcome()));
  EXPECT_FALSE(ex->run(SIZE_MAX, 0ns));  // nothing left to do
}

TEST(Cancellation, PendingInRemoteQueue) {
  auto ex = make_executor();
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));  // bind to this thread
  auto t = make_task(switcher_kind::asm_switch);
  t->set_body(&never_runs);
  std::thread other([&] { ASSERT_TRUE(ex->attach(*t)); });  // lands in the remote queue
  other.join();
  ASSERT_EQ(t->state(), task_state::pending);
  ASSERT_TRUE(t->cancel());  // on the executor's thread, before it drained the queue
  (void)ex->run(SIZE_MAX, 0ns);
  EXPECT_EQ(t->state(), task_state::completed);
  EXPECT_TRUE(is_cancelled(t->outcome()));
}

TEST(Cancellation, CancelWhenNotAttachedIsAnError) {
  auto t = make_task(switcher_kind::asm_switch);
  auto r = t->cancel();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::invalid_argument);
}

class CancelStackful : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(CancelStackful, Runnable) {
  auto ex = make_executor();
  auto t = make_task(GetParam(), priority::low);
  std::error_code seen;
  t->set_body([&](task& self) -> result<std::int64_t> {
    auto r = self.yield();  // runnable while the canceller runs
    if (!r) seen = r.error();
    return std::int64_t{1};
  });
  auto c = make_task(switcher_kind::none, priority::high);
  c->set_body([&](task&) -> result<std::int64_t> {
    EXPECT_EQ(t->state(), task_state::runnable);
    EXPECT_TRUE(t->cancel());
    return std::int64_t{0};
  });
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));
  ASSERT_TRUE(ex->attach(*t));
  ASSERT_TRUE(ex->run(1, 0ns));  // t launches and yields
  ASSERT_TRUE(ex->attach(*c));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_EQ(seen, std::errc::operation_canceled);
}

TEST_P(CancelStackful, RunningNoticedAtNextSuspension) {
  auto ex = make_executor();
  auto t = make_task(GetParam());
  std::error_code first, second;
  t->set_body([&](task& self) -> result<std::int64_t> {
    EXPECT_TRUE(self.cancel());  // cancelled while running
    EXPECT_TRUE(self.cancel_requested());
    auto r = self.suspend_for(1h);
    if (!r) first = r.error();
    r = self.yield();  // sticky until the task completes
    if (!r) second = r.error();
    return std::int64_t{5};
  });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_EQ(first, std::errc::operation_canceled);
  EXPECT_EQ(second, std::errc::operation_canceled);
  EXPECT_EQ(*t->outcome(), 5);
}

TEST_P(CancelStackful, SuspendedOnTimer) {
  auto ex = make_executor();
  auto t = make_task(GetParam());
  std::error_code seen;
  t->set_body([&](task& self) -> result<std::int64_t> {
    auto r = self.suspend_for(1h);
    if (!r) seen = r.error();
    return std::int64_t{0};
  });
  ASSERT_NO_FATAL_FAILURE(cancel_while_waiting(*ex, *t, task_state::suspended_timer));
  EXPECT_EQ(seen, std::errc::operation_canceled);
}

TEST_P(CancelStackful, SuspendedOnIo) {
  auto ex = make_executor();
  auto t = make_task(GetParam());
  std::error_code seen;
  int reads = 0;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  t->set_body([&](task& self) -> result<std::int64_t> {
    char buf[8];
    // A read of an empty pipe never completes by itself.
    auto r = perform(self, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fds[0], buf, sizeof(buf), 0); });
    if (!r) seen = r.error();
    else reads = *r;
    return std::int64_t{0};
  });
  ASSERT_NO_FATAL_FAILURE(cancel_while_waiting(*ex, *t, task_state::suspended_io));
  EXPECT_EQ(seen, std::errc::operation_canceled);
  EXPECT_EQ(reads, 0);
  EXPECT_EQ(ex->stats().io_in_flight, 0u);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_P(CancelStackful, SuspendedWaitingForAnyIo) {
  auto ex = make_executor();
  auto t = make_task(GetParam());
  std::error_code seen;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::size_t completed_after = 0;
  t->set_body([&](task& self) -> result<std::int64_t> {
    char buf[2][8];
    io_status st[2];
    for (int i = 0; i < 2; ++i)
      PRIO_TRY(initiate(self, st[i], [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fds[0], buf[i], 8, 0); }));
    auto r = self.suspend_until_completed_io();
    if (!r) seen = r.error();
    // Both reads are drained: each is reapable now, with ECANCELED.
    while (auto c = self.suspend_until_completed_io(0ns)) {
      if (!*c) break;
      EXPECT_EQ((*c)->res, -ECANCELED);
      ++completed_after;
    }
    return std::int64_t{0};
  });
  ASSERT_NO_FATAL_FAILURE(cancel_while_waiting(*ex, *t, task_state::suspended_io));
  EXPECT_EQ(seen, std::errc::operation_canceled);
  EXPECT_EQ(completed_after, 2u);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_P(CancelStackful, SuspendedWaitingForSlot) {
  // One in-flight slot: the first task's read holds it, the second waits.
  auto ex = make_executor({.ring_entries = 1, .cq_entries = 1});
  ASSERT_EQ(ex->max_in_flight(), 1u);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto holder = make_task(GetParam());
  auto waiter = make_task(GetParam());
  std::error_code holder_seen, waiter_seen;
  char buf[2][8];
  holder->set_body([&](task& self) -> result<std::int64_t> {
    auto r = perform(self, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fds[0], buf[0], 8, 0); });
    if (!r) holder_seen = r.error();
    return std::int64_t{0};
  });
  waiter->set_body([&](task& self) -> result<std::int64_t> {
    auto r = perform(self, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fds[0], buf[1], 8, 0); });
    if (!r) waiter_seen = r.error();
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*holder));
  ASSERT_TRUE(ex->attach(*waiter));
  ASSERT_TRUE(ex->run(2, 0ns));
  ASSERT_EQ(holder->state(), task_state::suspended_io);
  ASSERT_EQ(waiter->state(), task_state::suspended_slot);
  auto c = make_task(switcher_kind::none, priority::high);
  c->set_body([&](task&) -> result<std::int64_t> {
    EXPECT_TRUE(waiter->cancel());
    EXPECT_TRUE(holder->cancel());
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*c));
  drive(*ex, [&] { return waiter->state() == task_state::completed && holder->state() == task_state::completed; });
  EXPECT_EQ(waiter_seen, std::errc::operation_canceled);
  EXPECT_EQ(holder_seen, std::errc::operation_canceled);
  EXPECT_EQ(ex->stats().io_in_flight, 0u);
  ::close(fds[0]);
  ::close(fds[1]);
}

INSTANTIATE_TEST_SUITE_P(Switchers, CancelStackful, ::testing::ValuesIn(stackful), kind_name);

TEST(Cancellation, CoroutineSuspendedOnTimerAndIo) {
  auto ex = make_executor();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto t = make_task(switcher_kind::coroutine);
  std::error_code timer_seen, io_seen;
  t->set_body([&](task& self) -> co<result<std::int64_t>> {
    auto r = co_await self.async_suspend_for(1h);
    if (!r) timer_seen = r.error();
    char buf[8];
    auto n = co_await async_perform(self, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fds[0], buf, 8, 0); });
    if (!n) io_seen = n.error();
    co_return std::int64_t{0};
  });
  ASSERT_NO_FATAL_FAILURE(cancel_while_waiting(*ex, *t, task_state::suspended_timer));
  EXPECT_EQ(timer_seen, std::errc::operation_canceled);
  EXPECT_EQ(io_seen, std::errc::operation_canceled);  // sticky: refused before submission
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace prio::test
