"""Calls of `ember.vectorize` ufuncs inside kernels, as Numba lets jitted code call its
vectorized functions: `rel(a, b)` on scalars is a call of the ufunc's scalar function
annotated with the loop NumPy would pick for those argument types (an exact match, else the
first loop they cast to safely; Python scalars are weak), its result converted to that
loop's output type.

The ufunc carries the hook (`__ember_elementwise__`, made by api/ufunc.py): `py_func` and
`key` for the cache key (deps.py), and `callee(types)` returning (annotated function, result
type or None) or the message of a refusal. Array arguments and keywords are refused: inside a
kernel a ufunc maps scalars (loop over the elements); whole arrays go outside.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import types as T
from .operators import Typer, cast

if TYPE_CHECKING:
    from . import tir


def hook(target: Any) -> Any | None:
    """The `__ember_elementwise__` hook of an Ember ufunc, else None."""
    try:
        return getattr(target, "__ember_elementwise__", None)
    except Exception:  # noqa: BLE001 - an object whose attribute lookup fails is no ufunc
        return None


def call(typer: Typer, node: ast.Call, elementwise: Any,
         kernel_call: Callable[[Typer, ast.Call, Any], tir.Expr]) -> tir.Expr:
    """The typed call of an Ember ufunc on scalars (`kernel_call`: calls.kernel_call)."""
    name = ast.unparse(node.func)
    if node.keywords:
        raise typer.error(node, f"ufunc '{name}' takes no keyword arguments inside a kernel "
                          f"(out=, dtype=, where= work outside); call it on scalars: "
                          f"{name}(x, y)")
    types = [typer.expr(a).type for a in node.args]
    for arg, t in zip(node.args, types, strict=True):
        if not isinstance(t, T.Scalar):
            raise typer.error(arg, f"ufunc '{name}' is called on {t} inside a kernel; kernels "
                              f"call ufuncs on scalars (loop over the elements: "
                              f"{name}(x[i], ...)), or call it on whole arrays outside")
    found = elementwise.callee(tuple(types))
    if isinstance(found, str):
        raise typer.error(node, found)
    func, ret = found
    result = kernel_call(typer, node, func)
    return result if ret is None else cast(result, ret)
