// gdb_target.cpp - Description: the program the debugger tests stop. Two
// executors on two threads hold tasks of every switcher at known places
// when prio_test_stop_here() is called (a breakpoint, or a SIGTRAP with
// PRIO_TEST_SIGTRAP=1); afterwards every task is woken and the program exits 0.
//
//   executor 1 (thread "prio-ex1"):
//     asm       cpu high,   io low    asm_outer -> asm_inner     suspended_other
//     sjlj      cpu normal, io high   main's lambda -> sjlj_outer -> sjlj_inner   suspended_timer
//     none      cpu low,    io normal stopper_1 (calls the stop)  running
//     asm       cpu low,    io normal pending_body                 pending
//   executor 2 (thread "prio-ex2"):
//     ucontext  cpu normal, io normal uc_outer -> uc_inner       suspended_other
//     coroutine cpu high,   io high   coro_body -> coro_mid -> coro_leaf  suspended_other
//     none      cpu low,    io low    stopper_2 (waits)           running, cancelled
// Built -O0 -g so that the locals named *_local are readable.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

#include "prio/executors/executor.hpp"
#include "prio/executors/task.hpp"

using prio::co;
using prio::result;
using prio::task;
using prio::task_state;

// The kernel thread ids of executor 1's and 2's threads, for the checks.
extern "C" {
volatile int prio_test_lwp[2] = {0, 0};
}

extern "C" [[gnu::noinline]] void prio_test_stop_here() {
  if (std::getenv("PRIO_TEST_SIGTRAP")) ::raise(SIGTRAP);
  __asm__ volatile("" ::: "memory");
}

namespace {

std::latch g_ex2_ready{1};  // executor 2's tasks are suspended
std::latch g_go{1};         // the stop is over: wake everything
task* g_tasks[7];           // asm, sjlj, stop1, pending, uc, coro, stop2

[[gnu::noinline]] int asm_inner(task& t, int depth) {
  volatile int asm_inner_local = 4242 + depth;
  auto r = t.wait_stackful(task_state::suspended_other, 0);
  return r ? asm_inner_local : -1;
}
[[gnu::noinline]] result<std::int64_t> asm_outer(task& t) {
  volatile long asm_outer_local = 1001;
  const int v = asm_inner(t, 1);
  return std::int64_t{v + asm_outer_local};
}

[[gnu::noinline]] int sjlj_inner(task& t, int depth) {
  volatile int sjlj_inner_local = 5150 + depth;
  auto r = t.suspend_for(std::chrono::hours(1));  // cancelled after the stop
  return r ? -1 : sjlj_inner_local;
}
[[gnu::noinline]] int sjlj_outer(task& t) {
  volatile int sjlj_outer_local = 2002;
  return sjlj_inner(t, 2) + sjlj_outer_local;
}

[[gnu::noinline]] int uc_inner(task& t, int depth) {
  volatile int uc_inner_local = 6160 + depth;
  auto r = t.wait_stackful(task_state::suspended_other, 0);
  return r ? uc_inner_local : -1;
}
[[gnu::noinline]] result<std::int64_t> uc_outer(task& t) {
  volatile int uc_outer_local = 3003;
  return std::int64_t{uc_inner(t, 3) + uc_outer_local};
}

co<int> coro_leaf(task& t, int coro_leaf_arg) {
  auto r = co_await task::awaiter(t, task_state::suspended_other, 0);
  co_return r ? coro_leaf_arg : -1;
}
co<int> coro_mid(task& t, int coro_mid_arg) {
  const int v = co_await coro_leaf(t, coro_mid_arg + 1);
  co_return v + coro_mid_arg;
}
co<result<std::int64_t>> coro_body(task& t) {
  const int v = co_await coro_mid(t, 7);
  co_return std::int64_t{v};
}

result<std::int64_t> pending_body(task&) { return std::int64_t{0}; }

[[gnu::noinline]] result<std::int64_t> stopper_1(task& t) {
  g_ex2_ready.wait();
  prio_test_stop_here();
  g_go.count_down();
  prio::executor& ex = *t.current_executor();
  ex.resume_waiter(*g_tasks[0]);
  if (!g_tasks[1]->cancel()) std::abort();
  return std::int64_t{0};
}

[[gnu::noinline]] result<std::int64_t> stopper_2(task& t) {
  if (!t.cancel()) std::abort();  // shown as cancelled (it never waits on prio after this)
  g_ex2_ready.count_down();
  g_go.wait();
  prio::executor& ex = *t.current_executor();
  ex.resume_waiter(*g_tasks[4]);
  ex.resume_waiter(*g_tasks[5]);
  return std::int64_t{0};
}

std::unique_ptr<task> make(prio::switcher_kind k, prio::priority cpu, prio::priority io) {
  auto t = task::create({k, cpu, io});
  if (!t) {
    std::fprintf(stderr, "task::create: %s\n", t.error().message().c_str());
    std::exit(2);
  }
  return std::move(*t);
}

// run_until_done() runs ex on this thread until its tasks completed.
void run_until_done(prio::executor& ex, std::vector<task*> mine, const char* name, volatile int* lwp) {
  ::pthread_setname_np(::pthread_self(), name);
  *lwp = static_cast<int>(::gettid());
  auto done = [&] {
    for (task* t : mine)
      if (t->state() != task_state::completed) return false;
    return true;
  };
  while (!done()) (void)ex.run(SIZE_MAX, std::chrono::milliseconds(100));
}

}  // namespace

