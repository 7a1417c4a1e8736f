// context.hpp: the one interface every context switcher implements.
//
// A context is an execution state that its resumer (normally an executor)
// runs with resume() until the context suspends or its body returns. Five
// switchers make contexts; each task picks one at run time and several kinds
// can be resumed alternately from the same thread:
//   none       runs the body to completion on the resumer's stack
//   sjlj       setjmp/longjmp after a one-time start on its own stack
//   ucontext   swapcontext (portable reference)
//   asm        hand-written switch (x86-64 SysV, AArch64 AAPCS64)
//   coroutine  the body is a prio::co<> coroutine; suspension is co_await
//
// Threading: a context is resumed by one thread at a time; between suspension
// and the next resume it may move to another thread (the pool does that).
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string_view>

#include "prio/runtime/result.hpp"

#if defined(__x86_64__) || defined(__aarch64__)
#define PRIO_CONTEXT_DIRECT_SWAP 1
extern "C" {
// prio_ctx_swap() is the asm switcher's swap (context/asm/): it saves the
// calling frame, stores its stack pointer in *save_sp and continues the
// frame saved at load_sp. Exported for context::suspend() below.
void prio_ctx_swap(void** save_sp, void* load_sp) noexcept;
}
#else
#define PRIO_CONTEXT_DIRECT_SWAP 0
#endif

namespace prio {

enum class switcher_kind : std::uint8_t { none = 0, sjlj, ucontext, asm_switch, coroutine };
inline constexpr int switcher_kind_count = 5;

// to_string() is "none", "sjlj", "ucontext", "asm" or "coroutine".
std::string_view to_string(switcher_kind k) noexcept;
// parse_switcher() maps those names back; anything else is EINVAL.
result<switcher_kind> parse_switcher(std::string_view name) noexcept;

enum class context_state : std::uint8_t {
  idle,       // created or finished: start() may be called
  ready,      // start() was called, never resumed yet
  running,    // inside resume()
  suspended,  // suspended: resume() continues it
  finished,   // body returned (or threw); start() makes it ready again
};

// Memory of one stack: [base, base + size) usable, a guard page below base.
struct stack_region {
  void* base = nullptr;
  std::size_t size = 0;
  void* top() const noexcept { return static_cast<char*>(base) + size; }
};

class context {
 public:
  using entry_fn = void (*)(void* arg);

  virtual ~context() = default;
  context(const context&) = delete;
  context& operator=(const context&) = delete;

  switcher_kind kind() const noexcept { return kind_; }
  context_state state() const noexcept {
    return static_cast<context_state>(static_cast<std::uint8_t>(state_) & ~direct_bit);
  }

  // start() sets what the next resume() runs from the beginning: entry(arg).
  // Precondition: state() is idle or finished. Cheap: stores two words (the
  // stack made at creation is kept and reused). For the coroutine switcher,
  // entry(arg) must call coro_context::set_root() (see coro.hpp).
  virtual void start(entry_fn entry, void* arg) noexcept = 0;

  // resume() runs the context on the calling thread until it suspends or its
  // body returns; then state() is suspended or finished. Precondition: state()
  // is ready or suspended. Must not be called from inside this context.
  // Inline: a suspended asm context with direct_bit is switched to right
  // here, without a virtual call; any other goes to its switcher's
  // resume_switch().
  void resume() noexcept {
#if PRIO_CONTEXT_DIRECT_SWAP
    if (state_ == direct(context_state::suspended)) [[likely]] {
      state_ = direct(context_state::running);
      swap_in();
      return;
    }
#endif
    resume_switch();
  }

