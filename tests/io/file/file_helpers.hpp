// file_helpers.hpp: shared helpers for the file I/O tests: a scratch
// directory removed at the end, running a body in a task to completion,
// and plain-syscall checks.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "../../executors/exec_helpers.hpp"
#include "prio/io/file.hpp"
#include "prio/io/file_meta.hpp"
#include "prio/io/file_rw.hpp"

namespace prio::test {

// scratch_dir: a mkdtemp directory, under $PRIO_BUILD_ROOT when set (a real
// filesystem, so O_DIRECT works) else under /tmp; removed with its content.
class scratch_dir {
 public:
  scratch_dir() {
    const char* root = std::getenv("PRIO_BUILD_ROOT");
    std::string tmpl = std::string(root && *root ? root : "/tmp") + "/prio-file-test-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    path_ = buf.data();
    fd_ = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  ~scratch_dir() {
    if (fd_ >= 0) ::close(fd_);
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
  int fd_ = -1;
};

// run_in_task() runs body(t) as a stackful task (asm switcher) on ex until
// it completes, and returns the task's outcome.
inline result<std::int64_t> run_in_task(executor& ex, std::function<result<std::int64_t>(task&)> body,
                                        priority io = priority::normal) {
  auto t = make_task(switcher_kind::asm_switch, priority::normal, io);
  if (!t) return failure(errno_error(ENOMEM));
  auto* fn = &body;
  t->set_body([fn](task& tt) { return (*fn)(tt); });
  if (auto a = ex.attach(*t); !a) return failure(a.error());
  drive(ex, [&] { return t->state() == task_state::completed; });
  return t->outcome();
}

// read_whole() is the content of path, read with plain syscalls.
inline std::string read_whole(const std::string& path) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  std::vector<char> buf(65536);  // heap: tests call this on 64 KiB task stacks
  for (ssize_t n; (n = ::read(fd, buf.data(), buf.size())) > 0;) out.append(buf.data(), static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

inline void write_whole(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::close(fd);
}

// pattern() is n deterministic bytes seeded by seed.
inline std::string pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed * 7 + (i >> 8)) & 0xff);
  return s;
}

inline const open_how rw_create = open_how_of(O_RDWR | O_CREAT, 0644);

}  // namespace prio::test
