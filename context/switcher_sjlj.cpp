// switcher_sjlj.cpp: contexts switched by setjmp/longjmp, GCC's
// __builtin_setjmp/__builtin_longjmp (also in Clang).
//
// A setjmp buffer can only return into a frame that exists, so the very
// first switch into a fresh stack goes through makecontext/swapcontext once;
// from then on every switch is one setjmp on the side that leaves and one
// longjmp to the other side. The builtins save only the frame pointer, the
// resume address and the stack pointer: the compiler treats the setjmp as
// clobbering every callee-saved register, so the function holding it saves
// them in its own frame. glibc's _setjmp/_longjmp did the same job through
// seven calls (signal-mask bookkeeping, cleanup unwinding, pointer mangling)
// at 31.7 ns per round trip against 24 ns here.
// Neither keeps the floating-point control state, which the ABI makes
// callee-saved, so each side saves its own around the jump.
#include <ucontext.h>

#include <cstdint>

#include "context/fp_control.hpp"
#include "context/stackful_context.hpp"
#include "context/switchers.hpp"

namespace prio::detail {
namespace {

class sjlj_context final : public stackful_context<sjlj_context> {
 public:
  sjlj_context(stack_pool& pool, stack_region s) noexcept
      : stackful_context(switcher_kind::sjlj, pool, s) {}

  void* saved_sp() const noexcept override {
    return state_ == context_state::suspended ? suspended_sp_ : nullptr;
  }

 private:
  friend class stackful_context<sjlj_context>;

  // run() is the function makecontext starts on the fresh stack.
  static void run(unsigned hi, unsigned lo) {
    const auto p = (static_cast<std::uintptr_t>(hi) << 32) | lo;
    reinterpret_cast<sjlj_context*>(p)->body_loop();
  }

  // launch() starts run() on the fresh stack; the context comes back with
  // a longjmp to resumer_jb_, abandoning this frame and `here`. Not
  // instrumented by ASan: poisoned redzones of an abandoned frame would stay
  // behind on the resumer's stack and trip later calls.
  [[gnu::noinline, gnu::no_sanitize_address]] void launch() noexcept {
    launched_ = true;
    ucontext_t here, fresh;
    ::getcontext(&fresh);
    fresh.uc_stack.ss_sp = stack_.base;
    fresh.uc_stack.ss_size = stack_.size;
    fresh.uc_link = nullptr;
    const auto p = reinterpret_cast<std::uintptr_t>(this);
    ::makecontext(&fresh, reinterpret_cast<void (*)()>(&sjlj_context::run), 2,
                  static_cast<unsigned>(p >> 32), static_cast<unsigned>(p));
    annotate_in();
    ::swapcontext(&here, &fresh);
    __builtin_unreachable();
  }

 public:
  // resume() and switch_out() hold their setjmp themselves: a jump lands
  // in the function that called setjmp, and one less return after each
  // jump is one less mispredicted return (the return stack buffer is the
  // other side's after a jump).
  void resume_switch() noexcept override {
    if (!begin_resume()) [[unlikely]]
      return;
    save_fp_control(resumer_fp_);
    if (__builtin_setjmp(resumer_jb_) == 0) {
      if (!launched_) [[unlikely]]
        launch();
      annotate_in();
      jump(context_jb_);
    }
    restore_fp_control(resumer_fp_);
    end_resume();
  }
  // jump() is the longjmp: GCC wants it outside the function of its setjmp.
  // Not instrumented by TSan: a function entry it recorded would never see
  // its exit (the fiber's shadow stack would grow by one per switch).
  [[gnu::noinline, gnu::no_sanitize_thread, noreturn]] static void jump(void** jb) noexcept {
    __builtin_longjmp(jb, 1);
  }

 private:
  // switch_out() is suspend()'s jump, and the final one of body_loop()
  // when a body has finished.
  void switch_out() noexcept final {
    save_fp_control(context_fp_);
    if (__builtin_setjmp(context_jb_) == 0) {
      suspended_sp_ = __builtin_frame_address(0);
      annotate_out();
      jump(resumer_jb_);
    }
    restore_fp_control(context_fp_);
    end_suspend();
  }

  void* context_jb_[5];
  void* resumer_jb_[5];
  fp_control context_fp_;
  fp_control resumer_fp_;
  void* suspended_sp_ = nullptr;
  bool launched_ = false;

 public:
  // {setjmp buffer offset, context_state offset} for debuggers: the buffer
  // is void*[5], [0] frame pointer, [1] resume pc, [2] stack pointer.
  PRIO_DEBUG_LAYOUT(sjlj_context, context_jb_)
};

}  // namespace

// Debugger support (issue 7): where a suspended sjlj context keeps its setjmp buffer.
extern "C" const std::uint32_t prio_debug_ctx_sjlj[2] = {sjlj_context::debug_saved(), sjlj_context::debug_state()};

std::unique_ptr<context> make_sjlj_context(stack_pool& pool, stack_region s) {
  return std::make_unique<sjlj_context>(pool, s);
}

}  // namespace prio::detail
