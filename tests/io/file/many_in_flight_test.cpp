// Description: 256 file operations in flight at once through caller-owned
// io_status records, reaped in completion order (which differs from the
// order they were started in), each with its own result and tick stamps.
#include "file_helpers.hpp"

namespace prio::test {
namespace {

TEST(ManyInFlight, TwoHundredFiftySixReadsOutOfOrder) {
  scratch_dir dir;
  constexpr int n = 256;
  constexpr std::size_t chunk = 512;
  const std::string data = pattern(chunk * n, 21);
  write_whole(dir / "m", data);
  auto ex = make_executor(executor_options{.ring_entries = 64});  // fewer slots than operations
  ASSERT_TRUE(ex);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  auto out = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto f = open_file(t, dir.fd(), "m", open_how_of(O_RDONLY));
    auto in = adopt_fd(t, p[0]);
    if (!f || !in) return failure(errno_error(EBADF));
    std::vector<io_status> st(n);
    std::vector<std::string> bufs(n, std::string(chunk, '\0'));
    // The first one reads a pipe nobody has written yet: it completes last.
    PRIO_TRY(initiate_read(t, st[0], *in, bufs[0].data(), 5, 0));
    for (int i = n - 1; i >= 1; --i)  // file reads started in reverse offset order
      PRIO_TRY(initiate_read(t, st[i], *f, bufs[i].data(), chunk, static_cast<std::uint64_t>(i) * chunk));
    std::vector<int> order;
    while (order.size() < n - 1) {
      auto done = t.suspend_until_completed_io();
      if (!done || *done == nullptr) return failure(errno_error(EIO));
      const int i = static_cast<int>(*done - st.data());
      order.push_back(i);
      EXPECT_EQ((*done)->state, io_state::reaped);
      EXPECT_LE((*done)->initiated, (*done)->completed);
      EXPECT_LE((*done)->completed, (*done)->reaped);
    }
    EXPECT_EQ(st[0].state, io_state::in_flight) << "the pipe read is still waiting";
    EXPECT_EQ(::write(p[1], "tail!", 5), 5);
    auto last = t.suspend_until_completed_io();
    EXPECT_TRUE(last && *last == &st[0]);
    order.push_back(0);
    EXPECT_NE(order.front(), 0) << "completion order differs from initiation order";
    for (int i = 1; i < n; ++i) {
      EXPECT_EQ(st[i].res, static_cast<int>(chunk)) << i;
      EXPECT_TRUE(bufs[i] == data.substr(static_cast<std::size_t>(i) * chunk, chunk)) << i;
    }
    EXPECT_EQ(st[0].res, 5);
    EXPECT_EQ(bufs[0].substr(0, 5), "tail!");
    std::sort(order.begin(), order.end());
    for (int i = 0; i < n; ++i) EXPECT_EQ(order[i], i);
    EXPECT_EQ(t.suspend_until_completed_io().value(), nullptr) << "nothing left";
    (void)close_file(t, *in);
    return close_file(t, *f) ? 0 : -1;
  });
  ::close(p[1]);
  EXPECT_TRUE(out) << out.error().message();
  EXPECT_GT(ex->stats().slot_waits, 0u) << "256 operations on a 64-entry ring waited for slots";
}

TEST(ManyInFlight, CoroutineInitiateAndReap) {
  scratch_dir dir;
  const std::string data = pattern(64 * 100, 22);
  write_whole(dir / "c", data);
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto t = make_task(switcher_kind::coroutine);
  ASSERT_TRUE(t);
  struct ctx_t {
    scratch_dir* dir;
    const std::string* data;
    int ok = 0;
  } ctx{&dir, &data};
  t->set_body(+[](task& tk) -> co<result<std::int64_t>> {
    auto& c = *static_cast<ctx_t*>(tk.user_ptr());
    auto f = co_await async_open_file(tk, c.dir->fd(), "c", open_how_of(O_RDONLY));
    if (!f) co_return failure(f.error());
    io_status st[100];
    char buf[100][64];
    for (int i = 0; i < 100; ++i) {
      auto r = co_await async_initiate_read(tk, st[i], *f, buf[i], 64, static_cast<std::uint64_t>(i) * 64);
      if (!r) co_return failure(r.error());
    }
    for (int got = 0; got < 100; ++got) {
      auto done = co_await tk.async_completed_io();
      if (!done || !*done) co_return failure(errno_error(EIO));
      const auto i = *done - st;
      if ((*done)->res == 64 && std::memcmp(buf[i], c.data->data() + i * 64, 64) == 0) ++c.ok;
    }
    auto cl = co_await async_close_file(tk, *f);
    co_return cl ? 0 : -1;
  }, &ctx);
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_TRUE(t->outcome()) << t->outcome().error().message();
  EXPECT_EQ(ctx.ok, 100);
}

}  // namespace
}  // namespace prio::test
