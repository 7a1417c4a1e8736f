// Description: writes cut short by cancellation lose no data: tasks write
// their own regions of one file (write, writev, write_all, several in
// flight at once, fdatasync between), are cancelled at random points from
// the executor's thread and from another thread, and are attached again.
// Every write that returned its full count is on the file afterwards unless
// a later write of the same task covers it; every byte holds the value of a
// write that may have landed (a cancelled one, or the last one that
// certainly did). Checked by each task reading its region back and, at the
// end, by reading the whole file with plain syscalls. Half the seeds punt
// every other write to io-wq, where a cancel can stop it before it runs.
#include <atomic>
#include <random>
#include <thread>

#include "file_helpers.hpp"

namespace prio::test {
namespace {

constexpr std::size_t region = 32 * 1024;  // each task's part of the file
constexpr std::size_t max_write = 4 * 1024;
constexpr int task_count = 6;
constexpr int rounds = 2000;  // the executor thread's actions per seed

// write_log: what one task wrote to its region, in the order it issued it
// (its writes land in that order: file_rw.hpp). certain: the write returned
// its full count; else it was cancelled or cut short and may or may not be
// on the file, in part or whole.
struct write_log {
  struct entry {
    std::uint32_t off, len;
    std::uint8_t value;
    bool certain;
  };
  std::vector<entry> entries;

