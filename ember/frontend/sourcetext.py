"""Frontend step 0, the text: where a kernel's source comes from when Python kept no file.

A kernel compiles from its source text, which `inspect` finds through `linecache`: files on
disk, Jupyter/IPython cells (IPython registers each cell there), the sources Ember generates
(vmap, custom_jvp). Code run by `exec`, by `python -c` or typed at the plain `python` prompt has
none, so this module gives it one:

- `register_source(text, filename=None)` puts `text` into `linecache` and returns its file name,
  for `exec(compile(text, filename, "exec"), namespace)`; pickling by value uses the same
  registration to restore a kernel's text in a fresh process.
- `exec_source(text, namespace=None, filename=None)` does both steps (like `exec`).
- `recover(func)` finds the text of `python -c` (Linux: /proc/self/cmdline), accepted only if
  compiling it gives `func`'s own bytecode, so an `exec`'d function also named `<string>` never
  gets another function's text.
- `missing(func)` is the CompileError message saying which call makes the source available.
"""

from __future__ import annotations

import hashlib
import linecache
import os
import sys
import types
from typing import Any

COMMAND: str = "<string>"
"""The file name of `python -c` code (and of `exec(text)` without a file name)."""

_RECOVERED: set[str] = set()
"""File names whose text `recover` registered: checked against each function's bytecode."""

_OPTION_VALUE = frozenset("WX")
"""CPython options that take a value (`-W error`, `-Xdev`) before `-c`."""


def register_source(text: str, filename: str | None = None) -> str:
    """Keep `text` in `linecache` under `filename` (default: `<ember-source HASH>`, the same
    name for the same text) so that kernels defined by `exec(compile(text, filename, "exec"),
    ns)` can be compiled and their errors show the line; returns the file name."""
    if not isinstance(text, str):
        raise TypeError(f"register_source: text must be a str, not {type(text).__name__}")
    if filename is None:
        filename = f"<ember-source {hashlib.sha1(text.encode()).hexdigest()[:12]}>"
    elif not isinstance(filename, str) or not filename:
        raise TypeError(f"register_source: filename must be a non-empty str, not {filename!r}")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    linecache.cache[filename] = (len(text), None, lines, filename)
    _RECOVERED.discard(filename)
    return filename


def exec_source(text: str, namespace: dict[str, Any] | None = None,
                filename: str | None = None) -> dict[str, Any]:
    """`exec(text, namespace)` with the text registered (`register_source`), so the kernels it
    defines compile; returns the namespace (a new `__main__`-like one by default)."""
    if namespace is None:
        namespace = {"__name__": "__main__"}
    elif not isinstance(namespace, dict):
        raise TypeError(f"exec_source: namespace must be a dict (e.g. globals()), not "
                        f"{type(namespace).__name__}")
    name = register_source(text, filename)
    exec(compile(text, name, "exec", dont_inherit=True), namespace)  # noqa: S102 - the user's
    return namespace


def recover(func: Any) -> bool:
    """Register the text of `python -c` if `func` was defined by it; True if it was."""
    code = getattr(func, "__code__", None)
    if code is None or code.co_filename != COMMAND:
        return False
    text = _command_text()
    if text is None or not _defines(text, code):
        return False
    register_source(text, COMMAND)
    _RECOVERED.add(COMMAND)
    return True


def trusted(func: Any, file: str) -> bool:
    """False if `file`'s text came from `recover` and does not define `func` (an `exec`'d
    function of the same file name)."""
    code = getattr(func, "__code__", None)
    if file not in _RECOVERED or code is None:
        return True
    return _defines("".join(linecache.getlines(file)), code)


def missing(func: Any) -> str:
    """Why the source of `func` is unavailable, and what to write instead."""
    name = getattr(func, "__qualname__", getattr(func, "__name__", repr(func)))
    code = getattr(func, "__code__", None)
    if code is None:
        return (f"cannot read the source of {name!r}: it is not a Python function "
                f"({type(func).__name__}); decorate a `def` function")
    where = f"{code.co_filename}, line {code.co_firstlineno}"
    return (f"cannot read the source of '{name}' (defined in {where}): Ember compiles a "
            "kernel from its source text, and Python keeps none for code run by exec() or "
            "typed at the plain python prompt. Define the kernel in a file, a Jupyter/IPython "
            f"cell or `python -c`, or run its text with {spelled('exec_source')}(text, "
            f"globals()) (or register it: exec(compile(text, {spelled('register_source')}"
            "(text), 'exec'), namespace))")


def spelled(name: str) -> str:
    """How a user reaches `name` of this module: `ember.NAME` where the package exports it."""
    top = sys.modules.get("ember")
    return f"ember.{name}" if name in getattr(top, "__all__", ()) else f"{__name__}.{name}"


def _defines(text: str, code: types.CodeType) -> bool:
    """Whether compiling `text` makes a code object with `code`'s name, line and bytecode."""
    try:
        top = compile(text, code.co_filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    todo = [top]
    while todo:
        c = todo.pop()
        if (c.co_name, c.co_firstlineno, c.co_code) == (code.co_name, code.co_firstlineno,
                                                        code.co_code):
            return True
        todo.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return False


def _command_text() -> str | None:
    """The text after `-c` on this process's command line, or None."""
    if sys.argv[:1] != ["-c"]:
        return None
    try:
        with open("/proc/self/cmdline", "rb") as f:
            args = [os.fsdecode(a) for a in f.read().split(b"\0")[1:]]
    except OSError:
        return None
    return _after_c(args)


def _after_c(args: list[str]) -> str | None:
    """The `-c` argument among CPython's options `args` (`-c text`, `-ctext`, `-Ic text`)."""
    k = 0
    while k < len(args) and args[k].startswith("-") and args[k] not in ("-", "--"):
        arg, k = args[k], k + 1
        for i, flag in enumerate(arg[1:], start=1):
            if flag in _OPTION_VALUE or flag == "c":
                rest = arg[i + 1:]
                if not rest:
                    rest, k = (args[k], k + 1) if k < len(args) else ("", k)
                if flag == "c":
                    return rest
                break
    return None
