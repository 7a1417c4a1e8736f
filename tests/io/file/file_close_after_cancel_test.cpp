// Description: a cancelled task still closes its files. close_file() in the
// cleanup a cancelled body unwinds into must empty the file's fixed slot (or
// close its plain fd) and report success, for stackful and coroutine
// bodies, cancelled by themselves or by cancel_all() while reading.
#include "file_helpers.hpp"

namespace prio::test {
namespace {

bool fd_closed(int fd) { return ::fcntl(fd, F_GETFD) == -1 && errno == EBADF; }

// expect_slot_free_again(): a fresh task on ex can adopt a copy of fd into ex's
// one slot (ENFILE, a failure, if a closed file still held it).
void expect_slot_free_again(executor& ex, int fd) {
  auto again = run_in_task(ex, [&](task& t) -> result<std::int64_t> {
    auto f = adopt_fd(t, ::dup(fd));
    if (!f) return failure(f.error());
    return close_file(t, *f) ? std::int64_t{1} : std::int64_t{-1};
  });
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(*again, 1);
}

std::unique_ptr<executor> executor_with_slots(unsigned slots) {
  executor_options o;
  o.ring_entries = 64;
  o.fixed_files = slots;
  return make_executor(o);
}

// One slot: open, cancel the task, close, then open again in a fresh task
// (ENFILE if the first slot was never emptied).
TEST(FileCloseAfterCancel, StackfulEmptiesTheSlot) {
  scratch_dir dir;
  write_whole(dir / "a", "x");
  auto ex = executor_with_slots(1);
  std::error_code close_error{errno_error(EINPROGRESS)};
  bool was_fixed = false;
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_file(t, dir.fd(), "a", open_how_of(O_RDONLY));
    if (!f) return failure(f.error());
    was_fixed = f->fixed();
    EXPECT_TRUE(t.cancel());
    auto c = close_file(t, *f);
    close_error = c ? std::error_code{} : c.error();
    EXPECT_FALSE(f->is_open());
    return std::int64_t{0};
  });
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_TRUE(was_fixed);
  EXPECT_FALSE(close_error) << close_error.message();
  auto again = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_file(t, dir.fd(), "a", open_how_of(O_RDONLY));
    if (!f) return failure(f.error());
    return close_file(t, *f) ? std::int64_t{1} : std::int64_t{-1};
  });
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(*again, 1);
}

// No fixed-file table: the file is a plain fd, which close_file() closes.
TEST(FileCloseAfterCancel, StackfulClosesThePlainFd) {
  scratch_dir dir;
  write_whole(dir / "a", "x");
  auto ex = executor_with_slots(0);
  std::error_code close_error{errno_error(EINPROGRESS)};
  int fd = -1;
  bool closed = false;
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_file(t, dir.fd(), "a", open_how_of(O_RDONLY));
    if (!f) return failure(f.error());
    EXPECT_FALSE(f->fixed());
    fd = f->index();
    EXPECT_TRUE(t.cancel());
    auto c = close_file(t, *f);
    close_error = c ? std::error_code{} : c.error();
    closed = fd_closed(fd);
    return std::int64_t{0};
  });
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_FALSE(close_error) << close_error.message();
  EXPECT_TRUE(closed) << "fd " << fd << " stayed open";
}

co<result<std::int64_t>> coro_open_cancel_close(task& t, int dir, std::error_code& close_error) {
  auto f = co_await async_open_file(t, dir, "a", open_how_of(O_RDONLY));
  if (!f) co_return failure(f.error());
  EXPECT_TRUE(t.cancel());
  auto c = co_await async_close_file(t, *f);
  close_error = c ? std::error_code{} : c.error();
  co_return std::int64_t{0};
}

TEST(FileCloseAfterCancel, CoroutineEmptiesTheSlot) {
  scratch_dir dir;
  write_whole(dir / "a", "x");
  auto ex = executor_with_slots(1);
  for (int round = 0; round < 3; ++round) {  // each round needs the one slot
    SCOPED_TRACE(round);
    auto t = make_task(switcher_kind::coroutine);
    std::error_code close_error{errno_error(EINPROGRESS)};
    const int dfd = dir.fd();
    t->set_body([&](task& self) { return coro_open_cancel_close(self, dfd, close_error); });
    ASSERT_TRUE(ex->attach(*t));
    drive(*ex, [&] { return t->state() == task_state::completed; });
    ASSERT_TRUE(t->outcome()) << t->outcome().error().message();
    EXPECT_FALSE(close_error) << close_error.message();
  }
}

// The same when a task cancelled by cancel_all() while it waits for a read
// on a pipe (which never gets data) closes the pipe's file afterwards.
TEST(FileCloseAfterCancel, CancelledWhileReadingThenClosed) {
  auto ex = executor_with_slots(1);
  test_pipe p;
  ASSERT_TRUE(p.ok());
  auto t = make_task(switcher_kind::asm_switch);
  std::error_code read_error, close_error{errno_error(EINPROGRESS)};
  const int rd = p.fds[0];
  p.fds[0] = -1;  // adopt_fd() takes it over
  t->set_body([&](task& self) -> result<std::int64_t> {
    auto f = adopt_fd(self, rd);
    if (!f) return failure(f.error());
    char c;
    auto r = read(self, *f, &c, 1, 0);
    read_error = r ? std::error_code{} : r.error();
    auto cl = close_file(self, *f);
    close_error = cl ? std::error_code{} : cl.error();
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::suspended_io; });
  ASSERT_TRUE(ex->cancel_all());
  drive(*ex, [&] { return t->state() == task_state::completed; });
  ASSERT_TRUE(t->outcome()) << t->outcome().error().message();
  EXPECT_EQ(read_error, std::errc::operation_canceled);
  EXPECT_FALSE(close_error) << close_error.message();
  expect_slot_free_again(*ex, p.fds[1]);
}

// A write of the task still in flight (to a full pipe, so it never ends by
// itself) when the task is cancelled: close_file() waits for the executor's
// cancel of it to land (the completion uses the file's write order), then
// closes.
TEST(FileCloseAfterCancel, WriteInFlightIsDrainedThenClosed) {
  auto ex = executor_with_slots(1);
  test_pipe p;
  ASSERT_TRUE(p.ok());
  (void)::fcntl(p.fds[1], F_SETPIPE_SZ, 4096);
  ASSERT_EQ(::fcntl(p.fds[1], F_SETFL, O_NONBLOCK), 0);
  std::vector<char> fill(65536, 'x');
  while (::write(p.fds[1], fill.data(), fill.size()) > 0) {
  }
  ASSERT_EQ(errno, EAGAIN);
  ASSERT_EQ(::fcntl(p.fds[1], F_SETFL, 0), 0);
  const int wr = p.fds[1];
  p.fds[1] = -1;  // adopt_fd() takes it over
  io_status st;
  std::error_code close_error{errno_error(EINPROGRESS)};
  bool in_flight_at_close = false;
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = adopt_fd(t, wr);
    if (!f) return failure(f.error());
    PRIO_TRY(initiate_write(t, st, *f, fill.data(), 1, 0));
    EXPECT_TRUE(t.cancel());
    in_flight_at_close = !st.done();
    auto c = close_file(t, *f);
    close_error = c ? std::error_code{} : c.error();
    EXPECT_TRUE(st.done());
    executor::reap(st);
    return std::int64_t{0};
  });
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_TRUE(in_flight_at_close);
  EXPECT_FALSE(close_error) << close_error.message();
  EXPECT_EQ(st.res, -ECANCELED);
  expect_slot_free_again(*ex, p.fds[0]);
}

}  // namespace
}  // namespace prio::test
