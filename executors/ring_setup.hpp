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
// a disabled ring, registers a sparse fixed-file table of `files` slots
// (files is set to 0 if the kernel refuses) and registers the ring's fd in
// the calling thread's ring table where the kernel can (fd_registered).
result<void> enable_ring(io_uring* ring, unsigned flags, unsigned& files, bool& fd_registered) noexcept;

// disown_ring_fd_registration() is for a ring torn down on a thread other
// than the one that registered its fd: liburing would unregister the same
// slot of *this* thread's table, which may hold another ring. It points the
// ring at a slot the kernel refuses instead; the registering thread keeps
// its reference until it exits.
void disown_ring_fd_registration(io_uring* ring) noexcept;

// note_ring_mapped() / note_ring_unmapping() tell ThreadSanitizer (in its
// build; no-ops otherwise) what the kernel guarantees: liburing maps and
// unmaps rings with raw system calls TSan does not see, so a new ring may
// reuse the addresses of one torn down on another thread, and their plain
// accesses would look like a race between the two threads. A teardown
// releases and a setup acquires one sync object, ordering them.
void note_ring_mapped() noexcept;
void note_ring_unmapping() noexcept;

// ring_flags_to_text() names IORING_SETUP_* flags: "SINGLE_ISSUER|DEFER_TASKRUN".
std::string ring_flags_to_text(unsigned flags);

}  // namespace prio
