// bare_coroutine.hpp: the least C++20 coroutine type there is, for
// baselines that measure coroutines without any runtime around them. It
// starts suspended, stays suspended at its end (the owner destroys it
// through h) and returns nothing.
#pragma once

#include <coroutine>
#include <exception>

namespace prio::bench {

struct bare_task {
  struct promise_type {
    bare_task get_return_object() { return {std::coroutine_handle<promise_type>::from_promise(*this)}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
  std::coroutine_handle<promise_type> h;
};

}  // namespace prio::bench
