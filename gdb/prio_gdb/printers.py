"""printers.py: pretty-printers for prio::task, prio::executor and
prio::io_status. Task and executor summaries come from the registry (the
same data `prio tasks` shows); io_status from its fields."""
import gdb
import gdb.printing

from . import registry as reg
from . import symbols


class _RegistryPrinter:
    """Base of the printers that look their object up in the registry."""

    def __init__(self, val):
        self.val = val

    def _lookup(self):
        """(address of the value, Registry); raises _Unreadable."""
        addr = int(self.val.address) if self.val.address is not None else 0
        try:
            return addr, reg.Registry()
        except (reg.RegistryError, gdb.error) as e:
            raise _Unreadable(str(e))


class _Unreadable(Exception):
    pass


class TaskPrinter(_RegistryPrinter):
    def to_string(self):
        try:
            addr, r = self._lookup()
        except _Unreadable as e:
            return "prio::task (%s)" % e
        t = next((t for t in r.tasks if t.task == addr), None)
        if t is None:
            return "prio::task (not in the registry)"
        where = " on LWP %d" % t.lwp if t.lwp else ""
        cancelled = ", cancel requested" if t.cancel_requested else ""
        return ("prio::task %d {state=%s%s%s, cpu=%s, io=%s, switcher=%s, body=%s, ticks=%d}"
                % (t.id, t.state, where, cancelled, t.cpu, t.io, t.switcher, symbols.body_name(t), t.ticks))


class ExecutorPrinter(_RegistryPrinter):
    def to_string(self):
        try:
            addr, r = self._lookup()
        except _Unreadable as e:
            return "prio::executor (%s)" % e
        ex = r.executors.get(addr)
        mine = [t for t in r.tasks if t.executor == addr]
        lwp = ("LWP %d" % ex.lwp) if ex is not None and ex.lwp else "unbound"
        by_state = {}
        for t in mine:
            by_state[t.state] = by_state.get(t.state, 0) + 1
        states = ", ".join("%s=%d" % kv for kv in sorted(by_state.items()))
        return "prio::executor {%s, %d attached task(s)%s}" % (
            lwp, len(mine), (": " + states) if states else "")


class IoStatusPrinter:
    STATES = ("idle", "waiting_slot", "in_flight", "completed", "reaped")

    def __init__(self, val):
        self.val = val

    def to_string(self):
        v = self.val
        st = int(v["state"])
        state = self.STATES[st] if 0 <= st < len(self.STATES) else "?%d" % st
        res = int(v["res"])
        out = "prio::io_status {%s" % state
        if state in ("completed", "reaped"):
            out += ", res=%d" % res
            if res < 0:
                out += " (%s)" % _errno_name(-res)
            out += ", cqe_flags=0x%x" % int(v["cqe_flags"])
        if bool(v["timed_out"]):
            out += ", timed out"
        if bool(v["cancel_requested"]):
            out += ", cancel requested"
        return out + "}"


def _errno_name(e):
    import errno
    import os
    return "%s: %s" % (errno.errorcode.get(e, "E?"), os.strerror(e))


def build():
    pp = gdb.printing.RegexpCollectionPrettyPrinter("prio")
    pp.add_printer("task", "^prio::task$", TaskPrinter)
    pp.add_printer("executor", "^prio::executor$", ExecutorPrinter)
    pp.add_printer("io_status", "^prio::io_status$", IoStatusPrinter)
    return pp
