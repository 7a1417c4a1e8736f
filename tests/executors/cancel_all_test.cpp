// Description: executor::cancel_all() cancels every task attached before
// the call, in every state (pending, runnable, on a timer, on I/O, waiting
// for a submission slot, the caller itself), on the executor's thread at
// once and from another thread at the executor's next turn (waking it);
// tasks attached afterwards run as usual (also those attached between a
// call from another thread and the executor's next turn); a closed
// executor refuses; under
// attaches racing with it, no task attached before the last call is missed.
// cancel_and_drain() ends every task through its own code (locals
// destroyed, I/O drained), times out on one that keeps coming back, and is
// refused inside a task and on a thread the executor is not bound to.
#include <algorithm>
#include <atomic>
#include <span>
#include <thread>
#include <vector>

#include "exec_helpers.hpp"
#include "prio/executors/io_op.hpp"

namespace prio::test {
namespace {

// A body that yields until a yield fails, keeping that error.
void yield_until_error(task& t, std::error_code& seen) {
  t.set_body([&seen](task& self) -> result<std::int64_t> {
    for (std::int64_t n = 0;; ++n)
      if (auto r = self.yield(); !r) {
        seen = r.error();
        return n;
      }
  });
}

// A body that reads from the pipe (nothing is ever written), keeping the
// read's error.
void read_forever(task& t, const test_pipe& p, char* buf, std::error_code& seen) {
  t.set_body([&p, buf, &seen](task& self) -> result<std::int64_t> {
    auto r = perform(self, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, p.read_end(), buf, 8, 0); });
    if (!r) seen = r.error();
    return std::int64_t{0};
  });
}

TEST(CancelAll, OnItsThreadEveryStateAtOnce) {
  auto ex = make_executor({.ring_entries = 1, .cq_entries = 1});
  ASSERT_TRUE(ex);
  ASSERT_EQ(ex->max_in_flight(), 1u);
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));  // bind to this thread
  test_pipe p;
  ASSERT_TRUE(p.ok());
  char buf[2][8];
  auto io = make_task(switcher_kind::asm_switch), slot = make_task(switcher_kind::asm_switch);
  auto timer = make_task(switcher_kind::sjlj), yielder = make_task(switcher_kind::ucontext);
  auto pending = make_task(switcher_kind::none), later = make_task(switcher_kind::none);
  std::error_code io_seen, slot_seen, timer_seen, yield_seen;
  std::atomic<bool> waiting{false};
  read_forever(*io, p, buf[0], io_seen);
  read_forever(*slot, p, buf[1], slot_seen);
  wait_an_hour(*timer, waiting, timer_seen, 3);
  yield_until_error(*yielder, yield_seen);
  bool pending_ran = false;
  pending->set_body([&](task&) -> result<std::int64_t> {
    pending_ran = true;
    return std::int64_t{0};
  });
  later->set_body([](task&) -> result<std::int64_t> { return std::int64_t{9}; });
  for (task* t : {io.get(), slot.get(), timer.get(), yielder.get()}) ASSERT_TRUE(ex->attach(*t));
  ASSERT_TRUE(ex->run(4, 0ns));  // each launched once
  ASSERT_TRUE(ex->attach(*pending));
  ASSERT_EQ(io->state(), task_state::suspended_io);
  ASSERT_EQ(slot->state(), task_state::suspended_slot);
  ASSERT_EQ(timer->state(), task_state::suspended_timer);
  ASSERT_EQ(yielder->state(), task_state::runnable);
  ASSERT_EQ(pending->state(), task_state::pending);

  ASSERT_TRUE(ex->cancel_all());
  EXPECT_EQ(pending->state(), task_state::completed) << "an unlaunched task ends at once";
  EXPECT_TRUE(is_cancelled(pending->outcome()));
  EXPECT_EQ(slot->state(), task_state::runnable) << "a slot waiter leaves the queue at once";
  ASSERT_TRUE(ex->attach(*later));
  drive(*ex, [&] {
    for (task* t : {io.get(), slot.get(), timer.get(), yielder.get(), later.get()})
      if (t->state() != task_state::completed) return false;
    return true;
  });
  EXPECT_FALSE(pending_ran);
  EXPECT_EQ(io_seen, std::errc::operation_canceled);
  EXPECT_EQ(slot_seen, std::errc::operation_canceled);
  EXPECT_EQ(timer_seen, std::errc::operation_canceled);
  EXPECT_EQ(yield_seen, std::errc::operation_canceled);
  EXPECT_EQ(*later->outcome(), 9) << "attached after the call: not cancelled";
  const executor_stats s = ex->stats();
  EXPECT_EQ(s.cancelled, 5u);
  EXPECT_EQ(s.io_in_flight, 0u);
}

