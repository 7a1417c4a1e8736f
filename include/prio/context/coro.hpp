// coro.hpp: the C++20 coroutine switcher.
//
// co<T> is a lazy coroutine: it starts when awaited, and on completion
// transfers straight back to its awaiter (symmetric transfer, no stack
// growth). An exception escaping its body is stored and rethrown by the
// co_await that awaited it. Frames come from a per-thread size-class free
// list, so once warm, creating coroutines does not call malloc.
//
// coro_context is the switcher's context. Its entry(arg), called inside the
// first resume(), hands it the root coroutine with set_root(); resume() then
// runs coroutines until one suspends through an awaitable that named, with
// set_current(), the handle the next resume() continues. The context is
// finished when the root returns; an exception escaping the root is the
// context's take_exception().
//
//   void entry(void* arg) { prio::coro_context::current()->set_root(body(arg)); }
//   prio::co<void> body(void* arg) { ...; co_await prio::suspend_context(); ... }
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <new>
#include <optional>
#include <utility>

#include "prio/context/context.hpp"
#include "prio/runtime/tls.hpp"

namespace prio {

namespace detail {

// coro_frame_alloc() returns `bytes` for a coroutine frame from the calling
// thread's free list of that size class (operator new when it is empty).
void* coro_frame_alloc(std::size_t bytes);
// coro_frame_free() puts a frame on the calling thread's free list (any
// thread may free a frame another allocated).
void coro_frame_free(void* p, std::size_t bytes) noexcept;

struct co_promise_base {
  static void* operator new(std::size_t bytes) { return coro_frame_alloc(bytes); }
  static void operator delete(void* p, std::size_t bytes) noexcept { coro_frame_free(p, bytes); }

  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> done) const noexcept {
      if constexpr (requires { done.promise().finished_; })  // co<void>, as roots are
        if (context_state* s = done.promise().finished_) *s = context_state::finished;  // a root
      return done.promise().continuation_;
    }
    void await_resume() const noexcept {}
  };

  std::suspend_always initial_suspend() const noexcept { return {}; }
  final_awaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  // Where completion goes: the awaiter, or (for a root) back to resume().
  std::coroutine_handle<> continuation_ = std::noop_coroutine();
  std::exception_ptr exception_;
};

template <class T>
struct co_promise_result : co_promise_base {
  template <class U>
  void return_value(U&& v) {
    value_.emplace(std::forward<U>(v));
  }
  T take() { return std::move(*value_); }
  std::optional<T> value_;
};

template <>
struct co_promise_result<void> : co_promise_base {
  void return_void() const noexcept {}
  void take() const noexcept {}
  // finished_: for a context's root (always a co<void>), the context's
  // state, marked finished as the root ends (final_awaiter), so resume()
  // learns it from its own cache line, not the root's frame.
  context_state* finished_ = nullptr;
};

}  // namespace detail

template <class T = void>
class [[nodiscard]] co {
 public:
  struct promise_type : detail::co_promise_result<T> {
    co get_return_object() noexcept { return co(handle::from_promise(*this)); }
  };
  using handle = std::coroutine_handle<promise_type>;

  co() noexcept = default;
  co(co&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  co& operator=(co o) noexcept {
    std::swap(h_, o.h_);
    return *this;
  }
  ~co() {
    if (h_) h_.destroy();
  }

  explicit operator bool() const noexcept { return static_cast<bool>(h_); }
  // done() is true once the body has returned or thrown.
  bool done() const noexcept { return h_.done(); }
  handle get() const noexcept { return h_; }

  struct awaiter {
    handle h;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) const noexcept {
      h.promise().continuation_ = caller;
      return h;
    }
    T await_resume() const {
      if (h.promise().exception_) std::rethrow_exception(h.promise().exception_);
      return h.promise().take();
    }
  };
  // co_await runs the coroutine and gives its value (or rethrows).
  awaiter operator co_await() && noexcept { return awaiter{h_}; }

 private:
  explicit co(handle h) noexcept : h_(h) {}
  handle h_{};
};

// (Cache-line aligned: what resume() touches, the state and current_, is
// then in the context's first line.)
class alignas(64) coro_context final : public context {
 public:
  coro_context() noexcept : context(switcher_kind::coroutine) {}
  // ~coro_context() destroys a root coroutine that never finished.
  ~coro_context() override = default;

  void start(entry_fn entry, void* arg) noexcept override;
  void resume_switch() noexcept override { resume_inline(); }
  // resume_inline() is resume() for a caller that knows the context is a
  // coro_context (the executor's run loop): the fast path continues a
  // suspended coroutine; launching and refusing are out of line. The root
  // marks state_ finished as it ends (co_promise_base::finished_).
  void resume_inline() noexcept {
    if (state_ != context_state::suspended) [[unlikely]]
      return resume_other();
    coro_context* const outer = current_context_;
    current_context_ = this;
    state_ = context_state::running;
    current_.resume();
    current_context_ = outer;
    if (state_ != context_state::running) [[unlikely]]
      finish();
    else
      state_ = context_state::suspended;
  }

  // set_root() is called by entry(arg) inside resume(): the coroutine that is
  // the body. Calling thread: the one inside resume().
  void set_root(co<void>&& root) noexcept {
    root_ = std::move(root);
    if (root_) root_.get().promise().finished_ = &state_;
  }
  // set_current() names the handle the next resume() continues; awaitables
  // call it from await_suspend and then suspend (return true/void/noop).
  void set_current(std::coroutine_handle<> h) noexcept { current_ = h; }

  // current() is the coro_context being resumed on the calling thread, or
  // nullptr outside resume().
  static coro_context* current() noexcept { return current_context_; }

 private:
  [[gnu::noinline]] void resume_other() noexcept;
  void launch() noexcept;
  [[gnu::noinline]] void finish() noexcept;

  PRIO_HOT_TLS static constinit thread_local coro_context* current_context_;

  std::coroutine_handle<> current_{};  // first: in line 0, with state_
  entry_fn entry_ = nullptr;
  void* arg_ = nullptr;
  co<void> root_;
};

// suspend_context() is an awaitable that suspends the running coroutine
// context: control returns to resume()'s caller, and the next resume()
// continues after the co_await.
struct suspend_context {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const noexcept {
    coro_context::current()->set_current(h);
  }
  void await_resume() const noexcept {}
};

}  // namespace prio