int main() {
  using prio::priority;
  using prio::switcher_kind;
  auto ex1 = prio::executor::create({});
  auto ex2 = prio::executor::create({});
  if (!ex1 || !ex2) return 2;

  auto t_asm = make(switcher_kind::asm_switch, priority::high, priority::low);
  auto t_sjlj = make(switcher_kind::sjlj, priority::normal, priority::high);
  auto t_stop1 = make(switcher_kind::none, priority::low, priority::normal);
  auto t_pending = make(switcher_kind::asm_switch, priority::low, priority::normal);
  auto t_uc = make(switcher_kind::ucontext, priority::normal, priority::normal);
  auto t_coro = make(switcher_kind::coroutine, priority::high, priority::high);
  auto t_stop2 = make(switcher_kind::none, priority::low, priority::low);
  task* all[7] = {t_asm.get(), t_sjlj.get(), t_stop1.get(), t_pending.get(),
                  t_uc.get(), t_coro.get(), t_stop2.get()};
  for (int i = 0; i < 7; ++i) g_tasks[i] = all[i];

  t_asm->set_body(&asm_outer);
  const int sjlj_capture = 1;  // a capture: stored inline as a callable, not a function pointer
  t_sjlj->set_body([sjlj_capture](task& t) -> result<std::int64_t> {
    return std::int64_t{sjlj_outer(t) * sjlj_capture};
  });
  t_stop1->set_body(&stopper_1);
  t_pending->set_body(&pending_body);
  t_uc->set_body(&uc_outer);
  t_coro->set_body(&coro_body);
  t_stop2->set_body(&stopper_2);

  for (int i = 0; i < 4; ++i)
    if (!(*ex1)->attach(*all[i])) return 3;
  for (int i = 4; i < 7; ++i)
    if (!(*ex2)->attach(*all[i])) return 3;

  std::thread a([&] { run_until_done(**ex1, {all[0], all[1], all[2], all[3]}, "prio-ex1", &prio_test_lwp[0]); });
  std::thread b([&] { run_until_done(**ex2, {all[4], all[5], all[6]}, "prio-ex2", &prio_test_lwp[1]); });
  a.join();
  b.join();
  const bool ok = t_asm->outcome() && *t_asm->outcome() == 4243 + 1001 && t_uc->outcome() &&
                  *t_uc->outcome() == 6163 + 3003 && t_coro->outcome() && *t_coro->outcome() == 15;
  std::printf("gdb_target: %s\n", ok ? "clean exit" : "wrong outcomes");
  return ok ? 0 : 1;
}
