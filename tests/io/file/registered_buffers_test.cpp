// Description: registered buffers: both pools register on the executor's
// thread, reads and writes through them match pread/pwrite, exhaustion
// either fails at once (ENOBUFS) or waits, and waiters are handed buffers
// in FIFO order; a timed-out or cancelled waiter leaves the queue; a second
// release of a buffer is refused.
#include "file_helpers.hpp"
#include "prio/io/registered_buffers.hpp"
#include "prio/runtime/config.hpp"

namespace prio::test {
namespace {

// with_pool() runs body(t, pool) in a task with a pool made on ex's thread.
result<std::int64_t> with_pool(executor& ex, registered_buffer_options o,
                               std::function<result<std::int64_t>(task&, registered_buffers&)> body) {
  return run_in_task(ex, [&](task& t) -> result<std::int64_t> {
    auto pool = registered_buffers::create(ex, o);
    if (!pool) return failure(pool.error());
    return body(t, **pool);
  });
}

TEST(RegisteredBuffers, CreateNeedsTheBoundThread) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto early = registered_buffers::create(*ex, {});
  EXPECT_EQ(early.error(), errc::not_on_executor) << "no bound thread before run()";
  auto compute = make_executor(executor_options{.ring_entries = 0});
  EXPECT_EQ(registered_buffers::create(*compute, {}).error(), std::errc::operation_not_supported);
  auto out = with_pool(*ex, {.small_count = 3, .large_count = 1}, [](task&, registered_buffers& p) {
    EXPECT_EQ(p.count(buffer_size::small), 3u);
    EXPECT_EQ(p.count(buffer_size::large), 1u);
    EXPECT_EQ(p.free_count(buffer_size::large), 1u);
    return result<std::int64_t>(0);
  });
  EXPECT_TRUE(out) << out.error().message();
  auto zero = with_pool(*ex, {.small_count = 0, .large_count = 0}, [](task&, registered_buffers&) {
    return result<std::int64_t>(0);
  });
  EXPECT_EQ(zero.error(), std::errc::invalid_argument);
}

TEST(RegisteredBuffers, CountsComeFromTheConfig) {
  auto c = config::from_string("registered_buffers_small=7\nregistered_buffers_large=2\n", default_schema());
  ASSERT_TRUE(c);
  auto o = registered_buffer_options::from_config(*c);
  EXPECT_EQ(o.small_count, 7u);
  EXPECT_EQ(o.large_count, 2u);
}

TEST(RegisteredBuffers, FixedReadAndWriteMatchPlainSyscalls) {
  scratch_dir dir;
  const std::string data = pattern(large_buffer_bytes, 31);
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto out = with_pool(*ex, {.small_count = 2, .large_count = 1}, [&](task& t, registered_buffers& p) -> result<std::int64_t> {
    auto f = open_file(t, dir.fd(), "fx", rw_create);
    if (!f) return failure(f.error());
    auto big = p.claim(t, buffer_size::large);
    auto small = p.claim(t, buffer_size::small);
    if (!big || !small) return failure(errno_error(ENOBUFS));
    EXPECT_EQ(big->size, large_buffer_bytes);
    EXPECT_EQ(small->size, small_buffer_bytes);
    std::memcpy(big->data, data.data(), data.size());
    auto w = write_fixed(t, *f, *big, data.size(), 0);
    EXPECT_EQ(w ? *w : 0, data.size());
    auto r = read_fixed(t, *f, *small, small_buffer_bytes, 8192);
    EXPECT_EQ(r ? *r : 0, small_buffer_bytes);
    EXPECT_EQ(std::memcmp(small->data, data.data() + 8192, small_buffer_bytes), 0);
    EXPECT_EQ(read_fixed(t, *f, *small, small_buffer_bytes + 1, 0).error(), std::errc::invalid_argument);
    io_status st;
    PRIO_TRY(initiate_read_fixed(t, st, *f, *small, 100, 5));
    auto done = t.suspend_until_completed_io();
    EXPECT_TRUE(done && *done == &st && st.res == 100);
    p.release(*big);
    p.release(*small);
    EXPECT_EQ(p.free_count(buffer_size::large), 1u);
    return close_file(t, *f) ? 0 : -1;
  });
  ASSERT_TRUE(out) << out.error().message();
  std::string back = read_whole(dir / "fx");
  EXPECT_TRUE(back == data);
}

TEST(RegisteredBuffers, ExhaustionFailsFastOrTimesOut) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto out = with_pool(*ex, {.small_count = 1, .large_count = 0}, [&](task& t, registered_buffers& p) -> result<std::int64_t> {
    auto a = p.claim(t, buffer_size::small, claim_mode::fail_fast);
    EXPECT_TRUE(a);
    EXPECT_EQ(p.claim(t, buffer_size::small, claim_mode::fail_fast).error(), std::errc::no_buffer_space);
    EXPECT_EQ(p.claim(t, buffer_size::large, claim_mode::fail_fast).error(), std::errc::no_buffer_space)
        << "an empty pool";
    EXPECT_EQ(p.claim(t, buffer_size::large, claim_mode::wait).error(), std::errc::no_buffer_space)
        << "waiting on a pool of none would be forever";
    auto timed = p.claim(t, buffer_size::small, claim_mode::wait, std::chrono::milliseconds(1));
    EXPECT_EQ(timed.error(), std::errc::stream_timeout);
    EXPECT_EQ(p.waiting(buffer_size::small), 0u) << "a timed-out waiter leaves the queue";
    p.release(*a);
    ::testing::internal::CaptureStderr();
    p.release(*a);  // twice: refused, else two claims below would share it
    EXPECT_NE(::testing::internal::GetCapturedStderr().find("released while not claimed"), std::string::npos);
    EXPECT_EQ(p.free_count(buffer_size::small), 1u);
    auto again = p.claim(t, buffer_size::small, claim_mode::fail_fast);
    EXPECT_TRUE(again);
    EXPECT_EQ(p.claim(t, buffer_size::small, claim_mode::fail_fast).error(), std::errc::no_buffer_space)
        << "one buffer, handed out once";
    p.release(*again);
    return 0;
  });
  EXPECT_TRUE(out) << out.error().message();
}

