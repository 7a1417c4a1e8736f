// Description: I/O makes progress while CPU-bound tasks keep the executor
// busy (no idle moment): a task yielding in a loop does not starve another
// task's NOP and kernel timeout (with and without per-slice time
// tracking), and a cancelled task waiting on its own in-flight operation
// waits until that operation is drained.
#include "exec_helpers.hpp"
#include "prio/io/nop.hpp"

namespace prio::test {
namespace {

void yielding_task_does_not_starve_io(const executor_options& o) {
  auto ex = make_executor(o);
  bool nop_done = false;
  long spins = 0;
  auto spinner = make_task(switcher_kind::asm_switch);
  spinner->set_body([&](task& self) -> result<std::int64_t> {
    // Bounded: fails rather than hangs if I/O never moves.
    while (!nop_done && spins < 50'000'000) {
      ++spins;
      PRIO_TRY(self.yield());
    }
    return std::int64_t{nop_done ? 1 : 0};
  });
  auto io = make_task(switcher_kind::asm_switch);
  io->set_body([&](task& self) -> result<std::int64_t> {
    PRIO_TRY(nop(self));
    // A kernel timeout completes only at a later io_uring_enter (deferred
    // task work): only the submit_interval entries can collect it.
    static __kernel_timespec ts{0, 1'000'000};
    auto r = perform(self, [](io_uring_sqe* sqe) { io_uring_prep_timeout(sqe, &ts, 0, 0); });
    if (r || r.error() != errno_error(ETIME)) return failure(errno_error(EPROTO));
    nop_done = true;
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*io));
  ASSERT_TRUE(ex->attach(*spinner));
  drive(*ex, [&] { return spinner->state() == task_state::completed && io->state() == task_state::completed; });
  EXPECT_EQ(*io->outcome(), 0);
  EXPECT_EQ(*spinner->outcome(), 1) << "the I/O never completed while another task yielded";
}

TEST(IoProgress, YieldingTaskDoesNotStarveIo) { yielding_task_does_not_starve_io({}); }

// Without per-slice time tracking the executor reads the clock only every
// 8th slice: submit_interval must still be noticed.
TEST(IoProgress, YieldingTaskDoesNotStarveIoUntracked) {
  executor_options o;
  o.track_task_time = false;
  yielding_task_does_not_starve_io(o);
}

TEST(IoProgress, CancelledTaskDrainsItsAwaitedOperation) {
  auto ex = make_executor();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto t = make_task(switcher_kind::asm_switch);
  io_state after_wait = io_state::idle;
  int res = 0;
  t->set_body([&](task& self) -> result<std::int64_t> {
    io_status st;  // in this frame: must not be left with the kernel
    char buf[4];
    PRIO_TRY(initiate(self, st, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fds[0], buf, 4, 0); }));
    EXPECT_TRUE(self.cancel());  // cancelled while the read is in flight
    self.set_awaited_io(&st);
    auto w = self.wait_stackful(task_state::suspended_io, 0);
    self.set_awaited_io(nullptr);
    EXPECT_TRUE(w);
    after_wait = st.state;
    res = st.res;
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_EQ(after_wait, io_state::completed);
  EXPECT_EQ(res, -ECANCELED);
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace prio::test
