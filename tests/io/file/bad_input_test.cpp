// Description: every invalid request fails before anything is submitted:
// a null buffer with a length (EINVAL), a closed, default or foreign file
// (EBADF), misaligned O_DIRECT (EINVAL), an io_status in use (EBUSY), a bad
// registered buffer (EINVAL). submitted_sqes does not move.
#include "file_helpers.hpp"
#include "prio/io/registered_buffers.hpp"

namespace prio::test {
namespace {

// unsubmitted() checks that running op submitted nothing: no SQE prepared
// (the SQ tail does not move) and nothing in flight.
template <class Op>
void expect_rejected(task& t, Op op, std::errc want, const char* what) {
  executor& ex = *t.current_executor();
  const unsigned tail = ex.ring()->sq.sqe_tail;
  const auto before = ex.stats();
  auto r = op();
  EXPECT_FALSE(r) << what;
  if (!r) {
    EXPECT_EQ(r.error(), want) << what << ": " << r.error().message();
  }
  EXPECT_EQ(ex.ring()->sq.sqe_tail, tail) << what << ": an SQE was prepared";
  EXPECT_EQ(ex.stats().io_in_flight, before.io_in_flight) << what;
  EXPECT_EQ(t.io_in_flight(), 0u) << what;
}

TEST(BadInput, RejectedBeforeSubmission) {
  scratch_dir dir;
  write_whole(dir / "a", pattern(8192, 1));
  auto ex = make_executor();
  auto other = make_executor();
  ASSERT_TRUE(ex && other);
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_file(t, dir.fd(), "a", open_how_of(O_RDWR));
    if (!f) return failure(f.error());
    char buf[64];
    iovec nulls[2] = {{buf, 8}, {nullptr, 8}};
    io_status st;
    const auto inval = std::errc::invalid_argument, badf = std::errc::bad_file_descriptor;
    expect_rejected(t, [&] { return read(t, *f, nullptr, 1, 0); }, inval, "read null");
    expect_rejected(t, [&] { return write(t, *f, nullptr, 10, 0); }, inval, "write null");
    expect_rejected(t, [&] { return readv(t, *f, nullptr, 1, 0); }, inval, "readv null iov");
    expect_rejected(t, [&] { return writev(t, *f, nulls, 2, 0); }, inval, "writev null base");
    expect_rejected(t, [&] { return initiate_read(t, st, *f, nullptr, 5, 0); }, inval, "initiate null");
    expect_rejected(t, [&] { return initiate_write(t, st, *f, nullptr, 5, 0); }, inval, "initiate_write null");
    expect_rejected(t, [&] { return read(t, *f, buf, 1, ~0ull); }, inval, "offset -1");
    registered_buffer fake{reinterpret_cast<std::byte*>(buf), sizeof buf, 0, buffer_size::small, nullptr};
    expect_rejected(t, [&] { return write_fixed(t, *f, fake, 8, 0); }, inval, "unregistered buffer");
    expect_rejected(t, [&] { return read_fixed(t, *f, registered_buffer{}, 8, 0); }, inval, "empty buffer");
    file none;
    expect_rejected(t, [&] { return read(t, none, buf, 1, 0); }, badf, "default file");
    expect_rejected(t, [&] { return fsync(t, none); }, badf, "fsync default file");
    expect_rejected(t, [&] { return ftruncate(t, none, 0); }, badf, "ftruncate default file");
    expect_rejected(t, [&] { return fallocate(t, *f, 0, 0, ~0ull); }, inval, "fallocate huge");
    expect_rejected(t, [&] { return statx(t, dir.fd(), nullptr, 0, STATX_SIZE); }, inval, "statx null path");
    expect_rejected(t, [&] { return unlinkat(t, dir.fd(), nullptr, 0); }, inval, "unlink null path");
    expect_rejected(t, [&] { return renameat(t, dir.fd(), "a", dir.fd(), nullptr); }, inval, "rename null");
    expect_rejected(t, [&] { return mkdirat(t, dir.fd(), nullptr, 0700); }, inval, "mkdir null");
    // In flight already: EBUSY, nothing new submitted for it.
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    auto in = adopt_fd(t, p[0]);
    if (!in) return failure(in.error());
    PRIO_TRY(initiate_read(t, st, *in, buf, 1, 0));
    const unsigned tail = ex->ring()->sq.sqe_tail;
    auto busy = initiate_read(t, st, *f, buf, 1, 0);
    EXPECT_EQ(busy.error(), std::errc::device_or_resource_busy);
    EXPECT_EQ(ex->ring()->sq.sqe_tail, tail);
    ::write(p[1], "x", 1);
    auto done = t.suspend_until_completed_io();
    EXPECT_TRUE(done && *done == &st);
    ::close(p[1]);
    (void)close_file(t, *in);
    // A file of another executor means nothing on this ring.
    PRIO_TRY(close_file(t, *f));
    expect_rejected(t, [&] { return read(t, *f, buf, 1, 0); }, badf, "closed file");
    expect_rejected(t, [&] { return write(t, *f, buf, 1, 0); }, badf, "write closed file");
    expect_rejected(t, [&] { return fdatasync(t, *f); }, badf, "fdatasync closed file");
    return 0;
  });
  EXPECT_TRUE(out) << out.error().message();
}

TEST(BadInput, FileOfAnotherExecutorIsEbadf) {
  scratch_dir dir;
  write_whole(dir / "a", "abc");
  auto ex = make_executor();
  auto other = make_executor();
  ASSERT_TRUE(ex && other);
  file f;
  auto opened = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto r = open_file(t, dir.fd(), "a", open_how_of(O_RDONLY));
    if (!r) return failure(r.error());
    f = std::move(*r);
    return 0;
  });
  ASSERT_TRUE(opened);
  auto out = run_in_task(*other, [&](task& t) -> result<std::int64_t> {
    char c;
    const auto before = other->stats().submitted_sqes;
    const auto r = read(t, f, &c, 1, 0);
    EXPECT_EQ(r.error(), std::errc::bad_file_descriptor);
    EXPECT_EQ(r.error(), errc::foreign_handle);  // told apart from a closed file
    EXPECT_EQ(other->stats().submitted_sqes, before);
    return 0;
  });
  EXPECT_TRUE(out);
  auto closed = run_in_task(*ex, [&](task& t) -> result<std::int64_t> { return close_file(t, f) ? 0 : -1; });
  EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace prio::test
