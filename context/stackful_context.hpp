// stackful_context.hpp: what every stackful switcher shares (private).
//
// stackful_context<S> owns a pooled stack and implements the context state
// machine once; S supplies only the two raw switches:
//   S::switch_in()   on the resumer's stack: save it, continue the context
//                    (the first time: start body_loop() on the fresh stack)
//   S::switch_out()  (context's virtual) on the context's stack: save it,
//                    continue the resumer; once resumed, call end_suspend()
// and calls annotate_in() / annotate_out() immediately before its jump, after
// anything that must still be recorded against the side it leaves (TSan
// tracks setjmp buffers per fiber). Without sanitizers the annotations are
// empty and switch_out() ends in a tail call of the jump, so a resumed
// context lands directly in the caller of suspend().
//
// body_loop() is the bottom frame of every stack: it runs entry(arg), stores
// an escaping exception, marks the context finished and switches out; the
// next start() + resume() continues the loop, so a stack is made only once.
#pragma once

#include <cstdint>
#include <exception>

#include "context/fiber_annotations.hpp"
#include "prio/context/context.hpp"
#include "prio/context/stack_pool.hpp"

// PRIO_DEBUG_LAYOUT(T, saved) declares, inside switcher class T, the offsets
// a debugger reads (gdb/, issue 7): debug_saved() (where T keeps its saved
// registers) and debug_state() (context::state_). Contexts are not
// standard-layout (virtual); GCC and Clang support offsetof without virtual
// bases, hence the silenced warning.
#define PRIO_DEBUG_LAYOUT(T, saved)                                                  \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Winvalid-offsetof\"") \
  static constexpr std::uint32_t debug_saved() { return __builtin_offsetof(T, saved); } \
  static constexpr std::uint32_t debug_state() { return __builtin_offsetof(T, state_); } \
  _Pragma("GCC diagnostic pop")

namespace prio::detail {

template <class S>
class stackful_context : public context {
 public:
  // stackful_context() takes ownership of `s`, which came from `pool`.
  stackful_context(switcher_kind k, stack_pool& pool, stack_region s) noexcept
      : context(k), pool_(&pool) {
    stack_ = s;
    fiber_.created(s);
  }
  // ~stackful_context() returns the stack to its pool. Precondition: not
  // running (a suspended body is abandoned without unwinding).
  ~stackful_context() override {
    fiber_.destroyed();
    pool_->release(stack_);
  }

  void start(entry_fn entry, void* arg) noexcept final {
    entry_ = entry;
    arg_ = arg;
    set_state(context_state::ready);
  }

  // resume_switch() may be overridden by a switcher whose jump must sit in
  // the function itself (setjmp); it then uses the helpers below.
  void resume_switch() noexcept override {
    if constexpr (requires(S& s) { s.switch_in(); }) {  // else S overrides resume_switch()
      if (!begin_resume()) [[unlikely]]
        return;
      static_cast<S*>(this)->switch_in();
      end_resume();
    }
  }

 protected:
  // begin_resume() checks resume()'s precondition and marks the context running.
  [[gnu::always_inline]] bool begin_resume() noexcept {
    const context_state s = state();
    if (s != context_state::ready && s != context_state::suspended) return false;
    set_state(context_state::running);
    return true;
  }
  // end_resume() runs on the resumer's stack once control is back.
  [[gnu::always_inline]] void end_resume() noexcept { fiber_.after_resume(token_); }
  // end_suspend() ends S::switch_out() on the context's stack once resumed.
  [[gnu::always_inline]] void end_suspend() noexcept { fiber_.entered(); }

  // annotate_in() is called by S::switch_in() right before its jump.
  [[gnu::always_inline]] void annotate_in() noexcept { fiber_.before_resume(stack_, token_); }
  // annotate_out() is called by S::switch_out() right before its jump.
  [[gnu::always_inline]] void annotate_out() noexcept {
    fiber_.before_leave(state() == context_state::finished);
  }

  // body_loop() runs on the context's own stack and never returns.
  [[noreturn]] void body_loop() noexcept {
    fiber_.entered();
    for (;;) {
      try {
        entry_(arg_);
      } catch (...) {
        exception_ = std::current_exception();
      }
      set_state(context_state::finished);
      static_cast<S*>(this)->switch_out();
    }
  }

 private:
  entry_fn entry_ = nullptr;
  void* arg_ = nullptr;
  stack_pool* pool_;
  fiber_annotations fiber_;
  fiber_annotations::resume_token token_;
};

}  // namespace prio::detail
