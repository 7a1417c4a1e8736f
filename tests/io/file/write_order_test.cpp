// Description: a task's own writes land in the order it issued them, even
// many in flight on a ring of 8 entries shared by tasks of different I/O
// priorities: 1,000 overlapping writes, each task's result read back. The
// "KernelReorders" cases punt every other write to io-wq (IOSQE_ASYNC)
// while the rest run inline, so without the ordering the kernel would land
// later writes first.
#include "file_helpers.hpp"

namespace prio::test {
namespace {

constexpr int tasks = 4;
constexpr int writes_per_task = 250;  // 1,000 in all
constexpr std::size_t len = 1024, stride = 256;  // each write overlaps the next three
constexpr std::size_t region = writes_per_task * stride + len;

// expected_region() is what task k's region holds if its writes landed in
// order: every byte from the last write covering it.
std::string expected_region(int k) {
  std::string r(region, '\0');
  for (int i = 0; i < writes_per_task; ++i)
    std::memset(r.data() + i * stride, 1 + (k * writes_per_task + i) % 255, len);
  return r;
}

// async_every: detail::test_async_every for this run (restored after).
void writes_land_in_order(switcher_kind kind, unsigned async_every = 0) {
  struct restore {
    unsigned saved = detail::test_async_every;
    ~restore() { detail::test_async_every = saved; }
  } guard;
  detail::test_async_every = async_every;
  scratch_dir dir;
  auto ex = make_executor(executor_options{.ring_entries = 8});
  ASSERT_TRUE(ex);
  file f;
  auto opened = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto r = open_file(t, dir.fd(), "order", rw_create);
    if (!r) return failure(r.error());
    f = std::move(*r);
    return 0;
  });
  ASSERT_TRUE(opened);
  const priority levels[tasks] = {priority::low, priority::high, priority::normal, priority::low};
  struct writer {
    file* f;
    int k;
    int done = 0;
    std::vector<std::string> bufs;
    std::vector<io_status> st;
  };
  std::vector<writer> ws(tasks);
  std::vector<std::unique_ptr<task>> ts;
  for (int k = 0; k < tasks; ++k) {
    ws[k].f = &f;
    ws[k].k = k;
    ws[k].st = std::vector<io_status>(writes_per_task);
    for (int i = 0; i < writes_per_task; ++i)
      ws[k].bufs.emplace_back(len, static_cast<char>(1 + (k * writes_per_task + i) % 255));
    ts.push_back(make_task(kind, priority::normal, levels[k]));
    ASSERT_TRUE(ts.back());
    writer* w = &ws[k];
    if (kind == switcher_kind::coroutine) {
      ts.back()->set_body(+[](task& t) -> co<result<std::int64_t>> {
        auto& w = *static_cast<writer*>(t.user_ptr());
        for (int i = 0; i < writes_per_task; ++i) {
          const std::uint64_t off = w.k * region + i * stride;
          auto r = co_await async_initiate_write(t, w.st[i], *w.f, w.bufs[i].data(), len, off);
          if (!r) co_return failure(r.error());
        }
        while (auto d = co_await t.async_completed_io()) {
          if (!*d) break;
          if ((*d)->res == static_cast<int>(len)) ++w.done;
        }
        co_return 0;
      }, w);
    } else {
      ts.back()->set_body([w](task& t) -> result<std::int64_t> {
        for (int i = 0; i < writes_per_task; ++i) {
          const std::uint64_t off = w->k * region + i * stride;
          PRIO_TRY(initiate_write(t, w->st[i], *w->f, w->bufs[i].data(), len, off));
        }
        while (auto d = t.suspend_until_completed_io()) {
          if (!*d) break;
          if ((*d)->res == static_cast<int>(len)) ++w->done;
        }
        return 0;
      });
    }
    ASSERT_TRUE(ex->attach(*ts.back()));
  }
  drive(*ex, [&] { return all_completed(ts); });
  for (int k = 0; k < tasks; ++k) {
    EXPECT_TRUE(ts[k]->outcome()) << ts[k]->outcome().error().message();
    EXPECT_EQ(ws[k].done, writes_per_task) << "task " << k;
  }
  auto closed = run_in_task(*ex, [&](task& t) -> result<std::int64_t> { return close_file(t, f) ? 0 : -1; });
  ASSERT_TRUE(closed);
  const std::string back = read_whole(dir / "order");
  ASSERT_EQ(back.size(), tasks * region - (region - (writes_per_task - 1) * stride - len));
  for (int k = 0; k < tasks; ++k) {
    const std::string want = expected_region(k);
    const std::string got = back.substr(k * region, std::min(region, back.size() - k * region));
    EXPECT_TRUE(want.compare(0, got.size(), got) == 0) << "task " << k << " (" << to_string(levels[k])
                                                       << ") writes landed out of order";
  }
}

