// Description: an executor registers its ring's fd with the thread it binds
// to (io_uring_enter then skips the fd lookup); a ring torn down on another
// thread, while the registering thread still lives, leaves that other
// thread's own registered ring working.
#include <liburing.h>

#include <cstring>
#include <future>
#include <thread>

#include "exec_helpers.hpp"
#include "executors/ring_setup.hpp"
#include "prio/io/nop.hpp"

namespace prio::test {
namespace {

// nop_round_trip() runs one task doing one NOP on ex and says whether it
// completed with 0 (bounded: a broken ring fails, it does not hang).
bool nop_round_trip(executor& ex) {
  auto t = make_task(switcher_kind::asm_switch);
  if (!t) return false;
  result<std::int32_t> got = failure(errno_error(EINVAL));
  t->set_body([&](task& self) -> result<std::int64_t> {
    got = nop(self);
    return std::int64_t{0};
  });
  if (!ex.attach(*t)) return false;
  drive(ex, [&] { return t->state() == task_state::completed; });
  if (t->state() != task_state::completed) {
    (void)t->cancel();
    drive(ex, [&] { return t->state() == task_state::completed; });
  }
  return got && *got == 0;
}

TEST(RingFd, RegisteredWithTheBoundThread) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  EXPECT_FALSE(ex->ring_fd_registered());  // not bound yet
  ASSERT_TRUE(nop_round_trip(*ex));
  if (!ex->ring_fd_registered()) GTEST_SKIP() << "the kernel does not register ring fds (Linux 5.18+)";
  EXPECT_TRUE(nop_round_trip(*ex));
}

// A ring torn down on a thread other than the one that registered its fd:
// liburing would unregister the same slot of the tearing-down thread's
// table. With SINGLE_ISSUER the kernel refuses that call from a foreign
// thread, so plain rings (the setup older kernels fall back to) show it.
TEST(RingFd, DisownedRingLeavesTheTearingDownThreadsRingWorking) {
  io_uring mine;
  ASSERT_EQ(io_uring_queue_init(8, &mine, 0), 0);
  if (io_uring_register_ring_fd(&mine) != 1) {
    io_uring_queue_exit(&mine);
    GTEST_SKIP() << "the kernel does not register ring fds (Linux 5.18+)";
  }
  std::promise<io_uring*> handed;
  std::promise<void> release;
  std::thread other([&] {
    io_uring theirs;  // slot 0 of the other thread's table, like mine in this one's
    const bool ok = io_uring_queue_init(8, &theirs, 0) == 0 && io_uring_register_ring_fd(&theirs) == 1;
    handed.set_value(ok ? &theirs : nullptr);
    release.get_future().wait();  // alive (and so is its slot) while torn down here
  });
  io_uring* theirs = handed.get_future().get();
  if (theirs) {
    disown_ring_fd_registration(theirs);
    io_uring_queue_exit(theirs);
  }
  // This thread's ring still enters through its registered slot.
  io_uring_sqe* sqe = io_uring_get_sqe(&mine);
  io_uring_prep_nop(sqe);
  const int submitted = io_uring_submit_and_wait(&mine, 1);
  io_uring_cqe* cqe = nullptr;
  const int waited = submitted == 1 ? io_uring_peek_cqe(&mine, &cqe) : submitted;
  release.set_value();
  other.join();
  ASSERT_NE(theirs, nullptr) << "the other thread's ring did not register its fd";
  EXPECT_EQ(submitted, 1) << "this thread's registered ring fails: " << std::strerror(-submitted);
  EXPECT_EQ(waited, 0);
  if (cqe) {
    EXPECT_EQ(cqe->res, 0);
  }
  io_uring_queue_exit(&mine);
}

}  // namespace
}  // namespace prio::test
