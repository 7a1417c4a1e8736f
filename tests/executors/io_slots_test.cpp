// Description: submission slots: when the ring's in-flight limit is reached,
// waiting tasks get slots in I/O priority order (FIFO within a level), the
// low-priority cap holds, and a task's own operations keep their order.
#include "exec_helpers.hpp"
#include "prio/io/nop.hpp"

namespace prio::test {
namespace {

TEST(IoSlots, GrantedInPriorityOrder) {
  auto ex = make_executor({.ring_entries = 1, .cq_entries = 1});
  ASSERT_EQ(ex->max_in_flight(), 1u);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::vector<std::string> order;
  auto holder = make_task(switcher_kind::asm_switch, priority::high);
  char hb[1];
  holder->set_body([&](task& self) -> result<std::int64_t> {
    auto r = perform(self, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fds[0], hb, 1, 0); });
    order.push_back("holder");
    return r ? std::int64_t{*r} : std::int64_t{-1};
  });
  std::vector<std::unique_ptr<task>> waiters;
  const priority levels[] = {priority::low, priority::normal, priority::high, priority::low,
                             priority::normal, priority::high};
  for (int i = 0; i < 6; ++i) {
    waiters.push_back(make_task(switcher_kind::asm_switch, priority::normal, levels[i]));
    const std::string name = std::string(to_string(levels[i])) + std::to_string(i);
    waiters.back()->set_body([&order, name](task& self) -> result<std::int64_t> {
      PRIO_TRY(nop(self));
      order.push_back(name);
      return std::int64_t{0};
    });
  }
  ASSERT_TRUE(ex->attach(*holder));
  ASSERT_TRUE(ex->run(1, 0ns));  // the holder takes the only slot
  for (auto& w : waiters) ASSERT_TRUE(ex->attach(*w));
  ASSERT_TRUE(ex->run(6, 0ns));  // every waiter queues for a slot
  for (auto& w : waiters) ASSERT_EQ(w->state(), task_state::suspended_slot);
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  drive(*ex, [&] { return all_completed(waiters) && holder->state() == task_state::completed; });
  EXPECT_EQ(order, (std::vector<std::string>{"holder", "high2", "high5", "normal1", "normal4", "low0", "low3"}));
  EXPECT_GE(ex->stats().slot_waits, 6u);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(IoSlots, LowPriorityCap) {
  auto ex = make_executor({.ring_entries = 8, .low_priority_io_cap = 2});
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::vector<std::unique_ptr<task>> lows;
  char buf[4][1];
  for (int i = 0; i < 4; ++i) {
    lows.push_back(make_task(switcher_kind::asm_switch, priority::normal, priority::low));
    lows.back()->set_body([&, i](task& self) -> result<std::int64_t> {
      auto r = perform(self, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, fds[0], buf[i], 1, 0); });
      return r ? std::int64_t{*r} : std::int64_t{-1};
    });
    ASSERT_TRUE(ex->attach(*lows.back()));
  }
  auto high = make_task(switcher_kind::asm_switch, priority::normal, priority::high);
  high->set_body([](task& self) -> result<std::int64_t> {
    PRIO_TRY(nop(self));
    return std::int64_t{1};
  });
  ASSERT_TRUE(ex->run(4, 0ns));
  int in_slot = 0;
  for (auto& t : lows) in_slot += t->state() == task_state::suspended_io;
  EXPECT_EQ(in_slot, 2);  // the cap
  EXPECT_EQ(ex->stats().io_in_flight, 2u);
  // Higher priority I/O is not held back by the capped low level.
  ASSERT_TRUE(ex->attach(*high));
  drive(*ex, [&] { return high->state() == task_state::completed; });
  EXPECT_EQ(*high->outcome(), 1);
  ASSERT_EQ(::write(fds[1], "abcd", 4), 4);
  drive(*ex, [&] { return all_completed(lows); });
  for (auto& t : lows) EXPECT_EQ(*t->outcome(), 1);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(IoSlots, ManyInFlightCompletionOrder) {
  auto ex = make_executor({.ring_entries = 16});
  auto t = make_task(switcher_kind::asm_switch);
  static io_status st[256];
  int reaped = 0;
  t->set_body([&](task& self) -> result<std::int64_t> {
    // 256 NOPs through a ring of 16 SQEs and 32 in-flight slots: initiate
    // suspends for slots as needed; reap all in completion order.
    for (auto& s : st) {
      PRIO_TRY(initiate_nop(self, s));
      while (true) {  // reap what is already complete without waiting
        auto r = self.suspend_until_completed_io(0ns);
        if (!r || !*r) break;
        ++reaped;
      }
    }
    for (;;) {
      auto r = self.suspend_until_completed_io();
      if (!r) return failure(r.error());
      if (!*r) break;
      EXPECT_EQ((*r)->res, 0);
      EXPECT_LE((*r)->initiated, (*r)->completed);
      ++reaped;
    }
    return std::int64_t{reaped};
  });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  ASSERT_TRUE(t->outcome()) << t->outcome().error().message();
  EXPECT_EQ(*t->outcome(), 256);
}

TEST(IoSlots, ComputeOnlyExecutorRefusesIo) {
  auto ex = make_executor({.ring_entries = 0});
  auto t = make_task(switcher_kind::asm_switch);
  std::error_code seen;
  t->set_body([&](task& self) -> result<std::int64_t> {
    auto r = nop(self);
    if (!r) seen = r.error();
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return t->state() == task_state::completed; });
  EXPECT_EQ(seen, std::errc::operation_not_supported);
}

// A task that cannot suspend (switcher none) finds the slots taken: its
// initiate() fails at once with errc::cannot_suspend, nothing is queued for
// it, and a later free slot never wakes it (it ran once and completed).
TEST(IoSlots, TaskThatCannotWaitIsRefusedNotQueued) {
  auto ex = make_executor({.ring_entries = 1, .cq_entries = 1});
  ASSERT_EQ(ex->max_in_flight(), 1u);
  test_pipe p;
  ASSERT_TRUE(p.ok());
  auto holder = make_task(switcher_kind::asm_switch);
  char hb[1];
  holder->set_body([&](task& self) -> result<std::int64_t> {
    auto r = perform(self, [&](io_uring_sqe* sqe) { io_uring_prep_read(sqe, p.read_end(), hb, 1, 0); });
    return r ? std::int64_t{*r} : std::int64_t{-1};
  });
  auto none = make_task(switcher_kind::none);
  static io_status st;
  result<void> initiated = success();
  int runs = 0;
  none->set_body([&](task& self) -> result<std::int64_t> {
    ++runs;
    initiated = initiate_nop(self, st);
    return std::int64_t{0};
  });
  ASSERT_TRUE(ex->attach(*holder));
  ASSERT_TRUE(ex->run(1, 0ns));  // the holder takes the only slot
  ASSERT_TRUE(ex->attach(*none));
  ASSERT_TRUE(ex->run(1, 0ns));
  EXPECT_EQ(none->state(), task_state::completed);
  ASSERT_FALSE(initiated);
  EXPECT_EQ(initiated.error(), make_error_code(errc::cannot_suspend));
  EXPECT_EQ(st.state, io_state::idle);
  EXPECT_EQ(ex->stats().slot_waits, 0u);
  ASSERT_EQ(::write(p.write_end(), "x", 1), 1);
  drive(*ex, [&] { return holder->state() == task_state::completed; });
  (void)ex->run(SIZE_MAX, 0ns);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(none->state(), task_state::completed);
  EXPECT_EQ(ex->stats().io_in_flight, 0u);
}

}  // namespace
}  // namespace prio::test