  // first_mismatch(): the first byte of data (the region) that no write
  // explains. Byte i may hold the value of the last certain write covering
  // it (0 if none) or of any write after that one. One pass over the log,
  // newest first: a byte is settled by the first write whose value it holds,
  // and is wrong if it reaches a certain write (or the start, unless 0)
  // unsettled.
  std::optional<std::size_t> first_mismatch(const std::uint8_t* data) const {
    std::vector<std::uint8_t> settled(region, 0);
    std::optional<std::size_t> bad;
    const auto wrong = [&](std::size_t i) {
      if (!bad || i < *bad) bad = i;
    };
    for (auto it = entries.rbegin(); it != entries.rend(); ++it)
      for (std::size_t i = it->off; i < it->off + it->len; ++i) {
        if (settled[i]) continue;
        if (data[i] == it->value) {
          settled[i] = 1;
        } else if (it->certain) {
          settled[i] = 1;
          wrong(i);
        }
      }
    for (std::size_t i = 0; i < region; ++i)
      if (!settled[i] && data[i] != 0) wrong(i);
    return bad;
  }
};

struct writer {
  std::unique_ptr<task> t;
  file* f = nullptr;
  std::uint64_t base = 0;          // the region's offset in the file
  write_log log;                   // the executor's thread only (bodies)
  std::uint8_t next_value = 0;
  std::mt19937_64 rng;             // the bodies'
  std::vector<std::uint8_t> bufs;  // 4 x max_write, stable while in flight
  std::vector<std::uint8_t> readback;
  int checks = 0, cancelled_runs = 0, runs = 0;
};

priority any_priority(std::mt19937_64& rng) { return static_cast<priority>(rng() % 3); }

// ends_run(): an error ends the body; only ECANCELED is expected.
auto ends_run(const std::error_code& e, const char* what) {
  if (e != std::errc::operation_canceled) ADD_FAILURE() << what << ": " << e.message();
  return failure(e);
}

std::uint8_t fresh_value(writer& w) {
  w.next_value = static_cast<std::uint8_t>(w.next_value % 255 + 1);  // 1..255, never 0
  return w.next_value;
}

// prepare(): log a write of len bytes at off as uncertain and fill buffer b.
std::uint8_t* prepare(writer& w, int b, std::uint32_t off, std::uint32_t len, std::size_t& index) {
  const std::uint8_t v = fresh_value(w);
  std::uint8_t* p = w.bufs.data() + b * max_write;
  std::memset(p, v, len);
  index = w.log.entries.size();
  w.log.entries.push_back({off, len, v, false});
  return p;
}

// settle(): a write's outcome. A full count makes it certain; a short one
// leaves it uncertain (its first bytes landed, the rest did not); ECANCELED
// ends the body; anything else fails the test.
result<void> settle(writer& w, std::size_t index, const result<std::size_t>& r) {
  auto& e = w.log.entries[index];
  if (r && *r == e.len) {
    e.certain = true;
    return success();
  }
  if (r) return success();
  return ends_run(r.error(), "write");
}

result<std::int64_t> writer_body(task& self, writer& w) {
  ++w.runs;
  const int n = static_cast<int>(w.rng() % 8);
  for (int i = 0; i < n; ++i) {
    const auto len = static_cast<std::uint32_t>(1 + w.rng() % max_write);
    const auto off = static_cast<std::uint32_t>(w.rng() % (region - len + 1));
    std::size_t idx = 0;
    switch (w.rng() % 6) {
      case 0: {
        std::uint8_t* p = prepare(w, 0, off, len, idx);
        PRIO_TRY(settle(w, idx, write(self, *w.f, p, len, w.base + off)));
        break;
      }
      case 1: {  // two halves in one writev
        std::uint8_t* p = prepare(w, 0, off, len, idx);
        iovec iov[2] = {{p, len / 2}, {p + len / 2, len - len / 2}};
        PRIO_TRY(settle(w, idx, writev(self, *w.f, iov, 2, w.base + off)));
        break;
      }
      case 2: {
        std::uint8_t* p = prepare(w, 0, off, len, idx);
        PRIO_TRY(settle(w, idx, write_all(self, *w.f, p, len, w.base + off)));
        break;
      }
      case 3: {  // up to four in flight, possibly overlapping, then reaped
        // An error returns from here, and leaving the scope abandons what is
        // still in flight (cancelled and waited for): those stay uncertain.
        io_status st[4];
        std::size_t ids[4];
        const int k = 2 + static_cast<int>(w.rng() % 3);
        int started = 0;
        for (; started < k; ++started) {
          const auto l = static_cast<std::uint32_t>(1 + w.rng() % max_write);
          const auto o = static_cast<std::uint32_t>(w.rng() % (region - l + 1));
          std::uint8_t* p = prepare(w, started, o, l, ids[started]);
          if (auto r = initiate_write(self, st[started], *w.f, p, l, w.base + o); !r)
            return ends_run(r.error(), "initiate_write");  // not issued
        }
        for (int j = 0; j < started; ++j) {
          auto c = self.suspend_until_completed_io();
          if (!c) return ends_run(c.error(), "suspend_until_completed_io");
          const auto at = *c == nullptr ? -1 : static_cast<int>(*c - st);
          if (at < 0 || at >= started) {
            ADD_FAILURE() << "suspend_until_completed_io() returned a record that is not in flight";
            return failure(errno_error(EINVAL));
          }
          const auto r = (*c)->result();
          PRIO_TRY(settle(w, ids[at], r ? result<std::size_t>(static_cast<std::size_t>(*r))
                                        : result<std::size_t>(failure(r.error()))));
        }
        break;
      }
      case 4:
        if (auto r = fdatasync(self, *w.f); !r) return ends_run(r.error(), "fdatasync");
        break;
      case 5: {  // read the region back: it matches the log
        auto r = read_exact(self, *w.f, w.readback.data(), region, w.base);
        if (!r) return ends_run(r.error(), "read_exact");
        if (*r < region) std::memset(w.readback.data() + *r, 0, region - *r);  // a hole at the end
        ++w.checks;
        if (auto bad = w.log.first_mismatch(w.readback.data()))
          ADD_FAILURE() << "byte " << *bad << " of region " << w.base / region << " reads "
                        << int(w.readback[*bad]) << ", which no write put there";
        break;
      }
    }
  }
  return std::int64_t{n};
}

void run_seed(std::uint64_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  struct restore {
    unsigned saved = detail::test_async_every;
    ~restore() { detail::test_async_every = saved; }
  } restore_async;
  detail::test_async_every = seed % 2 ? 2 : 0;
  std::mt19937_64 rng(seed);
  scratch_dir dir;
  auto ex = make_executor({.ring_entries = 8});
  ASSERT_TRUE(ex);
  const std::string path = dir / "data";
  file f;
  auto opened = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    auto o = open_file(t, AT_FDCWD, path.c_str(), rw_create);
    if (!o) return failure(o.error());
    f = std::move(*o);
    return std::int64_t{0};
  });
  ASSERT_TRUE(opened) << opened.error().message();

