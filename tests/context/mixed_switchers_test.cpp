// Description: contexts of every switcher are resumed alternately from the
// same thread, each keeping its own progress.
#include "switcher_param.hpp"

namespace prio::test {
namespace {

TEST(mixed_switchers, alternate_resumes_on_one_thread) {
  std::vector<std::unique_ptr<context>> ctxs;
  std::vector<stepper> steps(2 * switcher_kind_count);
  for (int round = 0; round < 2; ++round)
    for (switcher_kind k : all_switchers) ctxs.push_back(make(k));
  for (std::size_t i = 0; i < ctxs.size(); ++i) {
    ASSERT_TRUE(ctxs[i]);
    steps[i].yields = ctxs[i]->kind() == switcher_kind::none ? 0 : 5;
    start_steps(*ctxs[i], steps[i]);
  }
  bool any = true;
  int sweeps = 0;
  while (any) {
    any = false;
    ++sweeps;
    for (std::size_t i = 0; i < ctxs.size(); ++i) {
      if (ctxs[i]->state() == context_state::finished) continue;
      const int before = steps[i].steps;
      ctxs[i]->resume();
      EXPECT_EQ(steps[i].steps, before + 1) << to_string(ctxs[i]->kind());
      any = true;
    }
  }
  EXPECT_EQ(sweeps, 7);  // 6 resumes for the suspending ones, then an empty sweep
  for (std::size_t i = 0; i < ctxs.size(); ++i) EXPECT_EQ(steps[i].steps, steps[i].yields + 1);
}

// A context resumed from inside another context's body (nesting).
struct nest {
  context* outer;
  context* inner;
  stepper inner_steps;
  int outer_steps = 0;
};

void nesting_body(void* a) {
  auto* n = static_cast<nest*>(a);
  while (n->inner->state() != context_state::finished) {
    n->inner->resume();
    ++n->outer_steps;
    (void)n->outer->suspend();
  }
}

TEST(mixed_switchers, resume_from_inside_another_context) {
  for (switcher_kind outer_kind : stackful_switchers) {
    for (switcher_kind inner_kind : all_switchers) {
      auto outer = make(outer_kind);
      auto inner = make(inner_kind);
      ASSERT_TRUE(outer && inner);
      nest n{outer.get(), inner.get(), {}};
      n.inner_steps.yields = inner_kind == switcher_kind::none ? 0 : 2;
      start_steps(*inner, n.inner_steps);
      outer->start(&nesting_body, &n);
      while (outer->state() != context_state::finished) outer->resume();
      EXPECT_EQ(n.inner_steps.steps, n.inner_steps.yields + 1)
          << to_string(outer_kind) << " around " << to_string(inner_kind);
      EXPECT_EQ(n.outer_steps, n.inner_steps.yields + 1);
    }
  }
}

}  // namespace
}  // namespace prio::test
