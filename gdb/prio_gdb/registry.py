"""registry.py: read prio_debug_registry (include/prio/executors/registry.hpp)
from the inferior's memory: no debug info needed, works on core files."""
import struct

import gdb

VERSION = 2
TASK_MAGIC = 0x6B736174
EXECUTOR_MAGIC = 0x63657865
MAX_ENTRIES = 1 << 20  # a corrupt list must not loop forever

TASK_STATES = ("idle", "pending", "runnable", "running", "suspended_timer",
               "suspended_io", "suspended_slot", "suspended_other",
               "completing", "completed")
PRIORITIES = ("high", "normal", "low")
SWITCHERS = ("none", "sjlj", "ucontext", "asm", "coroutine")
BODY_KINDS = ("none", "fn", "coro_fn", "callable", "coro_callable")
CONTEXT_STATES = ("idle", "ready", "running", "suspended", "finished")
CONTEXT_DIRECT_BIT = 0x80  # context::direct_bit, set in asm contexts that switch directly
SAVED_NONE, SAVED_ASM_SP, SAVED_JMP_BUF, SAVED_UCONTEXT, SAVED_CORO = range(5)

# prio_debug_task on a 64-bit target (registry.hpp gives the offsets).
_TASK = struct.Struct("<QQIBBHQQQQQQQQQQQQQQQQQQQ")
_EXEC = struct.Struct("<QQIiQQ")
_ROOT = struct.Struct("<IIIIQQQQQII")


class RegistryError(Exception):
    pass


def read(addr, size):
    return bytes(gdb.selected_inferior().read_memory(addr, size))


def u64(addr):
    return struct.unpack("<Q", read(addr, 8))[0]


def u8(addr):
    return read(addr, 1)[0]


def name(table, i):
    return table[i] if 0 <= i < len(table) else "?%d" % i


def registry_address():
    """registry_address() is &prio_debug_registry, or None without prio."""
    try:
        return int(gdb.parse_and_eval("(unsigned long)&prio_debug_registry"))
    except gdb.error:
        return None


class Executor:
    def __init__(self, addr, raw):
        (self.next, _prev, self.magic, self.lwp, self.executor,
         self.bound_thread) = raw
        self.entry = addr


class Task:
    """One prio_debug_task entry plus the current values of its fields."""

    def __init__(self, addr, raw, executors):
        (self.next, _prev, self.magic, self.switcher_id, self.saved_kind, _r,
         self.id, self.task, self.ctx, self.stack_lo, self.stack_hi,
         self.saved, p_state, p_exec, p_cpu, p_io, p_body_kind, p_fn,
         p_invoke, p_coro_invoke, p_ticks, p_resumptions, p_ctx_state,
         self.coro_body, p_cancel) = raw
        self.entry = addr
        self.state = name(TASK_STATES, u8(p_state))
        self.executor = u64(p_exec)
        self.cpu = name(PRIORITIES, u8(p_cpu))
        self.io = name(PRIORITIES, u8(p_io))
        self.body_kind = name(BODY_KINDS, u8(p_body_kind))
        self.ticks = u64(p_ticks)
        self.resumptions = u64(p_resumptions)
        self.cancel_requested = u8(p_cancel) != 0
        self.ctx_state = name(CONTEXT_STATES, u8(p_ctx_state) & ~CONTEXT_DIRECT_BIT)
        self.switcher = name(SWITCHERS, self.switcher_id)
        if self.body_kind in ("fn", "coro_fn"):
            self.body_addr = u64(p_fn)
        elif self.body_kind == "callable":
            self.body_addr = u64(p_invoke)
        elif self.body_kind == "coro_callable":
            self.body_addr = u64(p_coro_invoke)
        else:
            self.body_addr = 0
        ex = executors.get(self.executor)
        self.lwp = ex.lwp if ex else 0

    @property
    def stackful(self):
        return self.saved_kind in (SAVED_ASM_SP, SAVED_JMP_BUF, SAVED_UCONTEXT)


class Registry:
    """A snapshot of the registry: tasks (oldest first) and executors."""

    def __init__(self):
        addr = registry_address()
        if addr is None:
            raise RegistryError("no prio_debug_registry: is this a prio program?")
        (self.version, self.machine, task_size, exec_size, tasks, executors,
         self.writing, self.task_count, self.executor_count,
         self.asm_frame_size, _r) = _ROOT.unpack(read(addr, _ROOT.size))
        if self.version != VERSION:
            raise RegistryError("prio registry version %d, this extension reads %d"
                                % (self.version, VERSION))
        if task_size != _TASK.size or exec_size != _EXEC.size:
            raise RegistryError("prio registry entry sizes %d/%d, expected %d/%d"
                                % (task_size, exec_size, _TASK.size, _EXEC.size))
        self.executors = {}
        for e, raw in _walk(executors, _EXEC, EXECUTOR_MAGIC):
            ex = Executor(e, raw)
            self.executors[ex.executor] = ex
        self.tasks = [Task(e, raw, self.executors)
                      for e, raw in _walk(tasks, _TASK, TASK_MAGIC)]
        self.tasks.sort(key=lambda t: t.id)

    @property
    def mid_update(self):
        return self.writing % 2 == 1

    def find(self, task_id):
        for t in self.tasks:
            if t.id == task_id:
                return t
        return None


def _walk(head, layout, magic):
    seen = 0
    while head and seen < MAX_ENTRIES:
        raw = layout.unpack(read(head, layout.size))
        if raw[2] != magic:  # being unlinked, or not an entry: stop here
            break
        yield head, raw
        head = raw[0]
        seen += 1
