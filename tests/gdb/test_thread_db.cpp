// test_thread_db.cpp - Description: the opt-in libthread_db.so.1, driven
// through its ps_* callbacks (no GDB), reports a stopped child's kernel
// thread as TD_THR_SYSTEM and its prio tasks as TD_THR_USER threads with
// their ids, LWP, start functions, stacks and registers: a suspended task's
// saved registers (asm, sjlj, ucontext) and, for the task running
// on the LWP, the LWP's registers with TD_PARTIALREG.
//
// The child is a fork of this process (same addresses, so dlsym here finds
// the child's symbols); memory is read with process_vm_readv and registers
// with ptrace.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <proc_service.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <thread_db.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <string>
#include <vector>

#include "prio/executors/executor.hpp"
#include "prio/executors/task.hpp"
#include "tests/gdb/debugger_env.hpp"

// --- the proc_service callbacks libthread_db calls (exported: -rdynamic) ----
struct ps_prochandle {
  pid_t pid;
};

extern "C" {
ps_err_e ps_pdread(ps_prochandle* ph, psaddr_t addr, void* buf, size_t n) {
  iovec local{buf, n}, remote{const_cast<void*>(addr), n};
  return ::process_vm_readv(ph->pid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(n) ? PS_OK : PS_ERR;
}
ps_err_e ps_pdwrite(ps_prochandle*, psaddr_t, const void*, size_t) { return PS_ERR; }  // read-only
ps_err_e ps_ptread(ps_prochandle* ph, psaddr_t a, void* b, size_t n) { return ps_pdread(ph, a, b, n); }
ps_err_e ps_ptwrite(ps_prochandle*, psaddr_t, const void*, size_t) { return PS_ERR; }
ps_err_e ps_lgetregs(ps_prochandle*, lwpid_t lwp, prgregset_t regs) {
  return ::ptrace(PTRACE_GETREGS, lwp, nullptr, regs) == 0 ? PS_OK : PS_ERR;
}
ps_err_e ps_lsetregs(ps_prochandle*, lwpid_t, const prgregset_t) { return PS_ERR; }
ps_err_e ps_lgetfpregs(ps_prochandle*, lwpid_t lwp, prfpregset_t* regs) {
  return ::ptrace(PTRACE_GETFPREGS, lwp, nullptr, regs) == 0 ? PS_OK : PS_ERR;
}
ps_err_e ps_lsetfpregs(ps_prochandle*, lwpid_t, const prfpregset_t*) { return PS_ERR; }
pid_t ps_getpid(ps_prochandle* ph) { return ph->pid; }
ps_err_e ps_get_thread_area(ps_prochandle*, lwpid_t lwp, int idx, psaddr_t* addr) {
  user_regs_struct r;
  if (::ptrace(PTRACE_GETREGS, lwp, nullptr, &r) != 0) return PS_ERR;
  *addr = reinterpret_cast<psaddr_t>(idx == 25 /* FS */ ? r.fs_base : r.gs_base);
  return PS_OK;
}
// The child has this process's layout (fork without exec): look up here.
ps_err_e ps_pglobal_lookup(ps_prochandle*, const char*, const char* name, psaddr_t* addr) {
  void* p = ::dlsym(RTLD_DEFAULT, name);
  if (!p) return PS_NOSYM;
  *addr = p;
  return PS_OK;
}
ps_err_e ps_pstop(ps_prochandle*) { return PS_OK; }
ps_err_e ps_pcontinue(ps_prochandle*) { return PS_OK; }
ps_err_e ps_lstop(ps_prochandle*, lwpid_t) { return PS_OK; }
ps_err_e ps_lcontinue(ps_prochandle*, lwpid_t) { return PS_OK; }
void ps_plog(const char*, ...) {}
}

namespace {

using prio::task;
using prio::task_state;

// The child's task bodies: each records the address of a local, then waits.
volatile std::uintptr_t g_local_addr[3];

[[gnu::noinline]] prio::result<std::int64_t> waiting_body(task& t, int which) {
  volatile int here = which;
  g_local_addr[which] = reinterpret_cast<std::uintptr_t>(&here);
  auto r = t.wait_stackful(task_state::suspended_other, 0);
  return std::int64_t{r ? here : -1};
}
prio::result<std::int64_t> body_asm(task& t) { return waiting_body(t, 0); }
prio::result<std::int64_t> body_sjlj(task& t) { return waiting_body(t, 1); }
prio::result<std::int64_t> body_uc(task& t) { return waiting_body(t, 2); }
std::vector<task*> g_waiting;
prio::result<std::int64_t> body_stop(task& t) {
  ::raise(SIGSTOP);  // the parent inspects us here
  for (task* w : g_waiting) t.current_executor()->resume_waiter(*w);
  return std::int64_t{0};
}

// child() runs the scenario on this (single) thread and exits.
[[noreturn]] void child() {
  auto ex = prio::executor::create({});
  if (!ex) ::_exit(2);
  std::vector<std::unique_ptr<task>> ts;
  const prio::switcher_kind kinds[4] = {prio::switcher_kind::asm_switch, prio::switcher_kind::sjlj,
                                        prio::switcher_kind::ucontext, prio::switcher_kind::none};
  prio::task_fn bodies[4] = {&body_asm, &body_sjlj, &body_uc, &body_stop};
  for (int i = 0; i < 4; ++i) {
    auto t = task::create({kinds[i], i == 3 ? prio::priority::low : prio::priority::high});
    if (!t) ::_exit(3);
    (*t)->set_body(bodies[i]);
    if (i < 3) g_waiting.push_back(t->get());
    if (!(*ex)->attach(**t)) ::_exit(4);
    ts.push_back(std::move(*t));
  }
  auto done = [&] {
    for (auto& t : ts)
      if (t->state() != task_state::completed) return false;
    return true;
  };
  while (!done()) (void)(*ex)->run(SIZE_MAX, std::chrono::milliseconds(100));
  ::_exit(0);
}

struct seen_thread {
  td_thrinfo_t info;
  td_err_e regs_err;
  user_regs_struct regs;
};

TEST(thread_db, reports_tasks_through_ps_callbacks) {
  if (auto why = prio_test::ptrace_unavailable(); !why.empty()) GTEST_SKIP() << why;
  const std::string lib = prio_test::env_or("PRIO_BUILD_ROOT", ".") + "/gdb/libthread_db.so.1";
  void* h = ::dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(h, nullptr) << ::dlerror();
#define SYM(name) auto name = reinterpret_cast<decltype(&::name)>(::dlsym(h, #name)); ASSERT_NE(name, nullptr)
  SYM(td_init);
  SYM(td_ta_new);
  SYM(td_ta_thr_iter);
  SYM(td_ta_delete);

  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) child();
  int st = 0;
  ASSERT_EQ(::waitpid(pid, &st, WUNTRACED), pid);
  ASSERT_TRUE(WIFSTOPPED(st)) << "child ended early, status " << st;
  ASSERT_EQ(::ptrace(PTRACE_SEIZE, pid, nullptr, nullptr), 0) << "ptrace seize";
  ASSERT_EQ(::ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr), 0);
  ASSERT_EQ(::waitpid(pid, &st, __WALL), pid);

  ps_prochandle ph{pid};
  td_thragent_t* ta = nullptr;
  std::vector<seen_thread> seen;
  std::pair<void*, std::vector<seen_thread>*> iter_arg{h, &seen};
  ASSERT_EQ(td_init(), TD_OK);
  ASSERT_EQ(td_ta_new(&ph, &ta), TD_OK);
  // td_thr_get_info / getgregs are resolved inside the callback through the
  // library: call its exports, not libthread_db's of this process.
  EXPECT_EQ(td_ta_thr_iter(ta, [](const td_thrhandle_t* th, void* arg) -> int {
              auto* self = static_cast<std::pair<void*, std::vector<seen_thread>*>*>(arg);
              auto info = reinterpret_cast<decltype(&td_thr_get_info)>(::dlsym(self->first, "td_thr_get_info"));
              auto regs = reinterpret_cast<decltype(&td_thr_getgregs)>(::dlsym(self->first, "td_thr_getgregs"));
              seen_thread s{};
              if (info(th, &s.info) != TD_OK) return 1;
              s.regs_err = regs(th, reinterpret_cast<elf_greg_t*>(&s.regs));
              self->second->push_back(s);
              return 0;
            }, &iter_arg, TD_THR_ANY_STATE,
            TD_THR_LOWEST_PRIORITY, TD_SIGNO_MASK, TD_THR_ANY_USER_FLAGS),
            TD_OK);
  user_regs_struct lwp_regs{};
  ::ptrace(PTRACE_GETREGS, pid, nullptr, &lwp_regs);
  std::uintptr_t locals[3];
  iovec l{locals, sizeof locals}, r{const_cast<std::uintptr_t*>(&g_local_addr[0]), sizeof locals};
  ASSERT_EQ(::process_vm_readv(pid, &l, 1, &r, 1, 0), static_cast<ssize_t>(sizeof locals));
  td_ta_delete(ta);

  // The child's one kernel thread (a sanitizer runtime may add its own
  // threads, which are reported too but not traced here).
  int main_thread = 0;
  std::map<psaddr_t, seen_thread> tasks;  // by start function
  for (auto& s : seen) {
    if (s.info.ti_type == TD_THR_SYSTEM) {
      if (s.info.ti_lid != pid) continue;
      ++main_thread;
      EXPECT_EQ(s.regs_err, TD_OK);
    } else {
      EXPECT_EQ(s.info.ti_type, TD_THR_USER);
      EXPECT_EQ(s.info.ti_lid, pid) << "a task's LWP is its executor's thread";
      tasks[s.info.ti_startfunc] = s;
    }
  }
  EXPECT_EQ(main_thread, 1);
  ASSERT_EQ(tasks.size(), 4u);
  const prio::task_fn waiting[3] = {&body_asm, &body_sjlj, &body_uc};
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE("waiting task " + std::to_string(i));
    auto it = tasks.find(reinterpret_cast<psaddr_t>(waiting[i]));
    ASSERT_NE(it, tasks.end()) << "start function reported";
    const seen_thread& s = it->second;
    EXPECT_EQ(s.info.ti_state, TD_THR_SLEEP);
    EXPECT_EQ(s.info.ti_pri, 0) << "cpu priority high";
    EXPECT_EQ(s.regs_err, TD_OK);
    const auto top = reinterpret_cast<std::uintptr_t>(s.info.ti_stkbase);
    const auto bottom = top - static_cast<std::uintptr_t>(s.info.ti_stksize);
    // The saved sp is inside the task's stack, below the waiting body's local
    // (the switch happened deeper; for sjlj this checks the buffer layout); the
    // saved pc is code in this program.
    EXPECT_GT(s.regs.rsp, bottom);
    EXPECT_LT(s.regs.rsp, locals[i]);
    EXPECT_LT(locals[i], top);
    Dl_info di{};
    EXPECT_NE(::dladdr(reinterpret_cast<void*>(s.regs.rip), &di), 0) << "pc 0x" << std::hex << s.regs.rip;
  }
  auto stop = tasks.find(reinterpret_cast<psaddr_t>(&body_stop));
  ASSERT_NE(stop, tasks.end());
  EXPECT_EQ(stop->second.info.ti_state, TD_THR_ACTIVE);
  EXPECT_EQ(stop->second.regs_err, TD_PARTIALREG) << "running: its LWP's registers";
  EXPECT_EQ(stop->second.regs.rsp, lwp_regs.rsp);

  // Let the child finish: it wakes the tasks and exits 0.
  ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
  ::kill(pid, SIGCONT);
  ASSERT_EQ(::waitpid(pid, &st, 0), pid);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "status " << st;
  ::dlclose(h);
}

}  // namespace
