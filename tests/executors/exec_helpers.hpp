// exec_helpers.hpp: shared helpers for the executor tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
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

// is_cancelled(): the outcome of a run that ended with ECANCELED.
inline bool is_cancelled(const result<std::int64_t>& r) {
  return !r && r.error() == std::errc::operation_canceled;
}

// wait_an_hour(): a stackful body that sets `waiting`, waits on an hour's
// timer (only a cancellation ends it in a test), keeps the wait's error in
// `seen` and returns `value`.
inline void wait_an_hour(task& t, std::atomic<bool>& waiting, std::error_code& seen, std::int64_t value) {
  t.set_body([&waiting, &seen, value](task& self) -> result<std::int64_t> {
    waiting.store(true, std::memory_order_release);
    auto r = self.suspend_for(std::chrono::hours(1));
    if (!r) seen = r.error();
    return value;
  });
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
