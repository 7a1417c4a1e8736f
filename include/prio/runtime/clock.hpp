// clock.hpp: the TSC clock every layer stamps time with.
//
// tsc::now() reads the CPU's timestamp counter (rdtsc on x86-64, cntvct_el0 on
// AArch64) or, where that is not trustworthy (no invariant TSC), a
// CLOCK_MONOTONIC_RAW reading in nanoseconds. Ticks convert to nanoseconds
// with the calibration done once per process (well under 100 ms) and cached.
#pragma once

#include <chrono>
#include <cstdint>

namespace prio::tsc {

using ticks = std::uint64_t;

enum class fence : std::uint8_t {
  relaxed,  // may be reordered with surrounding loads and stores (cheapest)
  acquire,  // later instructions do not start before the read (rdtsc; lfence)
  release,  // earlier instructions complete before the read (rdtscp / lfence; rdtsc)
};

enum class source : std::uint8_t { tsc, cntvct, clock_gettime };

namespace detail {
struct calibration {
  double ns_per_tick;
  double ticks_per_ns;
  std::uint64_t hz;
  source src;
};
extern calibration g_calibration;  // valid after calibrate(); zero before
// g_hardware: the hardware counter is trusted. Decided by a CPUID/ID-register
// check during static initialisation of the library (no calibration needed).
extern bool g_hardware;
inline bool use_hardware() noexcept { return g_hardware; }
std::uint64_t read_fallback() noexcept;  // CLOCK_MONOTONIC_RAW in ns
}  // namespace detail

#if defined(__x86_64__)
inline ticks read_hw(fence f = fence::relaxed) noexcept {
  unsigned lo, hi;
  if (f == fence::release) {
    unsigned aux;
    asm volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux)::"memory");
    return (static_cast<ticks>(hi) << 32) | lo;
  }
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi)::"memory");
  if (f == fence::acquire) asm volatile("lfence" ::: "memory");
  return (static_cast<ticks>(hi) << 32) | lo;
}
#elif defined(__aarch64__)
inline ticks read_hw(fence f = fence::relaxed) noexcept {
  ticks v;
  if (f == fence::release) asm volatile("isb" ::: "memory");
  asm volatile("mrs %0, cntvct_el0" : "=r"(v)::"memory");
  if (f == fence::acquire) asm volatile("isb" ::: "memory");
  return v;
}
#endif

// now() is the current tick count. Cheap: one instruction plus the fence asked
// for when the hardware counter is trusted; a vDSO call otherwise.
inline ticks now(fence f = fence::relaxed) noexcept {
  if (__builtin_expect(detail::use_hardware(), 1)) return read_hw(f);
  return detail::read_fallback();
}

// now(hw) is now() for a caller that keeps use_hardware() itself (decided
// once, during static initialisation): the executor's loop then reads no
// global, one cache line fewer per turn.
inline ticks now(bool hw, fence f = fence::relaxed) noexcept {
  if (__builtin_expect(hw, 1)) return read_hw(f);
  return detail::read_fallback();
}

// calibrate() measures the tick rate once (thread-safe, idempotent) and
// returns the cached calibration; the conversions below call it lazily.
const detail::calibration& calibrate() noexcept;

// Which counter now() reads ("tsc", "cntvct" or "clock_gettime").
const char* source_name() noexcept;
// invariant() is true if the hardware counter ticks at a constant rate across
// P-states and C-states (x86: CPUID 0x80000007 EDX bit 8; AArch64: always).
bool invariant() noexcept;
// frequency() is ticks per second.
std::uint64_t frequency() noexcept;

// to_ns() and from_ns() saturate at 2^62 (36 years of 4 GHz ticks), so a
// long timeout added to now() cannot wrap.
std::uint64_t to_ns(ticks t) noexcept;
ticks from_ns(std::uint64_t ns) noexcept;
inline std::chrono::nanoseconds to_duration(ticks t) noexcept {
  return std::chrono::nanoseconds(to_ns(t));
}
inline ticks from_duration(std::chrono::nanoseconds d) noexcept {
  return d.count() <= 0 ? 0 : from_ns(static_cast<std::uint64_t>(d.count()));
}

}  // namespace prio::tsc
