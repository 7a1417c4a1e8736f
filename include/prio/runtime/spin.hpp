// spin.hpp: the pause of a spin-wait loop, and a back-off for waits on
// another thread's short critical section.
#pragma once

#include <thread>

namespace prio {

// cpu_relax() tells the core this is a spin-wait (x86 PAUSE, Arm YIELD).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// spin_backoff(): one step of waiting for another thread. Pauses for the
// first 64 steps, then yields the core (the holder may be preempted, or
// need this core).
inline void spin_backoff(unsigned& spins) noexcept {
  if (++spins < 64)
    cpu_relax();
  else
    std::this_thread::yield();
}

}  // namespace prio
