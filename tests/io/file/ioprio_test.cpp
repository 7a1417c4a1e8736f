// Description: file SQEs carry the kernel ioprio of the task's I/O
// priority: high -> RT (BE level 0 without CAP_SYS_ADMIN/CAP_SYS_NICE),
// normal -> BE 4, low -> IDLE. Observed on the SQE in the submission queue
// before the executor hands it to the kernel, and the kernel accepts it.
#include <liburing.h>

#include "file_helpers.hpp"

namespace prio::test {
namespace {

// queued_sqe() is the SQE most recently prepared on ex's ring, not yet
// submitted (an initiate returns before the executor submits its batch).
const io_uring_sqe* queued_sqe(executor& ex) {
  io_uring* r = ex.ring();
  const unsigned idx = (r->sq.sqe_tail - 1) & r->sq.ring_mask;
  return &r->sq.sqes[idx];
}

TEST(Ioprio, ObservedOnTheSqeForEachLevel) {
  scratch_dir dir;
  write_whole(dir / "p", pattern(4096, 1));
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  const std::uint16_t want_high = detail::rt_ioprio_permitted() ? detail::ioprio_value(detail::ioprio_class_rt, 4)
                                                                  : detail::ioprio_value(detail::ioprio_class_be, 0);
  const std::pair<priority, std::uint16_t> levels[] = {
      {priority::high, want_high},
      {priority::normal, detail::ioprio_value(detail::ioprio_class_be, 4)},
      {priority::low, detail::ioprio_value(detail::ioprio_class_idle, 0)},
  };
  for (auto [level, want] : levels) {
    auto out = run_in_task(
        *ex,
        [&](task& t) -> result<std::int64_t> {
          auto f = open_file(t, dir.fd(), "p", open_how_of(O_RDWR));
          if (!f) return failure(f.error());
          char buf[512];
          io_status rd, wr;
          PRIO_TRY(initiate_read(t, rd, *f, buf, sizeof buf, 0));
          const io_uring_sqe* s = queued_sqe(*ex);
          EXPECT_EQ(s->opcode, IORING_OP_READ);
          EXPECT_EQ(s->ioprio, want) << to_string(level);
          EXPECT_TRUE(s->flags & IOSQE_FIXED_FILE);
          PRIO_TRY(initiate_write(t, wr, *f, buf, sizeof buf, 4096));
          s = queued_sqe(*ex);
          EXPECT_EQ(s->opcode, IORING_OP_WRITE);
          EXPECT_EQ(s->ioprio, want) << to_string(level);
          for (int i = 0; i < 2; ++i) {
            auto done = t.suspend_until_completed_io();
            EXPECT_TRUE(done && *done);
            if (done && *done) {
              EXPECT_EQ((*done)->res, 512) << "the kernel accepted ioprio " << want << ": " << (*done)->res;
            }
          }
          return close_file(t, *f) ? 0 : -1;
        },
        level);
    EXPECT_TRUE(out) << out.error().message();
  }
}

TEST(Ioprio, FollowsAPriorityChangeMidTask) {
  scratch_dir dir;
  write_whole(dir / "p", pattern(4096, 1));
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_file(t, dir.fd(), "p", open_how_of(O_RDONLY));
    if (!f) return failure(f.error());
    char buf[16];
    io_status st;
    t.set_io_priority(priority::low);
    PRIO_TRY(initiate_read(t, st, *f, buf, sizeof buf, 0));
    EXPECT_EQ(queued_sqe(*ex)->ioprio, detail::ioprio_value(detail::ioprio_class_idle, 0));
    PRIO_TRY(t.suspend_until_completed_io());
    return close_file(t, *f) ? 0 : -1;
  });
  EXPECT_TRUE(out) << out.error().message();
}

}  // namespace
}  // namespace prio::test
