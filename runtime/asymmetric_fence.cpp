// asymmetric_fence.cpp: membarrier registration and the heavy half.
#include "prio/runtime/asymmetric_fence.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

namespace prio::detail {

namespace {
int membarrier(int cmd) noexcept { return static_cast<int>(::syscall(SYS_membarrier, cmd, 0u, 0)); }

bool register_expedited() noexcept {
  const int supported = membarrier(MEMBARRIER_CMD_QUERY);
  if (supported < 0 || !(supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) return false;
  if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0) return false;
  // One barrier to prove it works (a seccomp filter may allow QUERY only).
  return membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0;
}
}  // namespace

bool membarrier_available() noexcept {
  static const bool ready = register_expedited();  // once; callers wait for the first
  return ready;
}

void asymmetric_fence_heavy() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (membarrier_available()) (void)membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

}  // namespace prio::detail