// Called from a task's body: that task is cancelled too (its next wait
// fails), and a task it attaches afterwards is not.
TEST(CancelAll, FromATaskCancelsItselfToo) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto sleeper = make_task(switcher_kind::asm_switch);
  auto caller = make_task(switcher_kind::asm_switch);
  auto child = make_task(switcher_kind::none);
  std::atomic<bool> waiting{false};
  std::error_code sleeper_seen, caller_seen;
  wait_an_hour(*sleeper, waiting, sleeper_seen, 1);
  child->set_body([](task&) -> result<std::int64_t> { return std::int64_t{5}; });
  caller->set_body([&](task& self) -> result<std::int64_t> {
    if (auto r = self.current_executor()->cancel_all(); !r) return failure(r.error());
    if (auto r = self.current_executor()->attach(*child); !r) return failure(r.error());
    auto r = self.yield();
    if (!r) caller_seen = r.error();
    return std::int64_t{2};
  });
  ASSERT_TRUE(ex->attach(*sleeper));
  ASSERT_TRUE(ex->run(1, 0ns));
  ASSERT_EQ(sleeper->state(), task_state::suspended_timer);
  ASSERT_TRUE(ex->attach(*caller));
  drive(*ex, [&] {
    return sleeper->state() == task_state::completed && caller->state() == task_state::completed &&
           child->state() == task_state::completed;
  });
  EXPECT_EQ(sleeper_seen, std::errc::operation_canceled);
  EXPECT_EQ(caller_seen, std::errc::operation_canceled);
  EXPECT_EQ(*caller->outcome(), 2);
  EXPECT_EQ(*child->outcome(), 5);
}

// From another thread while the executor sleeps in the kernel: woken, and
// every waiting task (stackful and coroutine) resumes with ECANCELED.
TEST(CancelAll, FromAnotherThreadWakesTheExecutor) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  constexpr int n = 6;
  std::vector<std::unique_ptr<task>> ts;
  std::atomic<int> waiting{0};
  std::error_code seen[n];
  for (int i = 0; i < n; ++i) {
    const bool coro = i % 2 != 0;
    ts.push_back(make_task(coro ? switcher_kind::coroutine : switcher_kind::asm_switch));
    if (coro)
      ts.back()->set_body([&, i](task& self) -> co<result<std::int64_t>> {
        waiting.fetch_add(1, std::memory_order_release);
        if (auto r = co_await self.async_suspend_for(std::chrono::hours(1)); !r) seen[i] = r.error();
        co_return std::int64_t{i};
      });
    else
      ts.back()->set_body([&, i](task& self) -> result<std::int64_t> {
        waiting.fetch_add(1, std::memory_order_release);
        if (auto r = self.suspend_for(std::chrono::hours(1)); !r) seen[i] = r.error();
        return std::int64_t{i};
      });
    ASSERT_TRUE(ex->attach(*ts.back()));
  }
  std::thread canceller([&] {
    while (waiting.load(std::memory_order_acquire) != n) std::this_thread::yield();
    EXPECT_TRUE(ex->cancel_all());
  });
  drive(*ex, [&] { return all_completed(ts); });
  canceller.join();
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(seen[i], std::errc::operation_canceled) << i;
    EXPECT_EQ(*ts[i]->outcome(), i);
  }
  EXPECT_EQ(ex->stats().cancelled, static_cast<std::uint64_t>(n));
}

