// test_gdb_extension.cpp - Description: stock GDB with the auto-loaded prio
// extension lists every task of gdb_target with its state and priorities,
// shows each suspended task's stack with its locals, coroutine chains, and
// gives the real stack back; live (then continue to a clean exit) and on a
// core file made with gcore. The assertions are in check_gdb.py.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "prio_build_config.h"
#include "tests/gdb/debugger_env.hpp"

namespace {

constexpr int gdb_time_limit_s = 240;  // sanitizer builds run slowly under gdb

// count_ok() is the number of passed assertions check_gdb.py printed.
std::size_t count_ok(const std::string& out) {
  std::size_t n = 0;
  for (std::size_t i = out.find("\nok: "); i != std::string::npos; i = out.find("\nok: ", i + 1)) ++n;
  return n;
}

class gdb_extension : public ::testing::Test {
 protected:
  void SetUp() override {
    gdb_ = prio_test::find_program("gdb");
    if (gdb_.empty()) GTEST_SKIP() << "gdb is not installed (CI installs it)";
    if (auto why = prio_test::ptrace_unavailable(); !why.empty()) GTEST_SKIP() << why;
    src_ = prio_test::env_or("PRIO_SOURCE_ROOT", "..");
    target_ = prio_test::env_or("PRIO_BUILD_ROOT", ".") + "/tests/gdb/gdb_target";
  }

  // gdb() is the command line of a batch GDB: no ~/.gdbinit, extension
  // auto-loaded from the binary (safe-path opened for the build tree).
  std::string gdb(const std::string& mode, const std::string& args) const {
    // LeakSanitizer stops the world with ptrace, which fails under a debugger.
    return "ASAN_OPTIONS=\"$ASAN_OPTIONS:detect_leaks=0\" PRIO_CHECK_MODE=" + mode + " timeout -k 10 " + std::to_string(gdb_time_limit_s) +
           " " + gdb_ + " -nx -batch -iex 'set auto-load safe-path /'" +
           " -iex 'set debuginfod enabled off' " + args;
  }

  std::string gdb_, src_, target_;
};

TEST_F(gdb_extension, live_process) {
  std::string out;
  const int rc = prio_test::run(gdb("live", "-x " + src_ + "/tests/gdb/check_gdb.py " + target_), out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\n0 failure(s)"), std::string::npos) << out;
  std::printf("gdb (live): %zu assertions passed\n", count_ok(out));
  EXPECT_NE(out.find("gdb_target: clean exit"), std::string::npos) << out;
}

TEST_F(gdb_extension, core_file) {
#if PRIO_SANITIZE_ADDRESS || PRIO_SANITIZE_THREAD
  GTEST_SKIP() << "gcore of a sanitizer build dumps its terabytes of shadow memory "
                  "(the core is not finished within the time limit); the core-file "
                  "checks run in the plain build";
#endif
  char core[] = "/tmp/prio_gdb_core_XXXXXX";
  const int fd = ::mkstemp(core);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::string out;
  const int made = prio_test::run(gdb("none", "-ex 'break prio_test_stop_here' -ex run -ex 'gcore " +
                                                  std::string(core) + "' -ex kill " + target_),
                                  out);
  ASSERT_EQ(made, 0) << out;
  std::string check;
  const int rc = prio_test::run(gdb("core", "-x " + src_ + "/tests/gdb/check_gdb.py " + target_ + " " + core), check);
  std::remove(core);
  EXPECT_EQ(rc, 0) << check;
  EXPECT_NE(check.find("\n0 failure(s)"), std::string::npos) << check;
  std::printf("gdb (core): %zu assertions passed\n", count_ok(check));
}

}  // namespace
