// Description: O_DIRECT reads and writes work with aligned buffers, offsets
// and lengths, and misalignment is EINVAL before anything is submitted.
#include <cstdlib>

#include "file_helpers.hpp"

namespace prio::test {
namespace {

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
    auto f = open_file(t, dir.fd(), "d", open_how_of(O_RDWR | O_CREAT | O_DIRECT, 0644));
    if (!f && f.error() == std::errc::invalid_argument) {
      refused = true;
      return 0;
    }
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

}  // namespace
}  // namespace prio::test
