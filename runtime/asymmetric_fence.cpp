// asymmetric_fence.cpp: membarrier registration and the heavy half.
#include "prio/runtime/asymmetric_fence.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace prio::detail {

std::atomic<bool> g_membarrier_ready{false};

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

bool asymmetric_fence_init() noexcept {
  // A function-local static: registered once, callers wait for the first.
  static const bool ready = [] {
    const bool ok = register_expedited();
    if (ok) g_membarrier_ready.store(true, std::memory_order_seq_cst);
    return ok;
  }();
  return ready;
}

void asymmetric_fence_heavy() noexcept {
  // Light sides that read false use a full fence themselves; pair with a
  // full fence here too, and add the membarrier for those that read true.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (asymmetric_fence_init()) (void)membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

}  // namespace prio::detail
