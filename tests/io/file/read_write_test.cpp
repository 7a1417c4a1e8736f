// Description: read, readv, write, writev and the looping helpers give what
// pread/pwrite say: the same bytes, short counts as such, 0 at end of file.
#include <sys/stat.h>

#include "file_helpers.hpp"

namespace prio::test {
namespace {

TEST(ReadWrite, WriteThenPlainPreadSeesIt) {
  scratch_dir dir;
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  const std::string data = pattern(10000, 1);
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_file(t, dir.fd(), "w", rw_create);
    if (!f) return failure(f.error());
    auto n = write(t, *f, data.data(), data.size(), 100);
    EXPECT_EQ(n ? *n : 0, data.size());
    return close_file(t, *f) ? 0 : -1;
  });
  ASSERT_TRUE(out) << out.error().message();
  const std::string got = read_whole(dir / "w");
  ASSERT_EQ(got.size(), 100 + data.size());
  EXPECT_TRUE(got.substr(0, 100) == std::string(100, '\0'));
  EXPECT_TRUE(got.substr(100) == data);
}

TEST(ReadWrite, ReadMatchesPwriteShortAtEofZeroPastIt) {
  scratch_dir dir;
  const std::string data = pattern(5000, 2);
  write_whole(dir / "r", data);
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_file(t, dir.fd(), "r", open_how_of(O_RDONLY));
    if (!f) return failure(f.error());
    std::string buf(4096, '\0');
    auto n = read(t, *f, buf.data(), 4096, 0);
    EXPECT_EQ(n ? *n : 0, 4096u);
    EXPECT_TRUE(buf == data.substr(0, 4096));
    auto s = read(t, *f, buf.data(), 4096, 4096);  // only 904 bytes left: short
    EXPECT_EQ(s ? *s : 0, 904u);
    EXPECT_TRUE(buf.substr(0, 904) == data.substr(4096));
    auto eof = read(t, *f, buf.data(), 4096, 5000);
    EXPECT_TRUE(eof);
    EXPECT_EQ(eof ? *eof : 99, 0u);
    auto past = read(t, *f, buf.data(), 10, 1 << 20);
    EXPECT_EQ(past ? *past : 99, 0u);
    auto zero = read(t, *f, nullptr, 0, 0);  // a null buffer of length 0 is fine
    EXPECT_EQ(zero ? *zero : 99, 0u);
    return close_file(t, *f) ? 0 : -1;
  });
  EXPECT_TRUE(out) << out.error().message();
}

TEST(ReadWrite, VectoredMatchesPlainSyscalls) {
  scratch_dir dir;
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  std::string a = pattern(300, 3), b = pattern(5000, 4), c = pattern(17, 5);
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_file(t, dir.fd(), "v", rw_create);
    if (!f) return failure(f.error());
    iovec w[3] = {{a.data(), a.size()}, {b.data(), b.size()}, {c.data(), c.size()}};
    auto n = writev(t, *f, w, 3, 7);
    EXPECT_EQ(n ? *n : 0, a.size() + b.size() + c.size());
    std::string x(100, '\0'), y(5217, '\0');
    iovec r[2] = {{x.data(), x.size()}, {y.data(), y.size()}};
    auto m = readv(t, *f, r, 2, 7);
    EXPECT_EQ(m ? *m : 0, a.size() + b.size() + c.size());  // short: file ends first
    EXPECT_TRUE(m && x + y.substr(0, *m - 100) == a + b + c);
    return close_file(t, *f) ? 0 : -1;
  });
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_TRUE(read_whole(dir / "v") == std::string(7, '\0') + a + b + c);
}

TEST(ReadWrite, ReadExactAndWriteAllLoop) {
  scratch_dir dir;
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  // A pipe gives short reads: read_exact must loop until it has them all.
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  const std::string data = pattern(3 << 20, 6);
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_file(t, dir.fd(), "big", rw_create);
    if (!f) return failure(f.error());
    auto w = write_all(t, *f, data.data(), data.size(), 0);
    EXPECT_EQ(w ? *w : 0, data.size());
    std::string back(data.size() + 100, '\0');
    auto r = read_exact(t, *f, back.data(), back.size(), 0);  // stops at EOF
    EXPECT_EQ(r ? *r : 0, data.size());
    EXPECT_TRUE(back.compare(0, data.size(), data) == 0);
    auto in = adopt_fd(t, p[0]);
    if (!in) return failure(in.error());
    ::write(p[1], "abc", 3);
    ::write(p[1], "defg", 4);
    ::close(p[1]);
    char buf[32] = {};
    auto e = read_exact(t, *in, buf, sizeof buf, 0);  // pipes ignore the offset
    EXPECT_EQ(e ? *e : 0, 7u);
    EXPECT_EQ(std::string(buf, 7), "abcdefg");
    (void)close_file(t, *in);
    return close_file(t, *f) ? 0 : -1;
  });
  EXPECT_TRUE(out) << out.error().message();
}

TEST(ReadWrite, AgreesWithFstatSize) {
  scratch_dir dir;
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_file(t, dir.fd(), "s", rw_create);
    if (!f) return failure(f.error());
    const std::string d = pattern(12345, 7);
    PRIO_TRY(write(t, *f, d.data(), d.size(), 0));
    auto sx = statx(t, dir.fd(), "s", 0, STATX_SIZE);
    EXPECT_TRUE(sx);
    EXPECT_EQ(sx ? sx->stx_size : 0, 12345u);
    return close_file(t, *f) ? 0 : -1;
  });
  EXPECT_TRUE(out) << out.error().message();
}

}  // namespace
}  // namespace prio::test
