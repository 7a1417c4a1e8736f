# check_gdb.py - Description: assertions on gdb_target stopped under GDB,
# live (PRIO_CHECK_MODE=live: stop at the breakpoint, check, continue to a
# clean exit) or on a core file (PRIO_CHECK_MODE=core). Run by
# test_gdb_extension with `gdb -nx -batch -x check_gdb.py`; exits with the
# number of failed assertions (255 if the script itself broke).
import os
import re
import traceback

import gdb

failures = []


def check(cond, what):
    gdb.write("%s: %s\n" % ("ok" if cond else "FAIL", what))
    if not cond:
        failures.append(what)
    return cond


def out(cmd):
    return gdb.execute(cmd, to_string=True)


# Per task, by body function: state, cpu, io, switcher, and for suspended
# stackful tasks the user frames innermost first with a local and its value.
EXPECT = {
    "asm_outer": ("suspended_other", "high", "low", "asm",
                  [("asm_inner", "asm_inner_local", 4243), ("asm_outer", "asm_outer_local", 1001)]),
    "lambda": ("suspended_timer", "normal", "high", "sjlj",
               [("sjlj_inner", "sjlj_inner_local", 5152), ("sjlj_outer", "sjlj_outer_local", 2002),
                ("operator()", None, None)]),
    "stopper_1": ("running", "low", "normal", "none", None),
    "pending_body": ("pending", "low", "normal", "asm", None),
    "uc_outer": ("suspended_other", "normal", "normal", "ucontext",
                 [("uc_inner", "uc_inner_local", 6163), ("uc_outer", "uc_outer_local", 3003)]),
    "coro_body": ("suspended_other", "high", "high", "coroutine", None),
    "stopper_2": ("running", "low", "low", "none", None),
}
CORO_CHAIN = ["coro_leaf", "coro_mid", "coro_body", "prio::task::coroutine_root"]


def thread_lwps():
    """The executor threads' LWPs as the program recorded them (core files
    carry no thread names)."""
    return {"prio-ex%d" % (i + 1): int(gdb.parse_and_eval("prio_test_lwp[%d]" % i)) for i in range(2)}


def frame_names_and_frames():
    f = gdb.selected_frame()
    frames = []
    while f is not None and len(frames) < 64:
        frames.append(f)
        f = f.older()
    return frames


def check_stack(row, expected):
    gdb.execute("prio task %d" % row["id"], to_string=True)
    frames = frame_names_and_frames()
    names = [(f.name() or "?") for f in frames]
    check(frames and frames[0].level() == 1,
          "task %d: prio task selects frame #1 (got level %s)" % (row["id"], frames[0].level() if frames else None))
    pos = -1
    for func, local, value in expected:
        idx = next((i for i, n in enumerate(names) if func in n and i > pos), None)
        if not check(idx is not None, "task %d: %s in its backtrace after frame %d (%s)" % (row["id"], func, pos, names)):
            continue
        pos = idx
        if local is None:
            continue
        text = out("frame %d" % frames[idx].level()) + out("info locals")
        check("%s = %d" % (local, value) in text, "task %d: frame %d + info locals show %s = %d"
              % (row["id"], frames[idx].level(), local, value))
        try:
            got = int(frames[idx].read_var(local))
        except (ValueError, gdb.error) as e:
            got = "error: %s" % e
        check(got == value, "task %d: %s's %s == %d (got %s)" % (row["id"], func, local, value, got))
    text = out("bt")
    check("#0 " not in text and expected[0][0] in text,
          "task %d: bt hides the real frame 0 and shows %s" % (row["id"], expected[0][0]))
    gdb.execute("prio task none", to_string=True)


