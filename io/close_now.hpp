// close_now.hpp: releasing a descriptor without the ring.
//
// A close is the one operation a cancelled task still needs. Cancellation
// makes every later wait of the run fail with ECANCELED, so the body unwinds
// into its cleanup; a close refused there would leak the regular fd or the
// fixed-file slot for as long as the process (or the ring) lives. A ring
// close that ends in ECANCELED never ran (refused at admission, withdrawn
// while it waited for a submission slot, or cancelled before the kernel
// started it), so the descriptor is still open and closed() closes it here
// instead, as the fallback for kernels without IORING_OP_CLOSE does.
#pragma once

#include <cstdint>

#include "prio/executors/executor.hpp"

namespace prio::detail {

// close_now() closes the regular fd `fd` (close(2)) or, when `fixed`, empties
// slot `fd` of ex's fixed-file table (a synchronous files update). The
// descriptor is gone afterwards whatever the result, as with close(2).
// ex's bound thread.
result<void> close_now(executor& ex, int fd, bool fixed) noexcept;

// closed() is the outcome of a ring close of (fd, fixed) on ex: r itself,
// unless r is ECANCELED (the close never ran): then close_now()'s.
result<void> closed(executor& ex, const result<std::int32_t>& r, int fd, bool fixed) noexcept;

}  // namespace prio::detail
