// Description: prio::co<T> is lazy, nests through co_await with symmetric
// transfer (deep chains do not grow the stack), returns values, propagates
// exceptions to the awaiter and, escaping the root, to take_exception();
// coro_context suspends a nested chain and resumes it where it stopped.
#include <stdexcept>

#include "prio_build_config.h"
#include "switcher_param.hpp"

namespace prio::test {
namespace {

co<int> leaf(int v, int* log) {
  *log += 1;
  co_await suspend_context();
  co_return v * 2;
}

co<int> middle(int v, int* log) {
  int a = co_await leaf(v, log);
  int b = co_await leaf(v + 1, log);
  co_return a + b;
}

co<void> root(int* out, int* log) { *out = co_await middle(10, log); }

struct root_args {
  int out = 0;
  int log = 0;
};
void root_entry(void* a) {
  auto* r = static_cast<root_args*>(a);
  coro_context::current()->set_root(root(&r->out, &r->log));
}

TEST(coro, nested_chain_suspends_and_resumes) {
  auto c = make(switcher_kind::coroutine);
  ASSERT_TRUE(c);
  root_args args;
  c->start(&root_entry, &args);
  EXPECT_EQ(args.log, 0) << "lazy";
  c->resume();
  EXPECT_EQ(c->state(), context_state::suspended);
  EXPECT_EQ(args.log, 1);
  c->resume();
  EXPECT_EQ(c->state(), context_state::suspended);
  EXPECT_EQ(args.log, 2);
  c->resume();
  EXPECT_EQ(c->state(), context_state::finished);
  EXPECT_EQ(args.out, 20 + 22);
  EXPECT_EQ(c->take_exception(), nullptr);
}

co<int> thrower(int depth) {
  if (depth == 0) throw std::out_of_range("deep");
  co_return co_await thrower(depth - 1) + 1;
}

co<void> catcher(bool* caught) {
  try {
    (void)co_await thrower(5);
  } catch (const std::out_of_range&) {
    *caught = true;
  }
  co_await suspend_context();
  (void)co_await thrower(3);  // escapes the root
}

void catcher_entry(void* a) {
  coro_context::current()->set_root(catcher(static_cast<bool*>(a)));
}

TEST(coro, exceptions_propagate_to_awaiter_then_to_context) {
  auto c = make(switcher_kind::coroutine);
  ASSERT_TRUE(c);
  bool caught = false;
  c->start(&catcher_entry, &caught);
  c->resume();
  EXPECT_TRUE(caught);
  EXPECT_EQ(c->state(), context_state::suspended);
  c->resume();
  EXPECT_EQ(c->state(), context_state::finished);
  EXPECT_THROW(std::rethrow_exception(c->take_exception()), std::out_of_range);
}

co<long> chain(int n) {
  if (n == 0) co_return 0;
  co_return co_await chain(n - 1) + 1;
}

// GCC 12 does not turn symmetric transfer into a tail call when ASan or TSan
// instruments the coroutine, so the chain there is only as deep as the stack
// allows; elsewhere it is far deeper than any stack would.
#if PRIO_SANITIZE_ADDRESS || PRIO_SANITIZE_THREAD
constexpr long chain_depth = 1'000;
#else
constexpr long chain_depth = 100'000;
#endif

co<void> long_chain(long* out) { *out = co_await chain(chain_depth); }

void long_chain_entry(void* a) {
  coro_context::current()->set_root(long_chain(static_cast<long*>(a)));
}

TEST(coro, symmetric_transfer_keeps_stack_flat) {
  auto c = make(switcher_kind::coroutine);
  ASSERT_TRUE(c);
  long out = 0;
  c->start(&long_chain_entry, &out);
  c->resume();
  EXPECT_EQ(c->state(), context_state::finished);
  EXPECT_EQ(out, chain_depth);
}

void no_root_entry(void*) {}

TEST(coro, entry_without_root_finishes) {
  auto c = make(switcher_kind::coroutine);
  ASSERT_TRUE(c);
  c->start(&no_root_entry, nullptr);
  c->resume();
  EXPECT_EQ(c->state(), context_state::finished);
}

TEST(coro, current_is_null_outside_resume) {
  EXPECT_EQ(coro_context::current(), nullptr);
  auto c = make(switcher_kind::coroutine);
  stepper s;
  s.yields = 1;
  start_steps(*c, s);
  c->resume();
  EXPECT_EQ(coro_context::current(), nullptr);
  c.reset();  // destroying a suspended root frees its frames (ASan checks leaks)
}

TEST(coro, direct_awaiting_without_context) {
  // A co<T> can also be driven by hand: resume the handle, read the value.
  auto t = chain(10);
  ASSERT_TRUE(t);
  EXPECT_FALSE(t.done());
  t.get().resume();
  EXPECT_TRUE(t.done());
  EXPECT_EQ(*t.get().promise().value_, 10);
}

}  // namespace
}  // namespace prio::test