TEST(RegisteredBuffers, CoroutineClaimOfASizeThePoolHasNoneOfFailsAtOnce) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto t = make_task(switcher_kind::coroutine);
  result<registered_buffer> got = failure(errno_error(EINVAL));
  t->set_body([&](task& self) -> co<result<std::int64_t>> {
    auto pool = registered_buffers::create(*self.current_executor(), {.small_count = 1, .large_count = 0});
    if (!pool) co_return failure(pool.error());
    got = co_await (*pool)->async_claim(self, buffer_size::large);
    co_return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  ASSERT_TRUE(t->outcome()) << t->outcome().error().message();
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), std::errc::no_buffer_space);
}

TEST(RegisteredBuffers, WaitersAreServedInFifoOrderAndCancelLeavesTheQueue) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  std::unique_ptr<registered_buffers> pool;
  std::vector<int> served;
  registered_buffer held;
  auto owner = make_task(switcher_kind::asm_switch);
  ASSERT_TRUE(owner);
  owner->set_body([&](task& t) -> result<std::int64_t> {
    auto p = registered_buffers::create(*ex, {.small_count = 1, .large_count = 0});
    if (!p) return failure(p.error());
    pool = std::move(*p);
    held = pool->claim(t, buffer_size::small).value();
    return 0;
  });
  ASSERT_TRUE(ex->attach(*owner));
  drive(*ex, [&] { return owner->state() == task_state::completed; });
  ASSERT_TRUE(owner->outcome()) << owner->outcome().error().message();
  // Five waiters (one a coroutine); the third is cancelled while it waits.
  std::vector<std::unique_ptr<task>> ts;
  std::vector<result<registered_buffer>> got(5, failure(errno_error(EINVAL)));
  for (int i = 0; i < 5; ++i) {
    const bool coro = i == 3;
    ts.push_back(make_task(coro ? switcher_kind::coroutine : switcher_kind::asm_switch));
    if (coro) {
      struct arg_t { registered_buffers** p; std::vector<int>* served; result<registered_buffer>* got; int i; };
      static arg_t arg;
      arg = {nullptr, &served, &got[i], i};
      static registered_buffers* pp;
      pp = pool.get();
      arg.p = &pp;
      ts.back()->set_body(+[](task& t) -> co<result<std::int64_t>> {
        auto& a = *static_cast<arg_t*>(t.user_ptr());
        *a.got = co_await (*a.p)->async_claim(t, buffer_size::small);
        if (*a.got) {
          a.served->push_back(a.i);
          (*a.p)->release(**a.got);
        }
        co_return 0;
      }, &arg);
    } else {
      ts.back()->set_body([&, i](task& t) -> result<std::int64_t> {
        got[i] = pool->claim(t, buffer_size::small);
        if (got[i]) {
          served.push_back(i);
          pool->release(*got[i]);
        }
        return 0;
      });
    }
    ASSERT_TRUE(ex->attach(*ts.back()));
  }
  // Let all five reach the queue (nothing to do once they wait).
  while (pool->waiting(buffer_size::small) < 5) ASSERT_TRUE(ex->run(SIZE_MAX, std::chrono::seconds(10)));
  EXPECT_EQ(ts[2]->state(), task_state::suspended_other);
  auto& t2 = *ts[2];
  auto canceller = make_task(switcher_kind::asm_switch);
  canceller->set_body([&](task&) -> result<std::int64_t> {
    PRIO_TRY(t2.cancel());
    EXPECT_EQ(pool->waiting(buffer_size::small), 5u) << "it leaves when it runs";
    pool->release(held);  // hands the one buffer to waiter 0; each passes it on
    return 0;
  });
  ASSERT_TRUE(ex->attach(*canceller));
  drive(*ex, [&] { return all_completed(ts) && canceller->state() == task_state::completed; });
  EXPECT_EQ(served, (std::vector<int>{0, 1, 3, 4}));
  EXPECT_EQ(got[2].error(), std::errc::operation_canceled);
  EXPECT_EQ(pool->waiting(buffer_size::small), 0u);
  EXPECT_EQ(pool->free_count(buffer_size::small), 1u);
  auto cleanup = run_in_task(*ex, [&](task&) -> result<std::int64_t> {
    pool.reset();  // unregistered on the bound thread
    return 0;
  });
  EXPECT_TRUE(cleanup);
}

