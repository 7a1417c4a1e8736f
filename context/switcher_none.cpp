// switcher_none.cpp: contexts that run their body to completion inside
// resume(), on the resumer's stack. Cheapest; suspending is an error.
#include "context/switchers.hpp"

namespace prio::detail {
namespace {

class none_context final : public context {
 public:
  none_context() noexcept : context(switcher_kind::none) {}

  void start(entry_fn entry, void* arg) noexcept override {
    entry_ = entry;
    arg_ = arg;
    state_ = context_state::ready;
  }

  // resume_switch() runs the whole body now; only `ready` has anything to run.
  void resume_switch() noexcept override {
    if (state_ != context_state::ready) [[unlikely]]
      return;
    state_ = context_state::running;
    try {
      entry_(arg_);
    } catch (...) {
      exception_ = std::current_exception();
    }
    state_ = context_state::finished;
  }

 private:
  entry_fn entry_ = nullptr;
  void* arg_ = nullptr;
};

}  // namespace

std::unique_ptr<context> make_none_context() { return std::make_unique<none_context>(); }

}  // namespace prio::detail
