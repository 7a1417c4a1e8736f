// Description: tsc::now() is monotonic on a thread, its calibration agrees
// with clock_gettime over a measured interval (within a wide band: machines
// are noisy), conversions round-trip, every fence compiles and runs, and
// PRIO_CLOCK=clock_gettime forces the nanosecond fallback.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "prio/runtime/clock.hpp"

namespace {

namespace tsc = prio::tsc;

std::uint64_t monotonic_raw_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// reexec_child() forks a child that re-executes this test binary with
// PRIO_CLOCK=value, running only the test named, its stderr on stderr_fd
// (-1: inherited). The parent gets the child's pid.
pid_t reexec_child(const char* value, const char* test, int stderr_fd) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  if (stderr_fd >= 0) dup2(stderr_fd, 2);
  setenv("PRIO_CLOCK", value, 1);
  std::string filter = std::string("--gtest_filter=") + test;
  char self[] = "/proc/self/exe";
  char* argv[] = {self, filter.data(), nullptr};
  execv(self, argv);
  _exit(127);
}

bool forced_fallback_env() {
  const char* v = std::getenv("PRIO_CLOCK");
  return v != nullptr && std::strcmp(v, "clock_gettime") == 0;
}

TEST(Clock, MonotonicOnOneThread) {
  tsc::ticks prev = tsc::now();
  for (int i = 0; i < 100000; ++i) {
    const tsc::ticks t = tsc::now(tsc::fence::acquire);
    ASSERT_GE(t, prev);
    prev = t;
  }
}

TEST(Clock, EveryFenceReads) {
  const tsc::ticks a = tsc::now(tsc::fence::relaxed);
  const tsc::ticks b = tsc::now(tsc::fence::acquire);
  const tsc::ticks c = tsc::now(tsc::fence::release);
  EXPECT_LE(a, b);
  EXPECT_LE(b, c);
#if defined(__x86_64__) || defined(__aarch64__)
  const tsc::ticks d = tsc::read_hw(tsc::fence::relaxed);
  const tsc::ticks e = tsc::read_hw(tsc::fence::acquire);
  const tsc::ticks f = tsc::read_hw(tsc::fence::release);
  if (tsc::invariant()) {
    EXPECT_LE(d, e);
    EXPECT_LE(e, f);
  }
#endif
}

TEST(Clock, CalibrationIsCachedAndSane) {
  const auto& c1 = tsc::calibrate();
  const auto& c2 = tsc::calibrate();
  EXPECT_EQ(&c1, &c2);
  EXPECT_GT(c1.hz, 1'000'000u);  // any real counter ticks faster than 1 MHz
  EXPECT_EQ(tsc::frequency(), c1.hz);
  EXPECT_NEAR(c1.ns_per_tick * c1.ticks_per_ns, 1.0, 1e-9);
  EXPECT_STREQ(tsc::source_name(), c1.src == tsc::source::tsc      ? "tsc"
                                   : c1.src == tsc::source::cntvct ? "cntvct"
                                                                   : "clock_gettime");
}

// The tick rate agrees with CLOCK_MONOTONIC_RAW over a ~50 ms busy interval
// to within a factor of two: a broken calibration is off by far more.
TEST(Clock, AgreesWithClockGettime) {
  (void)tsc::calibrate();
  const std::uint64_t ns0 = monotonic_raw_ns();
  const tsc::ticks t0 = tsc::now(tsc::fence::acquire);
  while (monotonic_raw_ns() - ns0 < 50'000'000u) {
  }
  const tsc::ticks t1 = tsc::now(tsc::fence::release);
  const std::uint64_t ns1 = monotonic_raw_ns();
  const double measured = static_cast<double>(ns1 - ns0);
  const double converted = static_cast<double>(tsc::to_ns(t1 - t0));
  EXPECT_GT(converted, 0.5 * measured);
  EXPECT_LT(converted, 2.0 * measured);
}

