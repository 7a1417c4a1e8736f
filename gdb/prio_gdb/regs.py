"""regs.py: the callee-saved registers of a suspended stackful task, from
where its switcher left them (x86-64):
  asm       the frame at the saved sp (context/asm/frame_x86_64.h)
  ucontext  ucontext_t.uc_mcontext.gregs (unmangled)
  sjlj      GCC's __builtin_setjmp buffer: rbp, pc, rsp (unmangled); the
            function that set it saved the other callee-saved registers in
            its own frame, where its CFI finds them
Each result is the register state just after the switch call returns, i.e.
the caller frame of whatever frame 0 is."""
import gdb

from . import registry as reg

# context/asm/frame_x86_64.h
ASM_FRAME = {"r12": 0x08, "r13": 0x10, "r14": 0x18, "r15": 0x20,
             "rbx": 0x28, "rbp": 0x30, "rip": 0x38}
ASM_FRAME_SIZE = 0x40
# <sys/ucontext.h>: uc_mcontext.gregs at 40; REG_* indices.
UC_GREGS = 40
UC_REGS = {"r12": 4, "r13": 5, "r14": 6, "r15": 7, "rbp": 10, "rbx": 11,
           "rsp": 15, "rip": 16}
# GCC __builtin_setjmp buffer: [0] frame pointer, [1] resume pc, [2] sp.
SJLJ_BUF = {"rbp": 0, "rip": 1, "rsp": 2}


def saved_registers(task):
    """saved_registers(task) is {name: value} of a suspended stackful task."""
    if task.saved_kind == reg.SAVED_ASM_SP:
        sp = reg.u64(task.saved)
        regs = {r: reg.u64(sp + off) for r, off in ASM_FRAME.items()}
        regs["rsp"] = sp + ASM_FRAME_SIZE
        return regs
    if task.saved_kind == reg.SAVED_UCONTEXT:
        return {r: reg.u64(task.saved + UC_GREGS + 8 * i) for r, i in UC_REGS.items()}
    if task.saved_kind == reg.SAVED_JMP_BUF:
        return {r: reg.u64(task.saved + 8 * i) for r, i in SJLJ_BUF.items()}
    raise gdb.GdbError("prio: task %d has no saved registers (%s)" % (task.id, task.switcher))


def thread_stack_pointers():
    """thread_stack_pointers() is {lwp: (gdb thread, rsp)} of every thread.
    Reads each thread's frame-0 rsp; restores the selected thread."""
    inf = gdb.selected_inferior()
    here = gdb.selected_thread()
    out = {}
    try:
        for th in inf.threads():
            th.switch()
            out[th.ptid[1]] = (th, int(gdb.parse_and_eval("(unsigned long)$rsp")))
    finally:
        if here is not None and here.is_valid():
            here.switch()
    return out


def on_cpu(task, sps):
    """on_cpu() is the thread whose rsp is inside the task's stack, if any:
    the task is then running there (possibly mid-switch)."""
    if not task.stack_lo:
        return None
    for lwp, (th, sp) in sps.items():
        if task.stack_lo <= sp < task.stack_hi:
            return th
    return None


def has_saved_registers(task, sps):
    """has_saved_registers(): the saved state is complete (see registry.hpp)."""
    if not task.stackful or on_cpu(task, sps) is not None:
        return False
    if task.ctx_state not in ("suspended",):
        return False
    return task.state == "runnable" or task.state.startswith("suspended")