// A pipeline: the claimer hands its buffer to a writer task, which releases
// it. The claimer then holds (as claimer) every buffer and waits for the
// next: a legitimate wait, not a deadlock, so it is not refused.
TEST(RegisteredBuffers, AClaimerHoldingEveryBufferWaitsForAnotherTasksRelease) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  std::unique_ptr<registered_buffers> pool;
  registered_buffer handed;
  result<registered_buffer> second = failure(errno_error(EINVAL));
  auto claimer = make_task(switcher_kind::asm_switch);
  auto writer = make_task(switcher_kind::coroutine);
  ASSERT_TRUE(claimer && writer);
  writer->set_body([&](task&) -> co<result<std::int64_t>> {
    EXPECT_EQ(pool->waiting(buffer_size::small), 1u) << "the claimer waits";
    pool->release(handed);  // done with it: to the waiting claimer
    co_return std::int64_t{0};
  });
  claimer->set_body([&](task& t) -> result<std::int64_t> {
    auto p = registered_buffers::create(*ex, {.small_count = 1, .large_count = 0});
    if (!p) return failure(p.error());
    pool = std::move(*p);
    handed = pool->claim(t, buffer_size::small).value();
    PRIO_TRY(ex->attach(*writer));
    second = pool->claim(t, buffer_size::small, claim_mode::wait, std::chrono::seconds(30));
    if (second) pool->release(*second);
    pool.reset();
    return 0;
  });
  ASSERT_TRUE(ex->attach(*claimer));
  drive(*ex, [&] {
    return claimer->state() == task_state::completed && writer->state() == task_state::completed;
  });
  ASSERT_TRUE(claimer->outcome()) << claimer->outcome().error().message();
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(second->data, handed.data);
}

TEST(RegisteredBuffers, ReleaseWithNoWaiterDoesNotBarge) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto out = with_pool(*ex, {.small_count = 1, .large_count = 0}, [&](task& t, registered_buffers& p) -> result<std::int64_t> {
    auto a = p.claim(t, buffer_size::small);
    EXPECT_TRUE(a);
    p.release(*a);
    auto b = p.try_claim(buffer_size::small);
    EXPECT_TRUE(b);
    EXPECT_EQ(b->data, a->data) << "LIFO: the warm buffer again";
    p.release(*b);
    return 0;
  });
  EXPECT_TRUE(out) << out.error().message();
}

}  // namespace
}  // namespace prio::test
