// switcher_asm.cpp: contexts switched by the hand-written prio_ctx_swap
// (context/asm/switch_<arch>_*.S, chosen by meson for the host CPU).
#include "context/prio_context_asm.h"
#include "context/stackful_context.hpp"
#include "context/switchers.hpp"

#include PRIO_ASM_FRAME_HEADER

namespace prio::detail {
namespace {

class asm_context final : public stackful_context<asm_context> {
 public:
  asm_context(stack_pool& pool, stack_region s) noexcept
      : stackful_context(switcher_kind::asm_switch, pool, s),
        context_sp_(init_asm_frame(s.top(), &asm_context::run, this)) {}

  void* saved_sp() const noexcept override {
    return state_ == context_state::suspended ? context_sp_ : nullptr;
  }

 private:
  friend class stackful_context<asm_context>;

  // run() is the function the trampoline calls on the fresh stack.
  static void run(void* self) { static_cast<asm_context*>(self)->body_loop(); }

  void switch_in() noexcept {
    annotate_in();
    prio_ctx_swap(&resumer_sp_, context_sp_);
  }
  void switch_out() noexcept final {
    annotate_out();
    prio_ctx_swap(&context_sp_, resumer_sp_);
    end_suspend();
  }

  void* context_sp_;
  void* resumer_sp_ = nullptr;

 public:
  // {saved sp offset, context_state offset} for debuggers.
  PRIO_DEBUG_LAYOUT(asm_context, context_sp_)
};

}  // namespace

// Debugger support (issue 7): where a suspended asm context keeps its frame.
extern "C" const std::uint32_t prio_debug_ctx_asm[2] = {asm_context::debug_saved(), asm_context::debug_state()};
extern "C" const std::uint32_t prio_debug_asm_frame_size = PRIO_FRAME_SIZE;

std::unique_ptr<context> make_asm_context(stack_pool& pool, stack_region s) {
  return std::make_unique<asm_context>(pool, s);
}

}  // namespace prio::detail
