// Description: destroying an executor with work left is a clear, safe
// outcome: pending tasks complete with executor_closed, tasks suspended on a
// timer or on I/O are detached (reported on stderr), in-flight I/O is
// cancelled and drained, and attach afterwards is refused.
#include "exec_helpers.hpp"
#include "prio/io/nop.hpp"

namespace prio::test {
namespace {

TEST(Shutdown, DestroyWithWorkLeft) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto pending = make_task(switcher_kind::asm_switch);
  auto sleeper = make_task(switcher_kind::asm_switch);
  auto reader = make_task(switcher_kind::ucontext);
  pending->set_body([](task&) -> result<std::int64_t> { return std::int64_t{0}; });
  sleeper->set_body([](task& self) -> result<std::int64_t> {
    PRIO_TRY(self.suspend_for(1h));
    return std::int64_t{0};
  });
  static char buf[8];
  reader->set_body([&](task& self) -> result<std::int64_t> {
    auto r = perform(self, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fds[0], buf, 8, 0); });
    return r ? std::int64_t{*r} : std::int64_t{-1};
  });
  {
    auto ex = make_executor();
    ASSERT_TRUE(ex->attach(*sleeper));
    ASSERT_TRUE(ex->attach(*reader));
    ASSERT_TRUE(ex->run(2, 0ns));
    ASSERT_TRUE(ex->attach(*pending));
    ASSERT_EQ(sleeper->state(), task_state::suspended_timer);
    ASSERT_EQ(reader->state(), task_state::suspended_io);
  }  // destroyed here
  for (task* t : {pending.get(), sleeper.get(), reader.get()}) {
    EXPECT_EQ(t->state(), task_state::completed);
    ASSERT_FALSE(t->outcome());
    EXPECT_EQ(t->outcome().error(), make_error_code(errc::executor_closed));
    EXPECT_EQ(t->io_in_flight(), 0u);  // the reader's awaited read was drained
  }
  // The read was cancelled: data written now stays in the pipe.
  ASSERT_EQ(::write(fds[1], "z", 1), 1);
  char c = 0;
  EXPECT_EQ(::read(fds[0], &c, 1), 1);
  EXPECT_EQ(c, 'z');
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
}  // namespace prio::test
