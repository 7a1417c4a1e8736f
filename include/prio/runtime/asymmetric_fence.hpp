// asymmetric_fence.hpp: the heavy half of a StoreLoad fence split between a
// hot side and a rare side.
//
// Two threads that each store one flag and then load the other's (Dekker)
// need a full fence on both sides. When one side runs all the time and the
// other rarely, the hot side may use a compiler barrier alone
// (std::atomic_signal_fence) if the rare side calls asymmetric_fence_heavy():
// membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) makes every running thread of
// the process execute a full barrier, so the pair orders as two seq_cst
// fences would. That costs the rare side a system call and an interrupt of
// each core running the process (microseconds), so a rare side that turns
// frequent should make the hot side switch to a real fence instead (as the
// executor does for cross-thread cancel()).
//
// Only when membarrier_available() may a hot side rely on the compiler
// barrier: before Linux 4.14, under seccomp or valgrind the command is
// refused, and asymmetric_fence_heavy() is then just a seq_cst fence.
#pragma once

namespace prio::detail {

// membarrier_available() registers the process for expedited membarriers
// (the first call; later calls return the first answer).
bool membarrier_available() noexcept;

void asymmetric_fence_heavy() noexcept;

}  // namespace prio::detail
