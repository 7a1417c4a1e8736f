"""coro.py: the chain of awaiting coroutines of a coroutine task.

GCC's coroutine frame starts [resume fn][destroy fn][promise]; prio's
promise (context/coro.hpp co_promise_base) starts with continuation_, the
handle of the awaiting coroutine. The innermost suspended coroutine is
coro_context::current_ (read through debug info); from it continuation_
leads outwards to the task's root, whose continuation is noop_coroutine()."""
import gdb

from . import registry as reg
from . import symbols

PROMISE_OFFSET = 16
MAX_DEPTH = 256


def _strip_frame_params(name):
    """The actor's name without its (...Frame*) parameter list or clone tag."""
    name = name.replace(" [clone .actor]", "")
    if name.endswith(")") and ".Frame" in name:
        depth = 0
        for i in range(len(name) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(name[i], 0)
            if depth == 0:
                return name[:i]
    return name


def current_frame(task):
    """current_frame(task) is the frame address of the innermost suspended
    coroutine of a coroutine task, or 0."""
    try:
        ctx_t = gdb.lookup_type("prio::coro_context").pointer()
        ctx = gdb.Value(task.ctx).cast(ctx_t)
        return int(ctx["current_"]["_M_fr_ptr"])
    except (gdb.error, RuntimeError):
        return 0


def chain(task):
    """chain(task) is [(frame address, resume function name)], innermost
    first. Without debug info for coro_context only the body is known."""
    out = []
    frame = current_frame(task)
    if not frame and task.coro_body:
        frame = reg.u64(task.coro_body)  # optional<co<>>: the handle comes first
    seen = set()
    while frame and frame not in seen and len(out) < MAX_DEPTH:
        seen.add(frame)
        resume = reg.u64(frame)
        name = symbols.function_name(resume)
        if "noop_coro" in name or not resume:
            break
        out.append((frame, _strip_frame_params(name)))
        frame = reg.u64(frame + PROMISE_OFFSET)
    return out
