// Description: suspend() is a clear error (errc::cannot_suspend), never a
// crash, where there is nothing to suspend: the none and coroutine switchers
// and any context that is not running.
#include "switcher_param.hpp"

namespace prio::test {
namespace {

struct probe {
  context* ctx;
  std::error_code err;
  bool returned = false;
};

void try_suspend(void* a) {
  auto* p = static_cast<probe*>(a);
  auto r = p->ctx->suspend();
  if (!r) p->err = r.error();
  p->returned = true;
}

TEST(cannot_suspend, none_switcher_gives_error) {
  auto c = make(switcher_kind::none);
  ASSERT_TRUE(c);
  probe p{c.get(), {}};
  c->start(&try_suspend, &p);
  c->resume();
  EXPECT_TRUE(p.returned);
  EXPECT_EQ(p.err, errc::cannot_suspend);
  EXPECT_EQ(p.err.category(), prio_category());
  EXPECT_EQ(c->state(), context_state::finished);
  EXPECT_EQ(c->stack().base, nullptr);
}

TEST(cannot_suspend, coroutine_switcher_gives_error) {
  auto c = make(switcher_kind::coroutine);
  ASSERT_TRUE(c);
  auto r = c->suspend();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::cannot_suspend);
}

class not_running : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(not_running, suspend_outside_body_gives_error) {
  auto c = make(GetParam());
  ASSERT_TRUE(c);
  auto r = c->suspend();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::cannot_suspend);
  EXPECT_EQ(c->state(), context_state::idle);
}

INSTANTIATE_TEST_SUITE_P(switchers, not_running, ::testing::ValuesIn(all_switchers), kind_name);

void suspend_once(void* a) { (void)static_cast<context*>(a)->suspend(); }

// A suspended or finished stackful context is not running either: suspend()
// from outside is refused, resume() of a finished one does nothing, and the
// state is left as it was (the asm switcher's direct path tests this in one
// compare of its state byte, context::direct_bit).
class not_running_stackful : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(not_running_stackful, suspend_of_a_suspended_or_finished_context_gives_error) {
  auto c = make(GetParam());
  ASSERT_TRUE(c);
  c->start(&suspend_once, c.get());
  c->resume();
  ASSERT_EQ(c->state(), context_state::suspended);
  auto r = c->suspend();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::cannot_suspend);
  EXPECT_EQ(c->state(), context_state::suspended);
  c->resume();
  ASSERT_EQ(c->state(), context_state::finished);
  r = c->suspend();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::cannot_suspend);
  c->resume();  // precondition broken: nothing runs
  EXPECT_EQ(c->state(), context_state::finished);
  c->start(&suspend_once, c.get());  // and it is reusable after all that
  c->resume();
  EXPECT_EQ(c->state(), context_state::suspended);
  c->resume();
  EXPECT_EQ(c->state(), context_state::finished);
}

INSTANTIATE_TEST_SUITE_P(switchers, not_running_stackful, ::testing::ValuesIn(stackful_switchers), kind_name);

}  // namespace
}  // namespace prio::test
