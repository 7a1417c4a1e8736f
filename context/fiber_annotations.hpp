// fiber_annotations.hpp: tell ASan, TSan and Valgrind about stack switches.
//
// Private to the context layer. Every stackful switcher keeps one
// fiber_annotations per context and calls, in this order:
//   created(stack)                          when its stack is assigned
//   resume:  before_resume(stack, t); <switch in>;  after_resume(t)
//   inside:  entered() first thing on the new stack and after every switch in
//   suspend: before_leave(finished); <switch out>;   entered()
//   destroyed()                             before the stack goes back
// In builds without sanitizers or valgrind/valgrind.h everything is empty.
#pragma once

#include <cstddef>

#include "prio/context/context.hpp"
#include "prio_build_config.h"

#if PRIO_SANITIZE_ADDRESS
#include <sanitizer/common_interface_defs.h>
#endif
#if PRIO_SANITIZE_THREAD
#include <sanitizer/tsan_interface.h>
#endif
#if PRIO_HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

namespace prio::detail {

class fiber_annotations {
 public:
  // per_switch: whether before_resume() ... entered() do anything (ASan,
  // TSan); Valgrind needs only created() and destroyed().
  static constexpr bool per_switch = PRIO_SANITIZE_ADDRESS || PRIO_SANITIZE_THREAD;

  // resume_token is what the resumer keeps on its own stack across a switch.
  struct resume_token {
#if PRIO_SANITIZE_ADDRESS
    void* fake_stack = nullptr;
#endif
  };

  // created() registers `s` as a stack (Valgrind) and makes a TSan fiber.
  void created(stack_region s) noexcept {
#if PRIO_HAVE_VALGRIND_H
    valgrind_id_ = VALGRIND_STACK_REGISTER(s.base, s.top());
#endif
#if PRIO_SANITIZE_THREAD
    fiber_ = __tsan_create_fiber(0);
#endif
    (void)s;
  }

  // destroyed() undoes created(). Not called on the context's own stack.
  void destroyed() noexcept {
#if PRIO_HAVE_VALGRIND_H
    VALGRIND_STACK_DEREGISTER(valgrind_id_);
#endif
#if PRIO_SANITIZE_THREAD
    if (fiber_ != nullptr) __tsan_destroy_fiber(fiber_);
    fiber_ = nullptr;
#endif
  }

  // before_resume() runs on the resumer's stack right before switching in;
  // it fills t, which lives in the context, not on that stack: inlined into
  // a frame the switch abandons (sjlj's launch()), a local token's end of
  // scope would leave ASan's poison behind on the resumer's stack, and a
  // later, deeper call there would trip on it.
  [[gnu::always_inline]] void before_resume(stack_region s, resume_token& t) noexcept {
#if PRIO_SANITIZE_ADDRESS
    __sanitizer_start_switch_fiber(&t.fake_stack, s.base, s.size);
#endif
#if PRIO_SANITIZE_THREAD
    resumer_fiber_ = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(fiber_, 0);
#endif
    (void)s;
    (void)t;
  }

  // after_resume() runs on the resumer's stack once control is back.
  [[gnu::always_inline]] void after_resume(resume_token& t) noexcept {
#if PRIO_SANITIZE_ADDRESS
    __sanitizer_finish_switch_fiber(t.fake_stack, nullptr, nullptr);
#endif
    (void)t;
  }

  // entered() runs on the context's stack after every switch into it; it
  // learns the resumer's stack bounds for the way back.
  [[gnu::always_inline]] void entered() noexcept {
#if PRIO_SANITIZE_ADDRESS
    __sanitizer_finish_switch_fiber(fake_stack_, &resumer_bottom_, &resumer_size_);
#endif
  }

  // before_leave() runs on the context's stack right before switching back
  // to the resumer. `finished`: the body returned, none of its frames live
  // on, so ASan may drop the fake stack (the next start begins afresh).
  [[gnu::always_inline]] void before_leave(bool finished) noexcept {
#if PRIO_SANITIZE_ADDRESS
    if (finished) fake_stack_ = nullptr;
    __sanitizer_start_switch_fiber(finished ? nullptr : &fake_stack_, resumer_bottom_,
                                   resumer_size_);
#endif
#if PRIO_SANITIZE_THREAD
    __tsan_switch_to_fiber(resumer_fiber_, 0);
#endif
    (void)finished;
  }

 private:
#if PRIO_SANITIZE_ADDRESS
  void* fake_stack_ = nullptr;
  const void* resumer_bottom_ = nullptr;
  std::size_t resumer_size_ = 0;
#endif
#if PRIO_SANITIZE_THREAD
  void* fiber_ = nullptr;
  void* resumer_fiber_ = nullptr;
#endif
#if PRIO_HAVE_VALGRIND_H
  unsigned valgrind_id_ = 0;
#endif
};

}  // namespace prio::detail
