"""select.py: showing a suspended task's stack in the selected thread.

A read-only frame unwinder (the technique of folly's fibers script): while a
task is selected, unwinding frame 0 of the selected thread yields the task's
saved registers, so frame 1 and up are the task's frames; a frame filter
hides the real frame 0 from `bt`. Nothing is written to the inferior, so it
works the same on core files. The selection ends with `prio task none` and
whenever the inferior continues (events.cont)."""
import gdb
import gdb.unwinder

from . import registry as reg
from . import regs


class _Selection:
    task = None     # the registry Task
    thread = None   # the gdb.InferiorThread whose frame 0 is replaced
    saved = None    # {register: value}


selection = _Selection()


class _FrameId:
    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


class TaskUnwinder(gdb.unwinder.Unwinder):
    def __init__(self):
        super().__init__("prio-task")

    def __call__(self, pending_frame):
        if selection.saved is None or pending_frame.level() != 0:
            return None
        th = gdb.selected_thread()
        if th is None or selection.thread is None or th.ptid != selection.thread.ptid:
            return None
        sp = pending_frame.read_register("rsp")
        pc = pending_frame.read_register("rip")
        info = pending_frame.create_unwind_info(_FrameId(sp, pc))
        for name, value in selection.saved.items():
            ty = pending_frame.read_register(name).type
            info.add_saved_register(name, gdb.Value(value).cast(ty))
        return info


class HideRealFrame:
    """A frame filter that drops frame 0 while a task is selected."""

    def __init__(self):
        self.name = "prio-task"
        self.priority = 100
        self.enabled = True

    def filter(self, frames):
        if selection.saved is None:
            return frames
        return _skip_level_zero(frames)


def _skip_level_zero(frames):
    for f in frames:
        if f.inferior_frame().level() == 0:
            continue
        yield f


def select(task):
    """select(task) shows `task`'s stack in the selected thread and selects
    its top frame. A task running on a thread selects that thread instead."""
    clear()
    sps = regs.thread_stack_pointers()
    th = regs.on_cpu(task, sps)
    if th is None and task.state == "running" and task.lwp:
        th = next((t for lwp, (t, _) in sps.items() if lwp == task.lwp), None)
    if th is not None:
        th.switch()
        return "Task %d is running on LWP %d: selected thread %d" % (task.id, th.ptid[1], th.num)
    if not regs.has_saved_registers(task, sps):
        raise gdb.GdbError("prio: task %d (%s, %s) has no stack to show"
                           % (task.id, task.switcher, task.state))
    selection.task = task
    selection.thread = gdb.selected_thread()
    selection.saved = regs.saved_registers(task)
    gdb.invalidate_cached_frames()
    frame = gdb.newest_frame().older()
    if frame is not None:
        frame.select()
    return "Task %d (%s, %s): its stack is now the selected thread's frames #1 and up" % (
        task.id, task.switcher, task.state)


def clear(*_args):
    """clear() goes back to the real stack (also called on continue)."""
    had = selection.saved is not None
    selection.task = selection.thread = selection.saved = None
    if had:
        gdb.invalidate_cached_frames()
    return had


_installed = False


def install():
    global _installed
    if _installed:
        return
    gdb.unwinder.register_unwinder(None, TaskUnwinder(), replace=True)
    gdb.frame_filters["prio-task"] = HideRealFrame()
    gdb.events.cont.connect(clear)
    gdb.events.exited.connect(clear)
    _installed = True