  const switcher_kind kinds[] = {switcher_kind::sjlj, switcher_kind::ucontext, switcher_kind::asm_switch};
  std::vector<std::unique_ptr<writer>> ws;
  for (int i = 0; i < task_count; ++i) {
    auto w = std::make_unique<writer>();
    w->t = make_task(kinds[rng() % 3], any_priority(rng), any_priority(rng));
    ASSERT_TRUE(w->t);
    w->f = &f;
    w->base = static_cast<std::uint64_t>(i) * region;
    w->rng.seed(seed * 1000 + static_cast<std::uint64_t>(i));
    w->bufs.resize(4 * max_write);
    w->readback.resize(region);
    writer* wp = w.get();
    w->t->set_body([wp](task& self) { return writer_body(self, *wp); });
    ws.push_back(std::move(w));
  }

  // Another thread cancels runs now and then (by run number: never a later run).
  std::atomic<bool> stop{false};
  std::thread canceller([&] {
    std::mt19937_64 r(seed + 77);
    while (!stop.load(std::memory_order_relaxed)) {
      writer& w = *ws[r() % task_count];
      const task_state s = w.t->state();
      if (s != task_state::idle && s != task_state::completed && r() % 64 == 0) (void)w.t->cancel(w.t->run_id());
      std::this_thread::yield();
    }
  });
  struct joiner {
    std::atomic<bool>& stop;
    std::thread& t;
    ~joiner() {
      stop.store(true);
      t.join();
    }
  } join_canceller{stop, canceller};

  for (int i = 0; i < rounds; ++i) {
    writer& w = *ws[rng() % task_count];
    const task_state s = w.t->state();
    const bool attached = s != task_state::idle && s != task_state::completed;
    switch (rng() % 4) {
      case 0:
      case 1: {
        auto r = ex->run(1 + rng() % 6, rng() % 2 ? 0ns : 1ms);
        if (!r) {
          ASSERT_EQ(r.error(), std::errc::stream_timeout) << r.error().message();
        }
        break;
      }
      case 2:
        if (!attached) {
          if (s == task_state::completed) {
            const auto& o = w.t->outcome();
            EXPECT_TRUE(o || is_cancelled(o)) << o.error().message();
            if (!o) ++w.cancelled_runs;
          }
          ASSERT_TRUE(ex->attach(*w.t));
        }
        break;
      case 3:
        if (attached) {
          EXPECT_TRUE(w.t->cancel());
        }
        break;
    }
  }
  drive(*ex, [&] {
    for (auto& w : ws)
      if (w->t->state() != task_state::completed && w->t->state() != task_state::idle) return false;
    return true;
  });
  auto closed = run_in_task(*ex, [&](task& t) -> result<std::int64_t> {
    PRIO_TRY(close_file(t, f));
    return std::int64_t{0};
  });
  ASSERT_TRUE(closed) << closed.error().message();

  std::string data = read_whole(path);
  data.resize(task_count * region, '\0');  // a hole at the end reads as zeros
  int runs = 0, cancelled = 0;
  for (auto& w : ws) {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data()) + w->base;
    if (auto bad = w->log.first_mismatch(bytes))
      ADD_FAILURE() << "byte " << *bad << " of region " << w->base / region << " holds " << int(bytes[*bad])
                    << ", which no write put there";
    runs += w->runs;
    cancelled += w->cancelled_runs;
  }
  ::testing::Test::RecordProperty("runs", runs);
  ::testing::Test::RecordProperty("cancelled_runs", cancelled);
}

struct CancelledWrites : ::testing::TestWithParam<std::uint64_t> {};

TEST_P(CancelledWrites, NoWriteThatReturnedIsLost) { run_seed(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Seeds, CancelledWrites, ::testing::Values(1, 2, 3, 4, 5, 6));

}  // namespace
}  // namespace prio::test
