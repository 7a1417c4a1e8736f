// make_context.cpp: switcher names and the one factory for contexts.
#include <cerrno>
#include <new>

#include "context/switchers.hpp"
#include "prio/context/context.hpp"
#include "prio/context/stack_pool.hpp"

namespace prio {

namespace {
constexpr std::string_view names[switcher_kind_count] = {"none", "sjlj", "ucontext", "asm",
                                                         "coroutine"};
}

std::string_view to_string(switcher_kind k) noexcept {
  const auto i = static_cast<unsigned>(k);
  return i < switcher_kind_count ? names[i] : std::string_view("unknown");
}

result<switcher_kind> parse_switcher(std::string_view name) noexcept {
  for (int i = 0; i < switcher_kind_count; ++i)
    if (names[i] == name) return static_cast<switcher_kind>(i);
  return failure(errno_error(EINVAL));
}

result<std::unique_ptr<context>> make_context(switcher_kind kind,
                                              const context_options& opts) noexcept {
  try {
    switch (kind) {
      case switcher_kind::none:
        return detail::make_none_context();
      case switcher_kind::coroutine:
        return detail::make_coro_context();
      case switcher_kind::sjlj:
      case switcher_kind::ucontext:
      case switcher_kind::asm_switch:
        break;
      default:
        return failure(errno_error(EINVAL));
    }
    if (opts.stack_size != 0 && !stack_pool::valid_stack_size(opts.stack_size))
      return failure(errno_error(EINVAL));
    stack_pool& pool = opts.pool != nullptr     ? *opts.pool
                       : opts.stack_size != 0 ? stack_pool::shared(opts.stack_size)
                                              : stack_pool::default_pool();
    auto stack = pool.acquire();
    if (!stack) return failure(stack.error());
    std::unique_ptr<context> c;
    try {
      if (kind == switcher_kind::sjlj)
        c = detail::make_sjlj_context(pool, *stack);
      else if (kind == switcher_kind::ucontext)
        c = detail::make_ucontext_context(pool, *stack);
      else
        c = detail::make_asm_context(pool, *stack);
    } catch (...) {
      pool.release(*stack);
      throw;
    }
    return c;
  } catch (const std::bad_alloc&) {
    return failure(errno_error(ENOMEM));
  } catch (...) {
    return failure(errno_error(EINVAL));
  }
}

}  // namespace prio