// A request from another thread that finds the executor already asked
// (its doorbell ahead of a later attach in the cross-thread queue) still
// reaches the task attached in between.
TEST(CancelAll, AttachBehindAnEarlierRequestIsCancelled) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));  // bound here: the others are remote
  auto t = make_task(switcher_kind::none);
  bool ran = false;
  t->set_body([&ran](task&) -> result<std::int64_t> {
    ran = true;
    return std::int64_t{0};
  });
  std::thread([&] {
    EXPECT_TRUE(ex->cancel_all());  // nothing attached yet; rings
    EXPECT_TRUE(ex->attach(*t));
    EXPECT_TRUE(ex->cancel_all());  // rung already: no second doorbell
  }).join();
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_FALSE(ran);
  EXPECT_TRUE(is_cancelled(t->outcome()));
}

// A request from another thread lands at the executor's next turn, but it
// spares what was attached after the call returned: from that thread, and
// from the executor's own (which used to be cancelled with the rest).
TEST(CancelAll, FromAnotherThreadSparesLaterAttaches) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));  // bound here
  auto before = make_task(switcher_kind::asm_switch);
  auto remote_after = make_task(switcher_kind::asm_switch);
  auto local_after = make_task(switcher_kind::asm_switch);
  std::error_code seen_before;
  yield_until_error(*before, seen_before);
  for (task* t : {remote_after.get(), local_after.get()})
    t->set_body([](task& self) -> result<std::int64_t> {
      PRIO_TRY(self.yield());
      return std::int64_t{42};
    });
  ASSERT_TRUE(ex->attach(*before));
  std::thread([&] {
    EXPECT_TRUE(ex->cancel_all());
    EXPECT_TRUE(ex->attach(*remote_after));  // after the call returned
  }).join();
  ASSERT_TRUE(ex->attach(*local_after));  // after it too (the join orders it)
  drive(*ex, [&] { return before->state() == task_state::completed &&
                          remote_after->state() == task_state::completed &&
                          local_after->state() == task_state::completed; });
  EXPECT_TRUE(is_cancelled(before->outcome()));  // it never launched
  ASSERT_TRUE(remote_after->outcome()) << remote_after->outcome().error().message();
  EXPECT_EQ(*remote_after->outcome(), 42);
  ASSERT_TRUE(local_after->outcome()) << local_after->outcome().error().message();
  EXPECT_EQ(*local_after->outcome(), 42);
}

// Before the first run(): the request waits for it; nothing launches.
TEST(CancelAll, BeforeTheFirstRun) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  std::vector<std::unique_ptr<task>> ts;
  int ran = 0;
  for (int i = 0; i < 3; ++i) {
    ts.push_back(make_task(switcher_kind::none));
    ts.back()->set_body([&ran](task&) -> result<std::int64_t> { return std::int64_t{++ran}; });
    ASSERT_TRUE(ex->attach(*ts.back()));
  }
  ASSERT_TRUE(ex->cancel_all());
  for (auto& t : ts) EXPECT_EQ(t->state(), task_state::pending);
  drive(*ex, [&] { return all_completed(ts); });
  EXPECT_EQ(ran, 0);
  for (auto& t : ts) EXPECT_TRUE(is_cancelled(t->outcome()));
}

// An executor being destroyed refuses: a completion hook that runs during
// its shutdown gets executor_closed.
TEST(CancelAll, ClosedExecutorRefuses) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto t = make_task(switcher_kind::none);
  t->set_body([](task&) -> result<std::int64_t> { return std::int64_t{0}; });
  struct probe {
    executor* ex;
    std::error_code got;
    int calls = 0;
  } pr{ex.get(), {}, 0};
  t->set_on_complete(
      [](task&, void* arg) {
        auto* p = static_cast<probe*>(arg);
        ++p->calls;
        if (auto r = p->ex->cancel_all(); !r) p->got = r.error();
      },
      &pr);
  ASSERT_TRUE(ex->attach(*t));
  ex.reset();  // t never launched: it completes with executor_closed
  EXPECT_EQ(pr.calls, 1);
  EXPECT_EQ(pr.got, errc::executor_closed);
  ASSERT_FALSE(t->outcome());
  EXPECT_EQ(t->outcome().error(), errc::executor_closed);
}

