// ring_setup.hpp: creating an executor's io_uring ring on whatever kernel runs.
#pragma once

#include <string>

#include "prio/runtime/result.hpp"

struct io_uring;

namespace prio {

// create_ring() sets up `ring` with entries SQEs and cq_entries CQEs, asking
// for SINGLE_ISSUER, DEFER_TASKRUN and COOP_TASKRUN and retrying with fewer
// flags on kernels that refuse them. The ring starts disabled (R_DISABLED)
// where the kernel allows, so it binds to the thread that first runs it.
// Reports the flags used (numeric and as text).
result<void> create_ring(io_uring* ring, unsigned entries, unsigned cq_entries,
                         unsigned& flags_used, std::string& flags_text) noexcept;

// enable_ring() is called on the executor's thread before first use: enables
// a disabled ring and registers a sparse fixed-file table of `files` slots
// (files is set to 0 if the kernel refuses).
result<void> enable_ring(io_uring* ring, unsigned flags, unsigned& files) noexcept;

// ring_flags_to_text() names IORING_SETUP_* flags: "SINGLE_ISSUER|DEFER_TASKRUN".
std::string ring_flags_to_text(unsigned flags);

}  // namespace prio
