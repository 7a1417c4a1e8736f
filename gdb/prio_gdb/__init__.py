"""prio_gdb: GDB support for prio programs (docs/debugging.md).

Loaded by the .debug_gdb_scripts entry in libprio (gdb/autoload_section.h.in)
or by hand: `python import sys; sys.path.insert(0, "<prio>/gdb"); import
prio_gdb; prio_gdb.register(None)`. Python API for scripts and tests:
prio_gdb.tasks() (rows of `prio tasks`), prio_gdb.registry.Registry()."""
import gdb

from . import commands
from . import coro
from . import printers
from . import registry
from . import select

_registered = False


def register(objfile=None):
    """register(objfile) installs the commands, the unwinder, the frame
    filter (once per GDB) and the pretty-printers (for objfile, or globally)."""
    global _registered
    gdb.printing.register_pretty_printer(objfile, printers.build(), replace=True)
    if _registered:
        return
    commands.install()
    select.install()
    _registered = True


def tasks():
    """tasks() is the list `prio tasks` prints, as dicts."""
    return commands.task_rows()


def coroutine_chain(task_id):
    """coroutine_chain(id) is the awaiting chain of a coroutine task (names)."""
    t = registry.Registry().find(task_id)
    return [name for _, name in coro.chain(t)] if t else []
