// exec_helpers.hpp: shared helpers for the executor tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "prio/executors/executor.hpp"
#include "prio/executors/task.hpp"

namespace prio::test {

using namespace std::chrono_literals;

inline const std::vector<switcher_kind> stackful = {switcher_kind::sjlj, switcher_kind::ucontext,
                                                    switcher_kind::asm_switch};
inline const std::vector<switcher_kind> run_to_completion = {
    switcher_kind::none, switcher_kind::sjlj, switcher_kind::ucontext, switcher_kind::asm_switch};

inline std::string kind_name(const ::testing::TestParamInfo<switcher_kind>& i) {
  return std::string(to_string(i.param));
}

inline std::unique_ptr<executor> make_executor(executor_options o = {}) {
  auto r = executor::create(o);
  if (!r) {
    ADD_FAILURE() << "executor::create: " << r.error().message();
    return nullptr;
  }
  return std::move(*r);
}

inline std::unique_ptr<task> make_task(switcher_kind k, priority cpu = priority::normal,
                                       priority io = priority::normal) {
  task_options o;
  o.switcher = k;
  o.cpu = cpu;
  o.io = io;
  o.stack_size = 64 * 1024;
  auto r = task::create(o);
  if (!r) {
    ADD_FAILURE() << "task::create: " << r.error().message();
    return nullptr;
  }
  return std::move(*r);
}

// drive() runs ex until done() holds; each run() may block at most 10 s so a
// bug shows as a failure, not a hang.
template <class Done>
void drive(executor& ex, Done done) {
  for (int i = 0; i < 1000000 && !done(); ++i) {
    auto r = ex.run(SIZE_MAX, 10s);
    if (!r) {
      ASSERT_EQ(r.error(), std::errc::stream_timeout) << "run(): " << r.error().message();
      ADD_FAILURE() << "run() timed out before the work finished";
      return;
    }
  }
  ASSERT_TRUE(done());
}

inline bool all_completed(const std::vector<std::unique_ptr<task>>& ts) {
  for (auto& t : ts)
    if (t->state() != task_state::completed) return false;
  return true;
}

// test_pipe: a pipe for reads that complete only when the test writes;
// closed when the test ends (ok() is false if pipe() failed).
struct test_pipe {
  int fds[2] = {-1, -1};
  test_pipe() noexcept { (void)::pipe(fds); }
  ~test_pipe() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  test_pipe(const test_pipe&) = delete;
  test_pipe& operator=(const test_pipe&) = delete;
  bool ok() const noexcept { return fds[0] >= 0; }
  int read_end() const noexcept { return fds[0]; }
  int write_end() const noexcept { return fds[1]; }
};

}  // namespace prio::test