def main():
    mode = os.environ.get("PRIO_CHECK_MODE", "live")
    if mode == "live":
        gdb.execute("break prio_test_stop_here")
        gdb.execute("run")
    check("prio tasks" in out("help prio"), "the prio extension was auto-loaded from .debug_gdb_scripts")
    import prio_gdb
    rows = prio_gdb.tasks()
    check(len(rows) == 7, "7 tasks listed (got %d)" % len(rows))
    lwps = thread_lwps()
    listing = out("prio tasks")
    check(re.search(r"Id\s+Executor\s+Thread\s+State\s+Cancel", listing) is not None, "prio tasks prints its header")
    for key, (state, cpu, io, switcher, stack) in EXPECT.items():
        row = next((r for r in rows if key in r["function"]), None)
        if not check(row is not None, "a task whose function contains %s" % key):
            continue
        check(row["state"].startswith(state), "task %s: state %s (got %s)" % (key, state, row["state"]))
        check((row["cpu"], row["io"], row["switcher"]) == (cpu, io, switcher),
              "task %s: cpu/io/switcher %s/%s/%s (got %s/%s/%s)" % (key, cpu, io, switcher, row["cpu"], row["io"], row["switcher"]))
        ex_thread = "prio-ex1" if key in ("asm_outer", "lambda", "stopper_1", "pending_body") else "prio-ex2"
        check(row["where"] == "LWP %d" % lwps.get(ex_thread, -1),
              "task %s: on %s's LWP %s (got %s)" % (key, ex_thread, lwps.get(ex_thread), row["where"]))
        if state == "running":
            check(row["state"] == "running (on LWP %d)" % lwps.get(ex_thread, -1), "task %s: running on its LWP" % key)
        check(row["cancelled"] == (key == "stopper_2"), "task %s: cancelled %s" % (key, row["cancelled"]))
        line = next((l for l in listing.splitlines() if key in l), "")
        check(("  yes  " in line) == (key == "stopper_2"), "prio tasks: task %s's Cancel column (%s)" % (key, line))
        if stack:
            check_stack(row, stack)
    coro_row = next((r for r in rows if "coro_body" in r["function"]), None)
    if coro_row:
        chain = prio_gdb.coroutine_chain(coro_row["id"])
        pos = -1
        for name in CORO_CHAIN:
            idx = next((i for i, n in enumerate(chain) if name in n and i > pos), None)
            check(idx is not None, "coroutine chain has %s after position %d (%s)" % (name, pos, chain))
            pos = idx if idx is not None else pos
        check("coro_leaf" in out("prio task %d" % coro_row["id"]), "prio task N prints a coroutine chain")
    every = out("prio task apply all bt")
    for name in ("asm_inner", "sjlj_inner", "uc_inner", "coro_leaf", "stopper_2"):
        check(name in every, "prio task apply all bt shows %s" % name)
    # Bad arguments: a clear error, and the selection stays as it was.
    gdb.execute("prio task none", to_string=True)
    for bad, says in (("prio task abc", "usage: prio task"), ("prio task 1 2", "usage: prio task"),
                      ("prio task 999999", "prio: no task 999999"), ("prio task apply", "usage: prio task apply"),
                      ("prio tasks 3", "usage: prio tasks")):
        try:
            gdb.execute(bad, to_string=True)
            check(False, "%s is refused" % bad)
        except gdb.error as e:
            check(says in str(e), "%s is refused with '%s' (got '%s')" % (bad, says, e))
    check("No task selected" in out("prio task"), "after refused commands no task is selected")
    # Back on the real stack: the stopped thread's own backtrace is intact.
    gdb.execute("prio task none", to_string=True)
    gdb.execute("thread %d" % next(th.num for th in gdb.selected_inferior().threads()
                                   if th.ptid[1] == lwps["prio-ex1"]), to_string=True)
    real = out("bt")
    check(re.search(r"#0 .*prio_test_stop_here", real) is not None and re.search(r"#1 .*stopper_1", real) is not None,
          "after prio task none the real backtrace starts prio_test_stop_here, stopper_1")
    if mode == "live":
        gdb.execute("prio task %d" % next(r["id"] for r in rows if "asm_outer" in r["function"]), to_string=True)
        gdb.execute("continue")
        code = gdb.parse_and_eval("$_exitcode")
        check(code.type.code != gdb.TYPE_CODE_VOID and int(code) == 0,
              "continue with a task selected runs the program to a clean exit (exit code %s)" % code)


try:
    main()
except Exception:
    traceback.print_exc()
    gdb.execute("quit 255")
gdb.write("%d failure(s)\n" % len(failures))
gdb.execute("quit %d" % min(len(failures), 254))
