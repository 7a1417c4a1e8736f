// switcher_coro.cpp: the coroutine switcher's context.
#include "context/switchers.hpp"
#include "prio/context/coro.hpp"

namespace prio {

PRIO_HOT_TLS constinit thread_local coro_context* coro_context::current_context_ = nullptr;

void coro_context::start(entry_fn entry, void* arg) noexcept {
  entry_ = entry;
  arg_ = arg;
  state_ = context_state::ready;
}

// launch() runs entry(arg) so it can set_root(); no root means nothing to run.
void coro_context::launch() noexcept {
  root_ = co<void>();
  try {
    entry_(arg_);
  } catch (...) {
    exception_ = std::current_exception();
  }
  current_ = root_ ? std::coroutine_handle<>(root_.get()) : std::coroutine_handle<>();
}

// finish() collects the root's exception and recycles its frame.
void coro_context::finish() noexcept {
  if (root_ && root_.get().promise().exception_)
    exception_ = std::move(root_.get().promise().exception_);
  root_ = co<void>();
  current_ = {};
  state_ = context_state::finished;
}

// resume_other(): the first resume() after start() launches the body; in any
// other state but suspended, resume() does nothing.
void coro_context::resume_other() noexcept {
  if (state_ != context_state::ready) return;
  coro_context* const outer = current_context_;
  current_context_ = this;
  state_ = context_state::running;
  launch();
  if (current_) {
    current_.resume();
    current_context_ = outer;
    if (state_ == context_state::running) {  // the root marks it finished as it ends
      state_ = context_state::suspended;
      return;
    }
  }
  current_context_ = outer;
  finish();
}

namespace detail {
std::unique_ptr<context> make_coro_context() { return std::make_unique<coro_context>(); }
}  // namespace detail

}  // namespace prio
