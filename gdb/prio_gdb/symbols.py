"""symbols.py: names for code addresses (task bodies, coroutine resume
functions), with the lambda type pulled out of set_body's invoke thunk."""
import gdb


def function_name(addr):
    """function_name(addr) is the function containing addr (its full
    demangled name from the symbol table where there is one), or hex."""
    if not addr:
        return "-"
    out = gdb.execute("info symbol 0x%x" % addr, to_string=True).strip()
    if not out.startswith("No symbol"):
        return out.split(" in section")[0]
    try:
        block = gdb.block_for_pc(addr)
        while block is not None and block.function is None:
            block = block.superblock
        if block is not None:
            return block.function.print_name
    except RuntimeError:
        pass
    return "0x%x" % addr


def _template_arg(text, opener):
    """The template argument after `opener` ('set_body<'), brackets balanced."""
    i = text.find(opener)
    if i < 0:
        return None
    i += len(opener)
    depth, j = 1, i
    while j < len(text) and depth:
        c = text[j]
        depth += {"<": 1, ">": -1, "(": 1, ")": -1}.get(c, 0)
        if c == "," and depth == 1:  # the first argument only
            break
        j += 1
    return text[i:j].rstrip(">").strip()


def body_name(task):
    """body_name(task): the user function of a task's body. For a callable
    it is the callable's type, read from its set_body<F> invoke thunk."""
    name = function_name(task.body_addr)
    if task.body_kind in ("callable", "coro_callable"):
        lam = _template_arg(name, "set_body<")
        if lam:
            return lam
    return name
