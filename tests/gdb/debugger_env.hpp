// debugger_env.hpp: what the debugger tests need from the machine (gdb on
// PATH, ptrace allowed) and running a command with a time limit.
#pragma once

#include <sys/ptrace.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace prio_test {

// find_program() is the path of `name` on PATH, or "".
inline std::string find_program(const char* name) {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  for (std::size_t i = 0; i <= p.size();) {
    std::size_t j = p.find(':', i);
    if (j == std::string::npos) j = p.size();
    std::string cand = p.substr(i, j - i) + "/" + name;
    if (::access(cand.c_str(), X_OK) == 0) return cand;
    i = j + 1;
  }
  return {};
}

// ptrace_unavailable() says why this process cannot trace a child, or "".
// Yama scope 3 forbids all ptrace; a seccomp filter or a container may make
// PTRACE_TRACEME fail: a forked child tries it.
inline std::string ptrace_unavailable() {
  std::ifstream yama("/proc/sys/kernel/yama/ptrace_scope");
  int scope = 0;
  if (yama >> scope && scope >= 3) return "kernel.yama.ptrace_scope is 3 (no ptrace at all)";
  const pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) ::_exit(77);
    ::raise(SIGSTOP);
    ::_exit(0);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  if (WIFSTOPPED(st)) {
    ::ptrace(PTRACE_CONT, pid, nullptr, nullptr);
    ::waitpid(pid, &st, 0);
    return {};
  }
  return "PTRACE_TRACEME is not permitted here (seccomp or container policy)";
}

// run() runs a shell command line, returning its exit status (-1 if it did
// not exit) and its output (stdout and stderr together).
inline int run(const std::string& cmd, std::string& output) {
  FILE* f = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!f) return -1;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) output.append(buf, n);
  const int st = ::pclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

inline std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

}  // namespace prio_test
