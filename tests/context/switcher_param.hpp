// switcher_param.hpp: shared helpers for the context tests: the switcher
// lists to parameterise over and a body that counts steps and suspends.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "prio/context/context.hpp"
#include "prio/context/coro.hpp"

namespace prio::test {

inline const std::vector<switcher_kind> all_switchers = {
    switcher_kind::none, switcher_kind::sjlj, switcher_kind::ucontext, switcher_kind::asm_switch,
    switcher_kind::coroutine};
inline const std::vector<switcher_kind> stackful_switchers = {
    switcher_kind::sjlj, switcher_kind::ucontext, switcher_kind::asm_switch};
// Switchers whose bodies can suspend (stackful with suspend(), coroutine with co_await).
inline const std::vector<switcher_kind> suspending_switchers = {
    switcher_kind::sjlj, switcher_kind::ucontext, switcher_kind::asm_switch,
    switcher_kind::coroutine};

inline std::string kind_name(const ::testing::TestParamInfo<switcher_kind>& i) {
  return std::string(to_string(i.param));
}

inline std::unique_ptr<context> make(switcher_kind k, std::size_t stack_size = 0) {
  auto r = make_context(k, context_options{stack_size, nullptr});
  if (!r) ADD_FAILURE() << "make_context(" << to_string(k) << "): " << r.error().message();
  return r ? std::move(*r) : nullptr;
}

// stepper: a body that does `yields` times (step, suspend), then one step.
struct stepper {
  context* ctx = nullptr;
  int yields = 0;
  int steps = 0;
  int failed_suspends = 0;
  bool throw_at_end = false;
};

inline void stackful_steps(void* a) {
  auto* s = static_cast<stepper*>(a);
  for (int i = 0; i < s->yields; ++i) {
    ++s->steps;
    if (!s->ctx->suspend()) ++s->failed_suspends;
  }
  ++s->steps;
  if (s->throw_at_end) throw std::runtime_error("body threw");
}

inline co<void> coro_steps(stepper* s) {
  for (int i = 0; i < s->yields; ++i) {
    ++s->steps;
    co_await suspend_context();
  }
  ++s->steps;
  if (s->throw_at_end) throw std::runtime_error("body threw");
}

inline void coro_steps_entry(void* a) {
  coro_context::current()->set_root(coro_steps(static_cast<stepper*>(a)));
}

// start_steps() starts `s` on `c` with the body that fits c's switcher.
inline void start_steps(context& c, stepper& s) {
  s.ctx = &c;
  c.start(c.kind() == switcher_kind::coroutine ? &coro_steps_entry : &stackful_steps, &s);
}

}  // namespace prio::test
