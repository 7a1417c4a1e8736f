// fp_control.hpp: save and restore the callee-saved floating-point control
// state (private to the context layer). setjmp/longjmp do not carry it, so
// the sjlj switcher does it around every jump: x86-64: the MXCSR control
// bits and the x87 control word; AArch64: FPCR.
#pragma once

#include <cstdint>

namespace prio::detail {

#if defined(__x86_64__)
struct fp_control {
  std::uint32_t mxcsr;
  std::uint16_t x87cw;
};
// save_fp_control() reads the calling thread's control state.
[[gnu::always_inline]] inline void save_fp_control(fp_control& f) noexcept {
  __asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(f.mxcsr), "=m"(f.x87cw));
}
// restore_fp_control() makes `f` the calling thread's control state.
[[gnu::always_inline]] inline void restore_fp_control(const fp_control& f) noexcept {
  __asm__ volatile("ldmxcsr %0\n\tfldcw %1" ::"m"(f.mxcsr), "m"(f.x87cw));
}
#elif defined(__aarch64__)
struct fp_control {
  std::uint64_t fpcr;
};
[[gnu::always_inline]] inline void save_fp_control(fp_control& f) noexcept {
  __asm__ volatile("mrs %0, fpcr" : "=r"(f.fpcr));
}
[[gnu::always_inline]] inline void restore_fp_control(const fp_control& f) noexcept {
  __asm__ volatile("msr fpcr, %0" ::"r"(f.fpcr));
}
#else
#error "prio supports x86_64 and aarch64 only"
#endif

}  // namespace prio::detail
