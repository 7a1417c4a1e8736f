// Description: a task that returns with 100 reads still in flight completes
// cleanly: its reads are cancelled and drained, nothing is left in flight
// and the executor keeps working.
#include "file_helpers.hpp"

namespace prio::test {
namespace {

TEST(TaskExit, HundredReadsInFlightAreDrained) {
  scratch_dir dir;
  write_whole(dir / "a", pattern(100 * 128, 5));
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  // The io_status records and buffers outlive the task, as io_status.hpp asks.
  std::vector<io_status> st(100);
  std::vector<char> buf(100 * 128);
  file pipe_in, data;
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto in = adopt_fd(t, p[0]);
    auto f = open_file(t, dir.fd(), "a", open_how_of(O_RDONLY));
    if (!in || !f) return failure(errno_error(EBADF));
    pipe_in = std::move(*in);
    data = std::move(*f);
    for (int i = 0; i < 100; ++i) {
      // Half wait on a pipe that never gets data; half are quick file reads.
      file& which = i % 2 ? pipe_in : data;
      PRIO_TRY(initiate_read(t, st[i], which, &buf[i * 128], 128, static_cast<std::uint64_t>(i) * 128));
    }
    EXPECT_EQ(t.io_in_flight(), 100u);
    return 7;  // return with everything in flight
  });
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_EQ(*out, 7);
  EXPECT_EQ(ex->stats().io_in_flight, 0u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(st[i].state, io_state::reaped) << i;
    if (i % 2) {
      EXPECT_EQ(st[i].res, -ECANCELED) << i;
    }
  }
  auto again = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    char c[4];
    auto r = read(t, data, c, 4, 0);
    PRIO_TRY(close_file(t, pipe_in));
    PRIO_TRY(close_file(t, data));
    return r ? static_cast<std::int64_t>(*r) : -1;
  });
  EXPECT_EQ(again.value(), 4);
  ::close(p[1]);
}

}  // namespace
}  // namespace prio::test
