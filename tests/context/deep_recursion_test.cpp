// Description: a body recursing through ~100 KiB of frames on a 256 KiB
// stack works, and suspends from the deepest frame.
#include "switcher_param.hpp"

namespace prio::test {
namespace {

struct deep {
  context* ctx;
  long sum = 0;
};

// recurse() uses ~1 KiB per frame and suspends at the bottom.
[[gnu::noinline]] long recurse(deep* d, int depth) {
  volatile char pad[1024];
  for (auto& b : pad) b = static_cast<char>(depth);
  if (depth == 0) {
    (void)d->ctx->suspend();
    return pad[0];
  }
  return recurse(d, depth - 1) + pad[depth % 1024] + 1;
}

void deep_body(void* a) {
  auto* d = static_cast<deep*>(a);
  d->sum = recurse(d, 100);
}

class deep_recursion : public ::testing::TestWithParam<switcher_kind> {};

TEST_P(deep_recursion, hundred_kib_of_frames) {
  auto c = make(GetParam(), 256 * 1024);
  ASSERT_TRUE(c);
  deep d{c.get()};
  c->start(&deep_body, &d);
  c->resume();
  ASSERT_EQ(c->state(), context_state::suspended);
  auto* sp = static_cast<char*>(c->saved_sp());
  ASSERT_NE(sp, nullptr);
  EXPECT_GT(static_cast<char*>(c->stack().top()) - sp, 100 * 1024) << "frames below 100 KiB?";
  c->resume();
  ASSERT_EQ(c->state(), context_state::finished);
  EXPECT_EQ(d.sum, 5050 + 100);  // sum of depths 1..100, plus one per level
}

INSTANTIATE_TEST_SUITE_P(stackful, deep_recursion, ::testing::ValuesIn(stackful_switchers),
                         kind_name);

}  // namespace
}  // namespace prio::test
