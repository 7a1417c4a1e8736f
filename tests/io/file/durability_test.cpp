// Description: data written and made durable with fsync (and fdatasync)
// reads back through a fresh fd opened with plain syscalls.
#include "file_helpers.hpp"

namespace prio::test {
namespace {

TEST(Durability, FsyncThenFreshFdReadsItBack) {
  scratch_dir dir;
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  const std::string a = pattern(65536, 11), b = pattern(4096, 12);
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_file(t, dir.fd(), "dur", open_how_of(O_WRONLY | O_CREAT | O_TRUNC, 0644));
    if (!f) return failure(f.error());
    // Many in flight, then the sync: it waits for this task's write first.
    io_status st;
    PRIO_TRY(initiate_write(t, st, *f, a.data(), a.size(), 0));
    PRIO_TRY(fsync(t, *f));
    EXPECT_EQ(st.state, io_state::completed) << "fsync waited for the write in flight";
    auto r = t.suspend_until_completed_io();
    EXPECT_TRUE(r && *r == &st && st.res == static_cast<int>(a.size()));
    PRIO_TRY(write(t, *f, b.data(), b.size(), a.size()));
    PRIO_TRY(fdatasync(t, *f));
    // Checked before close: the data is on disk, not merely in this handle.
    int fd = ::open((dir / "dur").c_str(), O_RDONLY | O_CLOEXEC);
    std::string back(a.size() + b.size(), '\0');
    EXPECT_EQ(::pread(fd, back.data(), back.size(), 0), static_cast<ssize_t>(back.size()));
    ::close(fd);
    EXPECT_TRUE(back == a + b);
    return close_file(t, *f) ? 0 : -1;
  });
  EXPECT_TRUE(out) << out.error().message();
}

}  // namespace
}  // namespace prio::test
