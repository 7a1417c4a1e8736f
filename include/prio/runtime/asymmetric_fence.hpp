// asymmetric_fence.hpp: a StoreLoad fence split between a hot side and a
// rare side.
//
// Two threads that each store one flag and then load the other's (Dekker)
// need a full fence on both sides. When one side runs on every task
// completion and the other only when a user cancels from another thread,
// the hot side takes the light half (a compiler barrier) and the rare side
// the heavy half: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which makes
// every running thread of the process execute a full barrier. Together they
// order as two seq_cst fences would.
//
// Where the kernel lacks the command (before Linux 4.14, seccomp, valgrind)
// both halves are seq_cst fences. The light side reads which it is from a
// flag that only ever goes from false to true, after registration
// succeeded; the heavy side registers before its first barrier, so a light
// side that saw true always meets a membarrier.
#pragma once

#include <atomic>

namespace prio::detail {

extern std::atomic<bool> g_membarrier_ready;

// asymmetric_fence_init() registers the process for expedited membarriers
// (once; later calls are a load). True when the heavy side uses them.
bool asymmetric_fence_init() noexcept;

inline void asymmetric_fence_light() noexcept {
  if (g_membarrier_ready.load(std::memory_order_relaxed)) [[likely]]
    std::atomic_signal_fence(std::memory_order_seq_cst);
  else
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

void asymmetric_fence_heavy() noexcept;

}  // namespace prio::detail
