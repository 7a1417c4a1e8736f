// Description: all five switchers on one executor at the same time: stackful
// and coroutine tasks interleave through yields, timers and NOP I/O.
#include "exec_helpers.hpp"
#include "prio/io/nop.hpp"

namespace prio::test {
namespace {

TEST(MixedSwitchers, AllFiveInterleave) {
  auto ex = make_executor();
  std::vector<std::string> log;
  std::vector<std::unique_ptr<task>> ts;
  for (switcher_kind k : {switcher_kind::sjlj, switcher_kind::ucontext, switcher_kind::asm_switch}) {
    ts.push_back(make_task(k));
    const std::string name(to_string(k));
    ts.back()->set_body([&log, name](task& self) -> result<std::int64_t> {
      for (int i = 0; i < 3; ++i) {
        log.push_back(name + std::to_string(i));
        PRIO_TRY(self.yield());
        PRIO_TRY(nop(self));
      }
      PRIO_TRY(self.suspend_for(0ns));
      return std::int64_t{1};
    });
  }
  ts.push_back(make_task(switcher_kind::coroutine));
  ts.back()->set_body([&log](task& self) -> co<result<std::int64_t>> {
    for (int i = 0; i < 3; ++i) {
      log.push_back("coroutine" + std::to_string(i));
      auto y = co_await self.async_yield();
      if (!y) co_return failure(y.error());
      auto n = co_await async_nop(self);
      if (!n) co_return failure(n.error());
    }
    auto s = co_await self.async_suspend_for(0ns);
    if (!s) co_return failure(s.error());
    co_return std::int64_t{1};
  });
  ts.push_back(make_task(switcher_kind::none));
  ts.back()->set_body([&log](task& self) -> result<std::int64_t> {
    log.push_back("none");
    // Suspending is refused with a clear error, not a crash.
    auto r = self.yield();
    EXPECT_FALSE(r);
    if (!r) {
      EXPECT_EQ(r.error(), make_error_code(errc::cannot_suspend));
    }
    return std::int64_t{1};
  });
  for (auto& t : ts) ASSERT_TRUE(ex->attach(*t));
  drive(*ex, [&] { return all_completed(ts); });
  for (auto& t : ts) {
    ASSERT_TRUE(t->outcome()) << to_string(t->switcher()) << ": " << t->outcome().error().message();
    EXPECT_EQ(*t->outcome(), 1);
  }
  // Round-robin within the level: every task's step 0 before anyone's step 1.
  ASSERT_EQ(log.size(), 13u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(log[i].back() == '0' || log[i] == "none", true) << log[i];
}

}  // namespace
}  // namespace prio::test
