// switchers.hpp: constructors of each switcher's contexts, for make_context
// (private to the context layer). Each one is defined in switcher_<kind>.cpp.
#pragma once

#include <memory>

#include "prio/context/context.hpp"
#include "prio/context/stack_pool.hpp"

namespace prio::detail {

std::unique_ptr<context> make_none_context();
std::unique_ptr<context> make_coro_context();
// The stackful ones take ownership of a stack acquired from `pool`.
std::unique_ptr<context> make_sjlj_context(stack_pool& pool, stack_region s);
std::unique_ptr<context> make_ucontext_context(stack_pool& pool, stack_region s);
std::unique_ptr<context> make_asm_context(stack_pool& pool, stack_region s);

}  // namespace prio::detail
