// switcher_ucontext.cpp: contexts switched by swapcontext (the portable
// reference; each switch also saves the signal mask with a system call).
#include <ucontext.h>

#include <cstdint>

#include "context/stackful_context.hpp"
#include "context/switchers.hpp"

namespace prio::detail {
namespace {

class ucontext_context final : public stackful_context<ucontext_context> {
 public:
  ucontext_context(stack_pool& pool, stack_region s) noexcept
      : stackful_context(switcher_kind::ucontext, pool, s) {
    ::getcontext(&context_uc_);
    context_uc_.uc_stack.ss_sp = s.base;
    context_uc_.uc_stack.ss_size = s.size;
    context_uc_.uc_link = nullptr;
    // makecontext passes int arguments: `this` travels as two halves.
    const auto p = reinterpret_cast<std::uintptr_t>(this);
    ::makecontext(&context_uc_, reinterpret_cast<void (*)()>(&ucontext_context::run), 2,
                  static_cast<unsigned>(p >> 32), static_cast<unsigned>(p));
  }

  void* saved_sp() const noexcept override {
    return state_ == context_state::suspended ? suspended_sp_ : nullptr;
  }

 private:
  friend class stackful_context<ucontext_context>;

  // run() is the function makecontext starts on the fresh stack.
  static void run(unsigned hi, unsigned lo) {
    const auto p = (static_cast<std::uintptr_t>(hi) << 32) | lo;
    reinterpret_cast<ucontext_context*>(p)->body_loop();
  }

  void switch_in() noexcept {
    annotate_in();
    ::swapcontext(&resumer_uc_, &context_uc_);
  }
  void switch_out() noexcept final {
    suspended_sp_ = __builtin_frame_address(0);
    annotate_out();
    ::swapcontext(&context_uc_, &resumer_uc_);
    end_suspend();
  }

  ucontext_t context_uc_;
  ucontext_t resumer_uc_;
  void* suspended_sp_ = nullptr;

 public:
  // {ucontext_t offset, context_state offset} for debuggers.
  PRIO_DEBUG_LAYOUT(ucontext_context, context_uc_)
};

}  // namespace

// Debugger support (issue 7): where a suspended ucontext context keeps its registers.
extern "C" const std::uint32_t prio_debug_ctx_ucontext[2] = {ucontext_context::debug_saved(),
                                                              ucontext_context::debug_state()};

std::unique_ptr<context> make_ucontext_context(stack_pool& pool, stack_region s) {
  return std::make_unique<ucontext_context>(pool, s);
}

}  // namespace prio::detail