// Two threads attach tasks that wait an hour (one at a time and in
// batches) while a third calls cancel_all() over and over, and once more
// when every attach has returned: every task ends, cancelled, exactly once.
TEST(CancelAll, RacingAttachesNoneMissed) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));
  constexpr int attachers = 2, per_thread = 300;
  constexpr int n = attachers * per_thread;
  std::vector<std::unique_ptr<task>> ts;
  std::vector<std::atomic<int>> completions(n);
  for (int i = 0; i < n; ++i) {
    ts.push_back(make_task(i % 3 == 0 ? switcher_kind::coroutine : switcher_kind::asm_switch,
                           static_cast<priority>(i % 3)));
    if (i % 3 == 0)
      ts.back()->set_body([](task& self) -> co<result<std::int64_t>> {
        if (auto r = co_await self.async_suspend_for(std::chrono::hours(1)); !r) co_return failure(r.error());
        co_return std::int64_t{1};
      });
    else
      ts.back()->set_body([](task& self) -> result<std::int64_t> {
        PRIO_TRY(self.suspend_for(std::chrono::hours(1)));
        return std::int64_t{1};
      });
    ts.back()->set_on_complete([](task&, void* c) { static_cast<std::atomic<int>*>(c)->fetch_add(1); },
                               &completions[i]);
  }
  std::atomic<int> attaching{attachers};
  std::vector<std::thread> th;
  for (int a = 0; a < attachers; ++a)
    th.emplace_back([&, a] {
      for (int i = 0; i < per_thread;) {
        task* batch[4];
        const int k = std::min(i % 2 == 0 ? 1 : 4, per_thread - i);
        for (int j = 0; j < k; ++j) batch[j] = ts[a * per_thread + i + j].get();
        EXPECT_TRUE(ex->attach(std::span<task* const>(batch, k)));
        i += k;
      }
      attaching.fetch_sub(1, std::memory_order_release);
    });
  th.emplace_back([&] {
    while (attaching.load(std::memory_order_acquire) != 0) {
      EXPECT_TRUE(ex->cancel_all());
      std::this_thread::yield();
    }
    EXPECT_TRUE(ex->cancel_all());  // every attach has returned
  });
  drive(*ex, [&] { return all_completed(ts); });
  for (auto& t : th) t.join();
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(completions[i].load(), 1) << i;
    EXPECT_TRUE(is_cancelled(ts[i]->outcome())) << i;
  }
  EXPECT_EQ(ex->stats().cancelled, static_cast<std::uint64_t>(n));
}

// unwind_probe: a local whose destructor counts: the body's own code ran
// to its end (its stack unwound), not abandoned mid-body.
struct unwind_probe {
  std::atomic<int>& unwound;
  ~unwind_probe() { unwound.fetch_add(1); }
};

