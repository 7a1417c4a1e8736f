// switcher_asm.cpp: contexts switched by the hand-written prio_ctx_swap
// (context/asm/switch_<arch>_*.S, chosen by meson for the host CPU).
#include "context/prio_context_asm.h"
#include "context/stackful_context.hpp"
#include "context/switchers.hpp"

#include PRIO_ASM_FRAME_HEADER

namespace prio::detail {
namespace {

// The two saved stack pointers live in the base (context::swap_sp_: the
// context's, the resumer's), where context::suspend() switches out directly
// when no sanitizer annotates switches; with annotations it comes to
// switch_out() here.
class asm_context final : public stackful_context<asm_context> {
 public:
  asm_context(stack_pool& pool, stack_region s) noexcept
      : stackful_context(switcher_kind::asm_switch, pool, s) {
    swap_sp_[0] = init_asm_frame(s.top(), &asm_context::run, this);
    if (PRIO_CONTEXT_DIRECT_SWAP && !fiber_annotations::per_switch) state_ = direct(context_state::idle);
  }

  void* saved_sp() const noexcept override {
    return state() == context_state::suspended ? swap_sp_[0] : nullptr;
  }

 private:
  friend class stackful_context<asm_context>;

  // run() is the function the trampoline calls on the fresh stack.
  static void run(void* self) { static_cast<asm_context*>(self)->body_loop(); }

  void switch_in() noexcept {
    annotate_in();
    swap_in();
  }
  void switch_out() noexcept final {
    annotate_out();
    swap_out();
    end_suspend();
  }

 public:
  // {saved sp offset, context_state offset} for debuggers.
  PRIO_DEBUG_LAYOUT(asm_context, swap_sp_)
};

}  // namespace

// Debugger support (issue 7): where a suspended asm context keeps its frame.
extern "C" const std::uint32_t prio_debug_ctx_asm[2] = {asm_context::debug_saved(), asm_context::debug_state()};
extern "C" const std::uint32_t prio_debug_asm_frame_size = PRIO_FRAME_SIZE;

std::unique_ptr<context> make_asm_context(stack_pool& pool, stack_region s) {
  return std::make_unique<asm_context>(pool, s);
}

}  // namespace prio::detail
