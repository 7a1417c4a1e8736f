// Description: files open into the executor's fixed-file table through
// openat2 (relative to a directory fd, with resolve flags), an existing fd
// can be adopted, and close empties the slot; errors match the kernel's.
#include <sys/stat.h>

#include "file_helpers.hpp"

namespace prio::test {
namespace {

TEST(OpenClose, OpensIntoFixedTableRelativeToDirectory) {
  scratch_dir dir;
  write_whole(dir / "a", "hello");
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_file(t, dir.fd(), "a", open_how_of(O_RDONLY | O_CLOEXEC));
    if (!f) return failure(f.error());
    EXPECT_TRUE(f->is_open());
    EXPECT_TRUE(f->fixed()) << "executor has " << ex->fixed_file_slots() << " fixed slots";
    EXPECT_LT(f->index(), static_cast<int>(ex->fixed_file_slots()));
    char buf[16] = {};
    auto n = read(t, *f, buf, sizeof buf, 0);
    EXPECT_TRUE(n) << n.error().message();
    EXPECT_EQ(std::string(buf, n ? *n : 0), "hello");
    PRIO_TRY(close_file(t, *f));
    EXPECT_FALSE(f->is_open());
    return 0;
  });
  EXPECT_TRUE(out) << out.error().message();
}

TEST(OpenClose, KernelErrorsComeBack) {
  scratch_dir dir;
  ::mkdir((dir / "sub").c_str(), 0755);
  write_whole(dir / "x", "x");
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto missing = open_file(t, dir.fd(), "nope", open_how_of(O_RDONLY));
    EXPECT_EQ(missing.error(), std::errc::no_such_file_or_directory);
    // RESOLVE_BENEATH: "../x" escapes the directory: the kernel says EXDEV.
    int sub = ::open((dir / "sub").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    auto escape = open_file(t, sub, "../x", open_how_of(O_RDONLY, 0, RESOLVE_BENEATH));
    ::close(sub);
    EXPECT_FALSE(escape);
    if (!escape) {
      EXPECT_EQ(escape.error().value(), EXDEV);
    }
    auto excl = open_file(t, dir.fd(), "x", open_how_of(O_RDWR | O_CREAT | O_EXCL, 0600));
    EXPECT_EQ(excl.error(), std::errc::file_exists);
    auto null_path = open_file(t, dir.fd(), nullptr, open_how_of(O_RDONLY));
    EXPECT_EQ(null_path.error(), std::errc::invalid_argument);
    return 0;
  });
  EXPECT_TRUE(out) << out.error().message();
}

TEST(OpenClose, CreateWithModeMatchesStat) {
  scratch_dir dir;
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  const mode_t old = ::umask(0);
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_file(t, dir.fd(), "m", open_how_of(O_WRONLY | O_CREAT, 0640));
    if (!f) return failure(f.error());
    return close_file(t, *f) ? 0 : -1;
  });
  ::umask(old);
  ASSERT_TRUE(out);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "m").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(OpenClose, AdoptTakesOwnershipOfAnFd) {
  scratch_dir dir;
  write_whole(dir / "a", "adopted");
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  int fd = ::open((dir / "a").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = adopt_fd(t, fd);
    if (!f) return failure(f.error());
    EXPECT_TRUE(f->fixed());
    EXPECT_EQ(::fcntl(fd, F_GETFD), -1) << "the original fd is closed once the table holds the file";
    char buf[16] = {};
    auto n = read(t, *f, buf, sizeof buf, 0);
    EXPECT_EQ(std::string(buf, n ? *n : 0), "adopted");
    auto bad = adopt_fd(t, fd);  // already closed
    EXPECT_EQ(bad.error(), std::errc::bad_file_descriptor);
    return close_file(t, *f) ? 0 : -1;
  });
  EXPECT_TRUE(out) << out.error().message();
}

TEST(OpenClose, ClosedAndDefaultFilesAreEbadf) {
  scratch_dir dir;
  write_whole(dir / "a", "a");
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    file none;
    EXPECT_EQ(close_file(t, none).error(), std::errc::bad_file_descriptor);
    auto f = open_file(t, dir.fd(), "a", open_how_of(O_RDONLY));
    if (!f) return failure(f.error());
    EXPECT_TRUE(close_file(t, *f));
    EXPECT_EQ(close_file(t, *f).error(), std::errc::bad_file_descriptor);
    char c;
    EXPECT_EQ(read(t, *f, &c, 1, 0).error(), std::errc::bad_file_descriptor);
    return 0;
  });
  EXPECT_TRUE(out) << out.error().message();
}

TEST(OpenClose, DestructorFreesTheSlotAndMoveKeepsIt) {
  scratch_dir dir;
  write_whole(dir / "a", "a");
  auto ex = make_executor(executor_options{.ring_entries = 8, .cq_entries = 0, .fixed_files = 2});
  ASSERT_TRUE(ex);
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    // Three rounds through a table of 2: slots must be returned.
    for (int round = 0; round < 3; ++round) {
      auto a = open_file(t, dir.fd(), "a", open_how_of(O_RDONLY));
      auto b = open_file(t, dir.fd(), "a", open_how_of(O_RDONLY));
      if (!a || !b) return failure(errno_error(ENFILE));
      file moved = std::move(*a);
      EXPECT_FALSE(a->is_open());
      EXPECT_TRUE(moved.is_open());
      auto full = open_file(t, dir.fd(), "a", open_how_of(O_RDONLY));
      EXPECT_FALSE(full) << "a table of 2 holds 2 files";
    }
    return 0;
  });
  EXPECT_TRUE(out) << out.error().message();
}

}  // namespace
}  // namespace prio::test