// cancel_and_drain() ends tasks in every kind of wait through their own
// code, drains their I/O, and leaves the executor usable.
TEST(CancelAndDrain, EveryTaskEndsThroughItsOwnCode) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  ASSERT_FALSE(ex->run(SIZE_MAX, 0ns));
  test_pipe p;
  ASSERT_TRUE(p.ok());
  std::atomic<int> unwound{0};
  std::vector<std::unique_ptr<task>> ts;
  char buf[8];
  // A timer wait, an I/O wait, a yielder, a coroutine on a timer, and one
  // attached from another thread that never launched.
  ts.push_back(make_task(switcher_kind::asm_switch));
  ts.back()->set_body([&](task& self) -> result<std::int64_t> {
    unwind_probe g{unwound};
    PRIO_TRY(self.suspend_for(std::chrono::hours(1)));
    return std::int64_t{0};
  });
  ts.push_back(make_task(switcher_kind::sjlj));
  ts.back()->set_body([&](task& self) -> result<std::int64_t> {
    unwind_probe g{unwound};
    PRIO_TRY(perform(self, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, p.read_end(), buf, 8, 0); }));
    return std::int64_t{0};
  });
  ts.push_back(make_task(switcher_kind::ucontext));
  ts.back()->set_body([&](task& self) -> result<std::int64_t> {
    unwind_probe g{unwound};
    for (;;) PRIO_TRY(self.yield());
  });
  ts.push_back(make_task(switcher_kind::coroutine));
  ts.back()->set_body([&](task& self) -> co<result<std::int64_t>> {
    unwind_probe g{unwound};
    if (auto r = co_await self.async_suspend_for(std::chrono::hours(1)); !r) co_return failure(r.error());
    co_return std::int64_t{0};
  });
  for (auto& t : ts) ASSERT_TRUE(ex->attach(*t));
  ASSERT_TRUE(ex->run(4, 0ns));
  ts.push_back(make_task(switcher_kind::none));
  bool late_ran = false;
  ts.back()->set_body([&](task&) -> result<std::int64_t> {
    late_ran = true;
    return std::int64_t{0};
  });
  std::thread([&] { ASSERT_TRUE(ex->attach(*ts.back())); }).join();
  EXPECT_EQ(ex->stats().tasks, 4u) << "the remote attach is not taken in yet";

  ASSERT_TRUE(ex->cancel_and_drain(20s));
  EXPECT_TRUE(all_completed(ts));
  EXPECT_EQ(unwound.load(), 4);
  EXPECT_FALSE(late_ran);
  for (auto& t : ts) EXPECT_TRUE(is_cancelled(t->outcome()));
  const executor_stats s = ex->stats();
  EXPECT_EQ(s.tasks, 0u);
  EXPECT_EQ(s.io_in_flight, 0u);
  // Still usable.
  auto next = make_task(switcher_kind::asm_switch);
  next->set_body([](task& self) -> result<std::int64_t> {
    PRIO_TRY(self.yield());
    return std::int64_t{8};
  });
  ASSERT_TRUE(ex->attach(*next));
  drive(*ex, [&] { return next->state() == task_state::completed; });
  EXPECT_EQ(*next->outcome(), 8);
}

// A task whose completion hook attaches it again (a service that restarts
// itself): every turn cancels it and it comes back, so the call ends with
// ETIME and the task attached; once the hook lets it go, a second call
// drains it.
TEST(CancelAndDrain, TaskThatKeepsComingBackTimesOut) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto t = make_task(switcher_kind::asm_switch);
  t->set_body([](task& self) -> result<std::int64_t> {
    PRIO_TRY(self.yield());
    return std::int64_t{1};
  });
  struct restarter {
    executor* ex;
    bool again = true;
    int restarts = 0;
  } rs{ex.get()};
  t->set_on_complete(
      [](task& self, void* arg) {
        auto* r = static_cast<restarter*>(arg);
        if (!r->again) return;
        ++r->restarts;
        EXPECT_TRUE(r->ex->attach(self));
      },
      &rs);
  ASSERT_TRUE(ex->attach(*t));
  auto r = ex->cancel_and_drain(20ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::stream_timeout);
  EXPECT_EQ(ex->stats().tasks, 1u);
  EXPECT_GT(rs.restarts, 0);
  rs.again = false;
  ASSERT_TRUE(ex->cancel_and_drain(20s));
  EXPECT_EQ(t->state(), task_state::completed);
  EXPECT_EQ(ex->stats().tasks, 0u);
}

// Not from inside a task of the executor, nor from a thread it is not
// bound to.
TEST(CancelAndDrain, WrongPlacesAreRefused) {
  auto ex = make_executor();
  ASSERT_TRUE(ex);
  auto t = make_task(switcher_kind::asm_switch);
  std::error_code inside;
  t->set_body([&](task& self) -> result<std::int64_t> {
    if (auto r = self.current_executor()->cancel_and_drain(1s); !r) inside = r.error();
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_EQ(inside, std::errc::resource_deadlock_would_occur);
  std::error_code elsewhere;
  std::thread([&] {
    if (auto r = ex->cancel_and_drain(1s); !r) elsewhere = r.error();
  }).join();
  EXPECT_EQ(elsewhere, errc::not_on_executor);
}

}  // namespace
}  // namespace prio::test
