// Description: on AArch64 under qemu-aarch64: the asm switcher's swap,
// cross-built into a static self-test (aarch64_switch_selftest), keeps
// x19-x28, d8-d15 and FPCR on every switch; and the context tests of all
// five switchers, cross-built with GoogleTest (aarch64_context_tests), pass.
// Skipped with the reason when the cross compiler (or GoogleTest's sources)
// was not found at configure time or no usable qemu-aarch64 is installed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

namespace {

std::string find_in_path(const char* name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

// qemu_run: what running one cross-built program under qemu gave.
struct qemu_run {
  std::string skip;  // non-empty: why it could not run
  int code = -1;     // exit code
  std::string out;   // stdout and stderr
};

// run_under_qemu() runs tests/context/<name> of this build under qemu-aarch64.
qemu_run run_under_qemu(const char* name, const char* not_built_why) {
  qemu_run r;
  const char* build = std::getenv("PRIO_BUILD_ROOT");
  if (build == nullptr) {
    r.skip = "PRIO_BUILD_ROOT not set (run through meson test)";
    return r;
  }
  const std::string prog = std::string(build) + "/tests/context/" + name;
  struct stat st;
  if (::stat(prog.c_str(), &st) != 0) {
    r.skip = prog + " was not built: " + not_built_why;
    return r;
  }
  std::string qemu = find_in_path("qemu-aarch64");
  if (qemu.empty()) qemu = find_in_path("qemu-aarch64-static");
  if (qemu.empty()) {
    r.skip = "neither qemu-aarch64 nor qemu-aarch64-static is in PATH";
    return r;
  }
  const std::string cmd = "'" + qemu + "' '" + prog + "' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    r.out = "popen failed";
    return r;
  }
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) r.out += buf;
  const int status = ::pclose(p);
  if (!WIFEXITED(status)) {
    r.out = "killed by a signal:\n" + r.out;
    return r;
  }
  r.code = WEXITSTATUS(status);
  if (r.code == 126 || r.code == 127) r.skip = qemu + " is not usable here:\n" + r.out;
  return r;
}

TEST(aarch64_qemu, asm_switch_selftest_passes) {
  const qemu_run r = run_under_qemu(
      "aarch64_switch_selftest", "aarch64-linux-gnu-g++ not found at configure time (or the host is not x86-64)");
  if (!r.skip.empty()) GTEST_SKIP() << r.skip;
  EXPECT_EQ(r.code, 0) << "failed checks under qemu:\n" << r.out;
  EXPECT_NE(r.out.find("2000 switches, 0 failures"), std::string::npos) << r.out;
  std::printf("%s", r.out.c_str());
}

TEST(aarch64_qemu, context_tests_pass) {
  const qemu_run r = run_under_qemu("aarch64_context_tests",
                                    "aarch64-linux-gnu-g++ or GoogleTest's sources "
                                    "(/usr/src/googletest) not found at configure time");
  if (!r.skip.empty()) GTEST_SKIP() << r.skip;
  EXPECT_EQ(r.code, 0) << "context tests failed under qemu:\n" << r.out;
  EXPECT_NE(r.out.find("[  PASSED  ]"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("[  FAILED  ]"), std::string::npos) << r.out;
  // The summary lines, so the log shows what ran (and what skipped) on AArch64.
  std::size_t at = 0;
  while (at < r.out.size()) {
    const std::size_t end = std::min(r.out.find('\n', at), r.out.size());
    const std::string line = r.out.substr(at, end - at);
    if (line.rfind("[==========]", 0) == 0 || line.rfind("[  PASSED  ]", 0) == 0 ||
        (line.rfind("[  SKIPPED ]", 0) == 0 && line.find(" test") != std::string::npos &&
         line.find("listed below") != std::string::npos))
      std::printf("aarch64: %s\n", line.c_str());
    at = end + 1;
  }
}

}  // namespace
