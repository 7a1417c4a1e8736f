// Description: O_DIRECT reads and writes work with aligned buffers, offsets
// and lengths, and misalignment is EINVAL before anything is submitted.
#include <cstdlib>

#include "file_helpers.hpp"

namespace prio::test {
namespace {

// open_direct(): the scratch file "d" opened O_DIRECT; refused says the file
// system does not take O_DIRECT (EINVAL) and the test should skip.
result<file> open_direct(task& t, scratch_dir& dir, bool& refused) {
  auto f = open_file(t, dir.fd(), "d", open_how_of(O_RDWR | O_CREAT | O_DIRECT, 0644));
  refused = !f && f.error() == std::errc::invalid_argument;
  return f;
}

TEST(DirectIo, AlignedWorksMisalignedIsEinvalBeforeSubmission) {
  scratch_dir dir;  // under the build dir: tmpfs refuses O_DIRECT
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  void* mem = nullptr;
  ASSERT_EQ(::posix_memalign(&mem, 4096, 3 * 4096), 0);
  auto* buf = static_cast<char*>(mem);
  const std::string data = pattern(8192, 9);
  std::memcpy(buf, data.data(), data.size());
  bool refused = false;
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_direct(t, dir, refused);
    if (refused) return 0;
    if (!f) return failure(f.error());
    EXPECT_TRUE(f->direct_io());
    EXPECT_GT(f->dio_offset_align(), 0u);
    auto w = write(t, *f, buf, 8192, 0);
    EXPECT_EQ(w ? *w : 0, 8192u) << (w ? "" : w.error().message());
    std::memset(buf + 8192, 0, 4096);
    auto r = read(t, *f, buf + 8192, 4096, 4096);
    EXPECT_EQ(r ? *r : 0, 4096u);
    EXPECT_EQ(std::memcmp(buf + 8192, data.data() + 4096, 4096), 0);
    const auto before = ex->stats();
    const unsigned tail = ex->ring()->sq.sqe_tail;
    EXPECT_EQ(read(t, *f, buf + 1, 4096, 0).error(), std::errc::invalid_argument) << "address";
    EXPECT_EQ(read(t, *f, buf, 100, 0).error(), std::errc::invalid_argument) << "length";
    EXPECT_EQ(write(t, *f, buf, 4096, 7).error(), std::errc::invalid_argument) << "offset";
    iovec v[1] = {{buf + 8, 4096}};
    EXPECT_EQ(readv(t, *f, v, 1, 0).error(), std::errc::invalid_argument) << "iovec";
    EXPECT_EQ(ex->ring()->sq.sqe_tail, tail);
    EXPECT_EQ(ex->stats().io_in_flight, before.io_in_flight);
    return close_file(t, *f) ? 0 : -1;
  });
  std::free(mem);
  if (refused) GTEST_SKIP() << "the filesystem of " << dir.path() << " refuses O_DIRECT";
  EXPECT_TRUE(out) << out.error().message();
  EXPECT_TRUE(read_whole(dir / "d") == data);
}

// The checks use masks for the power-of-two alignments STATX_DIOALIGN
// reports and a division otherwise: an alignment of 3 * 4096 (as a file
// system could report) must refuse 4096 and accept 12288.
TEST(DirectIo, NonPowerOfTwoAlignmentIsChecked) {
  scratch_dir dir;
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  void* mem = nullptr;
  ASSERT_EQ(::posix_memalign(&mem, 4096, 3 * 4096), 0);
  auto* buf = static_cast<char*>(mem);
  std::memset(buf, 7, 3 * 4096);
  bool refused = false;
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_direct(t, dir, refused);
    if (refused) return 0;
    if (!f) return failure(f.error());
    f->set_dio_align(4096, 3 * 4096);
    auto einval = [](const result<std::size_t>& r) { return !r && r.error() == std::errc::invalid_argument; };
    EXPECT_TRUE(einval(write(t, *f, buf, 3 * 4096, 4096))) << "offset 4096";
    EXPECT_TRUE(einval(write(t, *f, buf, 4096, 0))) << "length 4096";
    auto w = write(t, *f, buf, 3 * 4096, 3 * 4096);
    EXPECT_EQ(w ? *w : 0, 3u * 4096) << (w ? "" : w.error().message());
    return close_file(t, *f) ? 0 : -1;
  });
  std::free(mem);
  if (refused) GTEST_SKIP() << "the filesystem of " << dir.path() << " refuses O_DIRECT";
  EXPECT_TRUE(out) << out.error().message();
}

}  // namespace
}  // namespace prio::test