TEST(Clock, ConversionsRoundTrip) {
  for (std::uint64_t ns : {0ull, 1'000ull, 1'000'000ull, 1'000'000'000ull, 3'600'000'000'000ull}) {
    const std::uint64_t back = tsc::to_ns(tsc::from_ns(ns));
    const std::uint64_t err = back > ns ? back - ns : ns - back;
    EXPECT_LE(err, 2 + ns / 1'000'000) << ns;  // rounding, not drift
  }
  EXPECT_EQ(tsc::from_duration(std::chrono::nanoseconds(-5)), 0u);
  EXPECT_EQ(tsc::to_duration(tsc::from_ns(0)).count(), 0);
}

// Huge spans saturate (decades) instead of wrapping: no timeout or sleep of
// nanoseconds::max() - 1 turns into one that has passed already.
TEST(Clock, HugeSpansSaturate) {
  const std::uint64_t year_ns = 365ull * 24 * 3600 * 1'000'000'000;
  const tsc::ticks year = tsc::from_ns(year_ns);
  for (std::uint64_t ns : {UINT64_MAX / 4, UINT64_MAX / 2, UINT64_MAX}) {
    const tsc::ticks t = tsc::from_ns(ns);
    EXPECT_GT(t, 50 * year) << ns;
    EXPECT_LT(tsc::now() + t, tsc::now() + 2 * t) << "no wrap when added to now(): " << ns;
    EXPECT_GT(tsc::to_ns(t), 50 * year_ns) << ns;
  }
  EXPECT_EQ(tsc::from_duration(std::chrono::nanoseconds::max()), tsc::from_ns(UINT64_MAX));
  EXPECT_GT(tsc::to_ns(UINT64_MAX), 50 * year_ns);
}

// In a child re-executed with PRIO_CLOCK=clock_gettime, the clock must have
// chosen the fallback at start-up, and its ticks are nanoseconds.
TEST(Clock, FallbackForcedByEnvironment) {
  if (forced_fallback_env()) {
    EXPECT_STREQ(tsc::source_name(), "clock_gettime");
    EXPECT_EQ(tsc::calibrate().src, tsc::source::clock_gettime);
    EXPECT_EQ(tsc::frequency(), 1'000'000'000u);
    EXPECT_EQ(tsc::to_ns(123456789), 123456789u);
    EXPECT_EQ(tsc::from_ns(987654321), 987654321u);
    const std::uint64_t a = monotonic_raw_ns();
    const tsc::ticks t = tsc::now();
    const std::uint64_t b = monotonic_raw_ns();
    EXPECT_GE(t, a);
    EXPECT_LE(t, b);
    return;
  }
  const pid_t pid = reexec_child("clock_gettime", "Clock.FallbackForcedByEnvironment", -1);
  ASSERT_GE(pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the re-executed child failed; see its output above";
}

// An unknown PRIO_CLOCK value is named on stderr (from the start-up
// constructor, so the child's stderr goes to a file the parent reads) and
// the default source stays.
TEST(Clock, UnknownClockSourceIsNamedAndIgnored) {
  const char* v = std::getenv("PRIO_CLOCK");
  if (v != nullptr && std::strcmp(v, "fast-please") == 0) {
    EXPECT_EQ(tsc::invariant(), std::strcmp(tsc::source_name(), "clock_gettime") != 0)
        << "ignored: the default source (the hardware counter where it is invariant)";
    EXPECT_EQ(tsc::now() != 0, true);
    return;
  }
  char path[] = "/tmp/prio_clock_env_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const pid_t pid = reexec_child("fast-please", "Clock.UnknownClockSourceIsNamedAndIgnored", fd);
  ASSERT_GE(pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  std::string err(4096, '\0');
  const ssize_t n = pread(fd, err.data(), err.size(), 0);
  close(fd);
  unlink(path);
  err.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the re-executed child failed";
  EXPECT_NE(err.find("PRIO_CLOCK='fast-please' is not a clock"), std::string::npos) << err;
}

}  // namespace
