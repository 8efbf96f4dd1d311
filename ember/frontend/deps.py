"""What a kernel's compiled code depends on, for the disk-cache key (no typing needed).

Walks the kernel's AST for global names and dotted attributes it reads, resolves them like
the typer does, and collects: the source of every kernel reachable through calls (so editing
a callee invalidates its callers), and the values of the global constants it reads (numbers,
tuples of numbers, NumPy arrays: constants.py freezes them into the compiled code).
"""

from __future__ import annotations

import ast
import hashlib
from typing import Any

import numpy as np

from . import ufunccall
from .prelude_table import sources_read
from .source import load_source


def dependencies(func: Any) -> list[str]:
    """Stable text fragments describing `func` and everything it depends on."""
    out: list[str] = []
    seen: set[int] = set()
    stack = [func]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        src = load_source(fn)
        out.append(f"{fn.__module__}.{fn.__qualname__}\n{src.text}")
        if getattr(fn, "__ember_jvp__", None) is not None:  # its custom_jvp rule
            stack.append(fn.__ember_jvp__)
        out.extend(sources_read(src.tree, src.lookup))  # NumPy routines of ember/prelude
        for name, value in _globals_read(src):
            inner = getattr(value, "__ember_kernel__", None)
            elementwise = ufunccall.hook(value)  # an ember.vectorize ufunc it calls
            if inner is not None:
                stack.append(inner)
            elif elementwise is not None:
                stack.append(elementwise.py_func)
                out.append(f"{name}={elementwise.key}")
            elif isinstance(value, bool | int | float | complex | np.generic | tuple
                            | np.ndarray):
                out.append(f"{name}={constant_key(value)}")
            elif hasattr(value, "__ember_type__") or type(value).__module__ == "ember.types":
                out.append(f"{name}={value}")
    return out


def constant_key(value: Any) -> str:
    """A stable text naming a global constant's value and type (an array: its dtype, shape
    and a hash of its elements), so a changed constant gives another cache key."""
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value)
        raw = data.tobytes() if data.dtype != object else repr(data.tolist()).encode()
        digest = hashlib.sha256(raw).hexdigest()
        return f"array({data.dtype.str},{value.shape},{digest})"
    if isinstance(value, tuple):
        return "(" + ",".join(constant_key(v) for v in value) + ")"
    if isinstance(value, bool | int | float | complex | np.generic):
        return f"{value!r}:{type(value).__name__}"
    return type(value).__name__  # kernels refuse it (a repr may hold an address)


def _globals_read(src: Any) -> list[tuple[str, Any]]:
    # a parameter or local variable is never a global, whatever the module binds to its name
    local = set(getattr(getattr(src.func, "__code__", None), "co_varnames", ()))
    found = []
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            ok, value = src.lookup(node.id)
            if ok and node.id not in local:
                found.append((node.id, value))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id not in local:
            ok, base = src.lookup(node.value.id)
            if ok and hasattr(base, node.attr):
                found.append((f"{node.value.id}.{node.attr}", getattr(base, node.attr)))
    return found
