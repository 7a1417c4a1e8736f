// clock.cpp: choosing the counter tsc::now() reads, and calibrating it once.
//
// The choice (hardware counter or CLOCK_MONOTONIC_RAW) is made by a
// high-priority constructor, before any ordinary static initialiser of the
// program can call now(), so every tick a process ever sees comes from one
// source. Calibration is lazy: the first conversion pays ~10 ms once.
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "prio/runtime/clock.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace prio::tsc {
namespace detail {

calibration g_calibration{};
bool g_hardware = false;  // constant-initialised; set by choose_source()

namespace {

bool g_invariant = false;
std::atomic<bool> g_calibrated{false};
std::once_flag g_calibrate_once;

// hardware_invariant() asks the CPU whether its counter runs at a constant
// rate: CPUID 0x80000007 EDX bit 8 on x86-64; the generic timer always does.
bool hardware_invariant() noexcept {
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007u) return false;
  if (__get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (edx & (1u << 8)) != 0;
#elif defined(__aarch64__)
  return true;
#else
  return false;
#endif
}

// hardware_name() is the hardware counter's name, as source_name() gives it.
constexpr const char* hardware_name() noexcept {
#if defined(__aarch64__)
  return "cntvct";
#else
  return "tsc";
#endif
}

// forced_fallback() is true when PRIO_CLOCK=clock_gettime asks for the
// portable clock even though the hardware counter is usable. The hardware
// counter's own name (tsc, cntvct) or an empty value keep the default; any
// other value is named on stderr and ignored, not silently taken as the
// default.
bool forced_fallback() noexcept {
  const char* v = std::getenv("PRIO_CLOCK");
  if (v == nullptr || *v == '\0') return false;
  if (std::strcmp(v, "clock_gettime") == 0) return true;
  if (std::strcmp(v, hardware_name()) != 0)
    std::fprintf(stderr, "prio: PRIO_CLOCK='%s' is not a clock (clock_gettime or %s): ignored\n", v,
                 hardware_name());
  return false;
}

// choose_source() runs before ordinary static initialisers (priority 101), so
// no code of the program reads the clock before the source is fixed.
__attribute__((constructor(101))) void choose_source() noexcept {
  g_invariant = hardware_invariant();
  const bool forced = forced_fallback();  // also where there is no choice: a bad value is still named
  g_hardware = g_invariant && !forced;
}

std::uint64_t monotonic_raw_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// paired_sample is a hardware tick count and a CLOCK_MONOTONIC_RAW reading
// taken at (nearly) the same instant.
struct paired_sample {
  std::uint64_t ticks;
  std::uint64_t ns;
};

// sample_pair() brackets a clock_gettime between two counter reads and keeps
// the tightest of a few tries, taking the bracket's midpoint: this bounds the
// pairing error by the (small) cost of one vDSO call.
paired_sample sample_pair() noexcept {
  paired_sample best{0, 0};
  std::uint64_t best_width = ~std::uint64_t{0};
  for (int i = 0; i < 16; ++i) {
    const ticks before = read_hw(fence::acquire);
    const std::uint64_t ns = monotonic_raw_ns();
    const ticks after = read_hw(fence::release);
    if (after >= before && after - before < best_width) {
      best_width = after - before;
      best = {before + (after - before) / 2, ns};
    }
  }
  return best;
}

// measure_hz() counts ticks over ~10 ms of CLOCK_MONOTONIC_RAW.
std::uint64_t measure_hz() noexcept {
  const paired_sample a = sample_pair();
  timespec pause{0, 10'000'000};
  while (nanosleep(&pause, &pause) != 0) {
  }
  const paired_sample b = sample_pair();
  const double dns = static_cast<double>(b.ns - a.ns);
  if (dns <= 0 || b.ticks <= a.ticks) return 1'000'000'000u;  // cannot happen; stay sane
  return static_cast<std::uint64_t>(static_cast<double>(b.ticks - a.ticks) * 1e9 / dns + 0.5);
}

// counter_hz() is the hardware counter's rate: the architected frequency
// register on AArch64 (exact), a measurement on x86-64.
std::uint64_t counter_hz() noexcept {
#if defined(__aarch64__)
  std::uint64_t f = 0;
  asm volatile("mrs %0, cntfrq_el0" : "=r"(f));
  if (f != 0) return f;
#endif
  return measure_hz();
}

void calibrate_now() noexcept {
  calibration c{};
  if (g_hardware) {
#if defined(__aarch64__)
    c.src = source::cntvct;
#else
    c.src = source::tsc;
#endif
    c.hz = counter_hz();
  } else {
    c.src = source::clock_gettime;
    c.hz = 1'000'000'000u;  // fallback ticks are nanoseconds
  }
  c.ns_per_tick = 1e9 / static_cast<double>(c.hz);
  c.ticks_per_ns = static_cast<double>(c.hz) / 1e9;
  g_calibration = c;
  g_calibrated.store(true, std::memory_order_release);
}

}  // namespace

// read_fallback() is CLOCK_MONOTONIC_RAW in nanoseconds (the vDSO path).
std::uint64_t read_fallback() noexcept { return monotonic_raw_ns(); }

}  // namespace detail

// calibrate() measures once; later calls cost one acquire load.
const detail::calibration& calibrate() noexcept {
  if (!detail::g_calibrated.load(std::memory_order_acquire))
    std::call_once(detail::g_calibrate_once, detail::calibrate_now);
  return detail::g_calibration;
}

const char* source_name() noexcept {
  return detail::g_hardware ? detail::hardware_name() : "clock_gettime";
}

bool invariant() noexcept { return detail::g_invariant; }

std::uint64_t frequency() noexcept { return calibrate().hz; }

// Conversions saturate at max_span (2^62: 36 years of ticks at 4 GHz, 146
// years of nanoseconds): a converted timeout added to
// now() cannot wrap, and a double beyond 2^64 is never cast (that is
// undefined; it gave 0, so a sleep of nanoseconds::max() - 1 ended at once).
namespace {
constexpr std::uint64_t max_span = std::uint64_t{1} << 62;
std::uint64_t saturated(double v) noexcept {
  return v >= static_cast<double>(max_span) ? max_span : static_cast<std::uint64_t>(v);
}
}  // namespace

std::uint64_t to_ns(ticks t) noexcept {
  const detail::calibration& c = calibrate();
  if (c.src == source::clock_gettime) return std::min(t, max_span);
  return saturated(static_cast<double>(t) * c.ns_per_tick);
}

ticks from_ns(std::uint64_t ns) noexcept {
  const detail::calibration& c = calibrate();
  if (c.src == source::clock_gettime) return std::min(ns, max_span);
  return saturated(static_cast<double>(ns) * c.ticks_per_ns);
}

}  // namespace prio::tsc