  // suspend() is called from inside the running context and returns to the
  // caller of resume(); it returns when the context is resumed again.
  // Error errc::cannot_suspend for the none and coroutine switchers (a
  // coroutine suspends with co_await) or when the context is not running.
  // Inline, so the switcher's jump returns straight into the caller; an asm
  // context (direct_bit in state_) is switched out right here, without the
  // virtual switch_out().
  result<void> suspend() noexcept {
#if PRIO_CONTEXT_DIRECT_SWAP
    if (state_ == direct(context_state::running)) [[likely]] {
      state_ = direct(context_state::suspended);
      swap_out();
      return success();
    }
#endif
    // Here a context with direct_bit is never running (that took the
    // branch above): a running one has no bit to keep.
    if (!stackful_ || state_ != context_state::running) [[unlikely]]
      return failure(errc::cannot_suspend);
    state_ = context_state::suspended;
    switch_out();
    return success();
  }

  // take_exception() hands out (and clears) an exception that escaped the body.
  std::exception_ptr take_exception() noexcept { return std::exchange(exception_, nullptr); }

  // stack() is the context's own stack; empty for none and coroutine.
  stack_region stack() const noexcept { return stack_; }

  // saved_sp() is the stack pointer stored at the last suspend (for debuggers);
  // nullptr while not suspended or for stackless contexts.
  virtual void* saved_sp() const noexcept { return nullptr; }

 protected:
  explicit context(switcher_kind k) noexcept
      : kind_(k), stackful_(k != switcher_kind::none && k != switcher_kind::coroutine) {}

  // switch_out() is a stackful switcher's jump back to the caller of
  // resume(), made by suspend() once state() is suspended (and by the
  // switcher itself when a body has finished); it returns when the context
  // is resumed. Stackless switchers never get here, nor does suspend() of
  // a context with direct_bit.
  virtual void switch_out() noexcept {}

  // resume_switch() is the switcher's resume(), for every context that
  // resume() does not switch to itself.
  virtual void resume_switch() noexcept = 0;

#if PRIO_CONTEXT_DIRECT_SWAP
  // swap_in() saves the resumer and continues the context; swap_out() the
  // reverse. The asm switcher's two raw switches, on swap_sp_; with
  // direct_bit they are made by resume() and suspend() above.
  void swap_in() noexcept { prio_ctx_swap(&swap_sp_[1], swap_sp_[0]); }
  void swap_out() noexcept { prio_ctx_swap(&swap_sp_[0], swap_sp_[1]); }
#endif

  stack_region stack_{};
  std::exception_ptr exception_{};
  // state_: the context_state, with direct_bit set in a context whose
  // suspend() and resume() call prio_ctx_swap() themselves on swap_sp_ =
  // {the context's saved stack pointer, the resumer's} (set by the asm
  // switcher when no switch needs a sanitizer annotation): one compare of
  // state_ is then the whole test for the direct path. state() masks it
  // off; switchers write the state with set_state(), which keeps it.
  // (Debuggers read this byte: gdb/prio_gdb masks direct_bit too.)
  static constexpr std::uint8_t direct_bit = 0x80;
  static constexpr context_state direct(context_state s) noexcept {
    return static_cast<context_state>(static_cast<std::uint8_t>(s) | direct_bit);
  }
  void set_state(context_state s) noexcept {
    state_ = static_cast<context_state>(static_cast<std::uint8_t>(s) |
                                        (static_cast<std::uint8_t>(state_) & direct_bit));
  }
  context_state state_ = context_state::idle;
  switcher_kind kind_;
  bool stackful_;
  void* swap_sp_[2] = {nullptr, nullptr};
};

// Options for creating a context. stack_size 0 means the default stack pool's
// size (from config/config, stack_size; 256 KiB if unset); otherwise 16 KiB
// to 1 GiB (stack_pool::valid_stack_size()), else make_context() is EINVAL.
struct context_options {
  std::size_t stack_size = 0;
  class stack_pool* pool = nullptr;  // nullptr: stack_pool::default_pool()
};

// make_context() creates a context of the given kind (expensive: a stack and
// its guard page come from the pool). Thread-safe.
result<std::unique_ptr<context>> make_context(switcher_kind kind,
                                              const context_options& opts = {}) noexcept;

}  // namespace prio
