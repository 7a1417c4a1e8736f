// Description: fsync, fdatasync, sync_file_range, fallocate, ftruncate,
// statx, unlinkat, renameat and mkdirat do what the plain syscalls report,
// and ftruncate's fallbacks (no IORING_OP_FTRUNCATE) give the same result.
#include <linux/falloc.h>
#include <sys/stat.h>

#include "file_helpers.hpp"

namespace prio::test {
namespace {

struct stat stat_of(const std::string& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st;
}

TEST(Meta, SyncsSucceedAndTruncateAllocateChangeSize) {
  scratch_dir dir;
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_file(t, dir.fd(), "m", rw_create);
    if (!f) return failure(f.error());
    const std::string d = pattern(10000, 3);
    PRIO_TRY(write(t, *f, d.data(), d.size(), 0));
    EXPECT_TRUE(fsync(t, *f));
    EXPECT_TRUE(fdatasync(t, *f));
    EXPECT_TRUE(sync_file_range(t, *f, 0, 10000, SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER));
    auto ft = ftruncate(t, *f, 3000);
    EXPECT_TRUE(ft) << (ft ? "" : ft.error().message());
    EXPECT_EQ(stat_of(dir / "m").st_size, 3000);
    auto fa = fallocate(t, *f, 0, 0, 1 << 20);
    EXPECT_TRUE(fa) << (fa ? "" : fa.error().message());
    EXPECT_EQ(stat_of(dir / "m").st_size, 1 << 20);
    auto keep = fallocate(t, *f, FALLOC_FL_KEEP_SIZE, 0, 4 << 20);
    if (keep) {
      EXPECT_EQ(stat_of(dir / "m").st_size, 1 << 20);
      EXPECT_GE(stat_of(dir / "m").st_blocks * 512, 4 << 20);
    }
    EXPECT_TRUE(ftruncate(t, *f, 0));
    EXPECT_EQ(stat_of(dir / "m").st_size, 0);
    return close_file(t, *f) ? 0 : -1;
  });
  EXPECT_TRUE(out) << out.error().message();
}

TEST(Meta, FtruncateFallsBackWithoutTheOpcode) {
  scratch_dir dir;
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto& feats = detail::file_features_for_test();
  const auto saved = feats;
  if (!saved.fixed_fd_install) GTEST_SKIP() << "kernel lacks IORING_OP_FIXED_FD_INSTALL (6.8)";
  feats.ftruncate = false;
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_file(t, dir.fd(), "t", rw_create);
    if (!f) return failure(f.error());
    EXPECT_TRUE(f->fixed());
    EXPECT_TRUE(ftruncate(t, *f, 777)) << "via FIXED_FD_INSTALL";
    EXPECT_EQ(stat_of(dir / "t").st_size, 777);
    detail::file_features_for_test().fixed_fd_install = false;
    auto none = ftruncate(t, *f, 5);
    EXPECT_EQ(none.error(), std::errc::operation_not_supported) << "no way to truncate a fixed file";
    detail::file_features_for_test().fixed_fd_install = saved.fixed_fd_install;
    int fd = ::open((dir / "t").c_str(), O_RDWR | O_CLOEXEC);
    auto plain = file::make(*t.current_executor(), fd, false, O_RDWR);
    EXPECT_TRUE(ftruncate(t, *plain, 55)) << "plain fd: ftruncate(2)";
    EXPECT_EQ(stat_of(dir / "t").st_size, 55);
    (void)close_file(t, *plain);
    return close_file(t, *f) ? 0 : -1;
  });
  feats = saved;
  EXPECT_TRUE(out) << out.error().message();
}

TEST(Meta, StatxMatchesPlainStatx) {
  scratch_dir dir;
  write_whole(dir / "s", pattern(4321, 1));
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  struct statx want {};
  ASSERT_EQ(::statx(dir.fd(), "s", 0, STATX_BASIC_STATS, &want), 0);
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto sx = statx(t, dir.fd(), "s", 0, STATX_BASIC_STATS);
    if (!sx) return failure(sx.error());
    EXPECT_EQ(sx->stx_size, want.stx_size);
    EXPECT_EQ(sx->stx_ino, want.stx_ino);
    EXPECT_EQ(sx->stx_mode, want.stx_mode);
    EXPECT_EQ(statx(t, dir.fd(), "none", 0, STATX_SIZE).error(), std::errc::no_such_file_or_directory);
    return 0;
  });
  EXPECT_TRUE(out) << out.error().message();
}

TEST(Meta, PathOperationsAndTheirSyscallFallbacks) {
  scratch_dir dir;
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto& feats = detail::file_features_for_test();
  const auto saved = feats;
  for (bool ring : {true, false}) {
    feats.mkdirat = feats.renameat = feats.unlinkat = feats.statx = ring && saved.mkdirat;
    auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
      PRIO_TRY(mkdirat(t, dir.fd(), "d", 0700));
      EXPECT_TRUE(S_ISDIR(stat_of(dir / "d").st_mode));
      EXPECT_EQ(mkdirat(t, dir.fd(), "d", 0700).error(), std::errc::file_exists);
      write_whole(dir / "d/x", "x");
      PRIO_TRY(renameat(t, dir.fd(), "d/x", dir.fd(), "y"));
      EXPECT_EQ(read_whole(dir / "y"), "x");
      EXPECT_EQ(renameat(t, dir.fd(), "d/x", dir.fd(), "z").error(), std::errc::no_such_file_or_directory);
      EXPECT_TRUE(statx(t, dir.fd(), "y", 0, STATX_SIZE));
      PRIO_TRY(unlinkat(t, dir.fd(), "y", 0));
      EXPECT_NE(::access((dir / "y").c_str(), F_OK), 0);
      EXPECT_EQ(unlinkat(t, dir.fd(), "d", 0).error(), std::errc::is_a_directory);
      PRIO_TRY(unlinkat(t, dir.fd(), "d", AT_REMOVEDIR));
      return 0;
    });
    EXPECT_TRUE(out) << (ring ? "ring: " : "fallback: ") << out.error().message();
  }
  feats = saved;
}

}  // namespace
}  // namespace prio::test
