"""commands.py: the `prio` commands.

  prio tasks                    list every task
  prio task N                   show task N's stack (bt, frame N, info locals)
  prio task none                back to the real stack (also on continue)
  prio task apply all CMD       run CMD for every task, like thread apply all
"""
import gdb

from . import coro
from . import registry as reg
from . import regs
from . import select
from . import symbols

TICKS_NOTE = "ticks: TSC ticks executed this run"


def _where(task, sps):
    """Where a task is: its executor's LWP, and whether it is on a CPU."""
    th = regs.on_cpu(task, sps)
    if th is not None:
        return "LWP %d" % th.ptid[1], "running (on LWP %d)" % th.ptid[1]
    where = "LWP %d" % task.lwp if task.lwp else ("-" if not task.executor else "unbound")
    state = task.state
    if state == "running" and task.lwp:
        state = "running (on LWP %d)" % task.lwp
    return where, state


def task_rows(registry=None):
    """task_rows() is one dict per task: what `prio tasks` prints."""
    r = registry or reg.Registry()
    sps = regs.thread_stack_pointers()
    rows = []
    for t in r.tasks:
        where, state = _where(t, sps)
        rows.append({
            "id": t.id, "executor": t.executor, "where": where, "state": state,
            "cancelled": t.cancel_requested,
            "cpu": t.cpu, "io": t.io, "switcher": t.switcher,
            "function": symbols.body_name(t), "ticks": t.ticks,
            "resumptions": t.resumptions, "task": t.task,
        })
    return rows


class PrioPrefix(gdb.Command):
    """prio: inspect prio tasks (prio tasks, prio task N|none|apply all CMD)."""

    def __init__(self):
        super().__init__("prio", gdb.COMMAND_STACK, gdb.COMPLETE_NONE, True)


class PrioTasks(gdb.Command):
    """prio tasks: list every prio task.
Columns: task id, executor and its kernel thread (LWP), state, whether this
run is cancelled (its waits fail with ECANCELED), CPU and I/O priority,
switcher, user function, ticks executed this run."""

    def __init__(self):
        super().__init__("prio tasks", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError("usage: prio tasks (no arguments; `prio task N` selects one)")
        r = reg.Registry()
        if r.mid_update:
            gdb.write("(the registry was being changed when the program stopped: "
                      "the list may be incomplete)\n")
        rows = task_rows(r)
        fmt = "%s%-4s %-16s %-10s %-26s %-6s %-6s %-6s %-9s %12s  %s\n"
        gdb.write(fmt % (" ", "Id", "Executor", "Thread", "State", "Cancel", "CPU", "I/O",
                         "Switcher", "Ticks", "Function"))
        cur = select.selection.task
        for row in rows:
            mark = "*" if cur is not None and cur.id == row["id"] else " "
            ex = "0x%x" % row["executor"] if row["executor"] else "-"
            gdb.write(fmt % (mark, row["id"], ex, row["where"], row["state"],
                             "yes" if row["cancelled"] else "-",
                             row["cpu"], row["io"], row["switcher"], row["ticks"],
                             row["function"]))


def print_chain(task):
    links = coro.chain(task)
    if not links:
        gdb.write("(no coroutine frames)\n")
    for i, (frame, name) in enumerate(links):
        gdb.write("#%-2d coroutine frame 0x%x in %s\n" % (i, frame, name))


class PrioTask(gdb.Command):
    """prio task N | none | apply all CMD
prio task N: show task N's stack: `bt`, `frame N`, `info locals` then work
on it (its frames are #1 and up; the real frame 0 is hidden). A running task
selects its thread; a coroutine task prints its chain of awaiting coroutines.
prio task none: back to the real stack (automatic when the program continues).
prio task apply all CMD: run CMD on every task's stack, like thread apply all."""

    def __init__(self):
        super().__init__("prio task", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        words = arg.split()
        if not words:
            t = select.selection.task
            gdb.write("No task selected.\n" if t is None else "Task %d selected.\n" % t.id)
            return
        usage = "usage: prio task N | none | apply all COMMAND"
        if words[0] != "apply" and len(words) > 1:
            raise gdb.GdbError(usage)  # `prio task 1 2`: not task 1
        if words[0] == "none":
            select.clear()
            gdb.write("Back to the real stack.\n")
            return
        if words[0] == "apply":
            if len(words) < 3 or words[1] != "all":
                raise gdb.GdbError("usage: prio task apply all COMMAND")
            apply_all(arg.split(None, 2)[2], from_tty)
            return
        try:
            task_id = int(words[0], 0)
        except ValueError:
            raise gdb.GdbError(usage)
        t = reg.Registry().find(task_id)
        if t is None:
            raise gdb.GdbError("prio: no task %d" % task_id)
        if t.switcher == "coroutine":
            gdb.write("Task %d (coroutine, %s), awaiting chain innermost first:\n" % (t.id, t.state))
            print_chain(t)
            return
        gdb.write(select.select(t) + "\n")


def apply_all(command, from_tty):
    here = gdb.selected_thread()
    r = reg.Registry()
    sps = regs.thread_stack_pointers()
    for t in r.tasks:
        where, state = _where(t, sps)
        gdb.write("\nTask %d (%s, %s, %s, %s):\n" % (t.id, t.switcher, state, where,
                                                   symbols.body_name(t)))
        if t.switcher == "coroutine":
            print_chain(t)
            continue
        try:
            select.select(t)
        except gdb.GdbError as e:
            gdb.write("%s\n" % e)
            continue
        try:
            gdb.execute(command, from_tty)
        finally:
            select.clear()
            if here is not None and here.is_valid():
                here.switch()


def install():
    PrioPrefix()
    PrioTasks()
    PrioTask()
