// Description: the AArch64 asm switcher, cross-built into a static self-test
// (aarch64_switch_selftest), passes under qemu-aarch64: every switch keeps
// x19-x28, d8-d15 and FPCR. Skipped with the reason when the cross compiler
// was not found at configure time or no usable qemu-aarch64 is installed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

TEST(aarch64_qemu, asm_switch_selftest_passes) {
  const char* build = std::getenv("PRIO_BUILD_ROOT");
  if (build == nullptr) GTEST_SKIP() << "PRIO_BUILD_ROOT not set (run through meson test)";
  const std::string prog = std::string(build) + "/tests/context/aarch64_switch_selftest";
  struct stat st;
  if (::stat(prog.c_str(), &st) != 0)
    GTEST_SKIP() << prog << " was not built: aarch64-linux-gnu-g++ not found at configure time "
                 << "(or the host is not x86-64)";
  std::string qemu = find_in_path("qemu-aarch64");
  if (qemu.empty()) qemu = find_in_path("qemu-aarch64-static");
  if (qemu.empty()) GTEST_SKIP() << "neither qemu-aarch64 nor qemu-aarch64-static is in PATH";

  const std::string cmd = "'" + qemu + "' '" + prog + "' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int status = ::pclose(p);
  ASSERT_TRUE(WIFEXITED(status)) << "self-test killed by a signal:\n" << out;
  const int code = WEXITSTATUS(status);
  if (code == 126 || code == 127) GTEST_SKIP() << qemu << " is not usable here:\n" << out;
  EXPECT_EQ(code, 0) << "failed checks under qemu:\n" << out;
  EXPECT_NE(out.find("2000 switches, 0 failures"), std::string::npos) << out;
  std::printf("%s", out.c_str());
}

}  // namespace
