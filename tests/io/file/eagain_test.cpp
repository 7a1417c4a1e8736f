// Description: an EAGAIN from the ring is retried transparently: the
// operation polls the file and tries again once it is ready. Kernels since
// 6.x wait on O_NONBLOCK pipes themselves, so the retry path is driven here
// with RWF_NOWAIT, which makes the kernel answer -EAGAIN instead of waiting.
#include <linux/fs.h>

#include "file_helpers.hpp"
#include "io/file/op_common.hpp"
#include "prio/io/nop.hpp"

namespace prio::test {
namespace {

// nowait_read: a read SQE with RWF_NOWAIT, so an empty pipe gives -EAGAIN.
struct nowait_read {
  detail::prep_rw p;
  void operator()(io_uring_sqe* sqe) const noexcept {
    p(sqe);
    sqe->rw_flags = RWF_NOWAIT;
  }
};

TEST(Eagain, RetriedAfterPollUntilDataArrives) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  file in;
  bool reading = false;
  std::string got;
  auto reader = make_task(switcher_kind::asm_switch);
  auto writer = make_task(switcher_kind::asm_switch);
  ASSERT_TRUE(reader && writer);
  reader->set_body([&](task& t) -> result<std::int64_t> {
    auto f = adopt_fd(t, p[0]);
    if (!f) return failure(f.error());
    in = std::move(*f);
    char buf[8] = {};
    const std::uint64_t before = t.times().resumptions;
    reading = true;
    auto r = detail::perform_retrying(
        t, in, nowait_read{{IORING_OP_READ, in.fixed(), in.index(), buf, sizeof buf, 0, 0, 0}}, POLLIN);
    if (!r) return failure(r.error());
    got.assign(buf, static_cast<std::size_t>(*r));
    // read (-EAGAIN), poll, read again: three suspensions, not one.
    EXPECT_EQ(t.times().resumptions - before, 3u);
    return close_file(t, in) ? 0 : -1;
  });
  writer->set_body([&](task& t) -> result<std::int64_t> {
    // NOP round trips (never a busy yield) until the reader has issued its
    // read; the next NOP is submitted with or after that read, which fails
    // at once. So when that NOP's completion resumes this task the read has
    // failed already, and only then the data comes.
    while (!reading) PRIO_TRY(nop(t));
    PRIO_TRY(nop(t));
    return ::write(p[1], "later", 5);
  });
  ASSERT_TRUE(ex->attach(*reader));
  ASSERT_TRUE(ex->attach(*writer));
  drive(*ex, [&] { return reader->state() == task_state::completed && writer->state() == task_state::completed; });
  EXPECT_TRUE(reader->outcome()) << reader->outcome().error().message();
  EXPECT_EQ(got, "later");
  ::close(p[1]);
}

TEST(Eagain, NonBlockingPipeReadCompletesWithData) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  bool reading = false;
  std::string got;
  auto reader = make_task(switcher_kind::asm_switch);
  auto writer = make_task(switcher_kind::asm_switch);
  ASSERT_TRUE(reader && writer);
  reader->set_body([&](task& t) -> result<std::int64_t> {
    auto f = adopt_fd(t, p[0]);
    if (!f) return failure(f.error());
    char buf[8] = {};
    reading = true;
    auto r = read(t, *f, buf, sizeof buf, 0);  // never surfaces EAGAIN
    if (!r) return failure(r.error());
    got.assign(buf, *r);
    return close_file(t, *f) ? 0 : -1;
  });
  writer->set_body([&](task& t) -> result<std::int64_t> {
    while (!reading) PRIO_TRY(nop(t));
    PRIO_TRY(nop(t));
    return ::write(p[1], "data", 4);
  });
  ASSERT_TRUE(ex->attach(*reader));
  ASSERT_TRUE(ex->attach(*writer));
  drive(*ex, [&] { return reader->state() == task_state::completed && writer->state() == task_state::completed; });
  EXPECT_TRUE(reader->outcome()) << reader->outcome().error().message();
  EXPECT_EQ(got, "data");
  ::close(p[1]);
}

}  // namespace
}  // namespace prio::test
