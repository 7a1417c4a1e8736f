// nop.hpp: IORING_OP_NOP through the full operation path. It measures and
// tests the suspend -> submit -> complete -> resume round trip before any real
// file or socket exists.
#pragma once

#include "prio/executors/io_op.hpp"

namespace prio {

namespace detail {
struct prep_nop {
  void operator()(io_uring_sqe* sqe) const noexcept { io_uring_prep_nop(sqe); }
};
}  // namespace detail

// nop() completes one NOP for the stackful task t; 0 on success.
inline result<std::int32_t> nop(task& t) noexcept { return perform(t, detail::prep_nop{}); }
// async_nop(): the same for a coroutine body.
inline auto async_nop(task& t) noexcept { return async_perform(t, detail::prep_nop{}); }
// initiate_nop(): start a NOP into st (many-in-flight style).
inline result<void> initiate_nop(task& t, io_status& st) noexcept {
  return initiate(t, st, detail::prep_nop{});
}
inline auto async_initiate_nop(task& t, io_status& st) noexcept {
  return async_initiate(t, st, detail::prep_nop{});
}

}  // namespace prio
