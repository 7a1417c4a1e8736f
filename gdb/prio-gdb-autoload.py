# prio-gdb-autoload.py: installed as <datadir>/gdb/auto-load/libprio.so.<v>-gdb.py
# GDB sources this for programs linked against the shared libprio when
# --prefix matches GDB's data directory; it loads the prio extension.
import os
import sys

import gdb

_here = os.path.dirname(os.path.abspath(__file__))
for _d in (os.environ.get("PRIO_GDB_DIR", ""), os.path.join(_here, "..", "..", "prio", "gdb")):
    if _d and os.path.isfile(os.path.join(_d, "prio_gdb", "__init__.py")):
        if _d not in sys.path:
            sys.path.insert(0, _d)
        import prio_gdb
        prio_gdb.register(gdb.current_objfile())
        break