TEST(WriteOrder, StackfulTasksOnAnEightEntryRing) { writes_land_in_order(switcher_kind::asm_switch); }
TEST(WriteOrder, CoroutineTasksOnAnEightEntryRing) { writes_land_in_order(switcher_kind::coroutine); }
TEST(WriteOrder, StackfulTasksWhileTheKernelReorders) { writes_land_in_order(switcher_kind::asm_switch, 2); }
TEST(WriteOrder, CoroutineTasksWhileTheKernelReorders) { writes_land_in_order(switcher_kind::coroutine, 2); }

// A task alone on its executor initiates a second write to the same bytes
// while its first is in flight: the second waits for the first with no
// other task to run meanwhile (nor to hand the thread to), both complete,
// and the file holds the second write's bytes.
TEST(WriteOrder, ALoneTasksSecondWriteWaitsForItsFirst) {
  for (switcher_kind kind : {switcher_kind::asm_switch, switcher_kind::coroutine}) {
    scratch_dir dir;
    auto ex = make_executor();
    ASSERT_TRUE(ex);
    auto t = make_task(kind);
    const std::string first(4096, 'a'), second(4096, 'b');
    if (kind == switcher_kind::coroutine) {
      t->set_body([&](task& self) -> co<result<std::int64_t>> {
        auto f = co_await async_open_file(self, dir.fd(), "lone", rw_create);
        if (!f) co_return failure(f.error());
        io_status a, b;
        for (auto [st, buf] : {std::pair{&a, &first}, std::pair{&b, &second}}) {
          auto r = co_await async_initiate_write(self, *st, *f, buf->data(), buf->size(), 0);
          if (!r) co_return failure(r.error());
        }
        for (int i = 0; i < 2; ++i) {
          auto d = co_await self.async_completed_io();
          if (!d) co_return failure(d.error());
          if ((*d)->res != 4096) co_return std::int64_t{-1};
        }
        auto c = co_await async_close_file(self, *f);
        if (!c) co_return failure(c.error());
        co_return std::int64_t{2};
      });
    } else {
      t->set_body([&](task& self) -> result<std::int64_t> {
        auto f = open_file(self, dir.fd(), "lone", rw_create);
        if (!f) return failure(f.error());
        io_status a, b;
        PRIO_TRY(initiate_write(self, a, *f, first.data(), first.size(), 0));
        PRIO_TRY(initiate_write(self, b, *f, second.data(), second.size(), 0));
        for (int i = 0; i < 2; ++i) {
          auto d = self.suspend_until_completed_io();
          if (!d) return failure(d.error());
          if ((*d)->res != 4096) return std::int64_t{-1};
        }
        PRIO_TRY(close_file(self, *f));
        return std::int64_t{2};
      });
    }
    ASSERT_TRUE(ex->attach(*t));
    drive(*ex, [&] { return t->state() == task_state::completed; });
    ASSERT_TRUE(t->outcome()) << to_string(kind) << ": " << t->outcome().error().message();
    EXPECT_EQ(*t->outcome(), 2) << to_string(kind);
    EXPECT_EQ(read_whole(dir / "lone"), second) << to_string(kind);
  }
}

}  // namespace
}  // namespace prio::test
