"""Frontend: what to say about calls, methods and attributes kernels do not support.

Tables, not if-chains: each refusal names the construct in the user's words (the method, the
function as the user spelled it) and says what to write instead. Used by exprs.py and
calls.py; nothing here types or builds anything.
"""

from __future__ import annotations

import ast
import builtins as py
import math
from typing import Any, Final

import numpy as np

_LOOP: Final = "write a loop over the elements"
_VIEW: Final = ("kernels make views by slicing (a[1:], A[i], A[:, j]), transposing (a.T, "
                 "a.transpose(1, 0)) and reshaping (a.reshape(n, -1)) only; index the array "
                 "directly (a[i, j])")

ARRAY_METHODS: Final[dict[str, str]] = {
    **dict.fromkeys(["dot", "clip", "round", "nonzero"], _LOOP),
    **dict.fromkeys(["swapaxes", "view",
                     "squeeze"], _VIEW),
    "item": "read the element by its index: a[i]",
    "tolist": "kernels have no lists; use the array itself",
}
"""Array methods: what to write instead."""

SCALAR_METHODS: Final[dict[str, str]] = {
    "bit_count": "count the bits in a loop (bits += n & 1; n >>= 1)",
    "is_integer": "compare with its floor: x == math.floor(x)",
    "item": "the value is already a scalar; drop .item()",
    "astype": "convert with the type's name: np.float32(x), int(x), ...",
    "as_integer_ratio": "kernels have no Python fractions; compute with numbers",
    "hex": "kernels have no strings",
}
"""Methods of scalars (int, float, numpy scalars): what to write instead."""

ARRAY_ATTRIBUTES: Final[dict[str, str]] = {
    "dtype": "use it as the dtype of an allocation (np.zeros(n, dtype=a.dtype)); to convert "
    "a value, write the type's name (np.float64(x), int(x), ...)",
    **dict.fromkeys(["flat", "strides", "itemsize", "nbytes", "base",
                     "flags", "data"], ""),
}
"""Array attributes beyond .shape/.size/.ndim with a specific suggestion ('' for none)."""

SCALAR_ATTRIBUTES: Final[dict[str, str]] = {
    "dtype": "write the type's name instead (np.float64, ...)",
}

_WHOLE_ARRAY: Final = ("whole-array function {name} is not supported in kernels; "
                       + _LOOP)
_BUILD_ARRAY: Final = ("{name} is not supported in kernels; allocate with np.empty(n) (or "
                       "np.zeros, np.full) and fill the array in a loop")
_TYPE_INFO: Final = ("{name}(...) is supported only for its attributes, as a compile-time "
                     "constant: {name}({example}).max, .min, ...")


def _function_rows() -> dict[Any, str]:
    rows: dict[Any, str] = {
        py.print: "print() is not supported in kernels; return the value (or store it in an "
        "array) and print it outside the kernel",
        py.range: "range() can only be used as the iterable of a for loop",
        py.enumerate: "enumerate() is supported only as the iterable of a for loop: "
        "for i, v in enumerate(a) or enumerate(a, start)",
        py.zip: "zip() is supported only as the iterable of a for loop, with strict=False "
        "(the default): for x, y in zip(a, b)",
        py.sum: "sum() is not supported in kernels; " + _LOOP,
        py.isinstance: "isinstance() is not supported in kernels: every value's type is "
        "known at compile time",
        py.getattr: "getattr() is not supported in kernels; write the attribute out (a.shape)",
        np.finfo: _TYPE_INFO.replace("{example}", "np.float64").replace(".max", ".eps, .max"),
        np.iinfo: _TYPE_INFO.replace("{example}", "np.int64"),
    }
    for name in ["sum", "prod", "mean", "dot", "max", "min", "argmax", "argmin", "cumsum",
                 "cumprod", "matmul", "where", "clip", "sort", "all", "any", "std", "var",
                 "amax", "amin", "nansum", "inner", "outer", "vdot", "einsum"]:
        rows[getattr(np, name)] = _WHOLE_ARRAY
    for name in ["concatenate", "stack", "meshgrid", "tri"]:
        rows.setdefault(getattr(np, name), _BUILD_ARRAY)
    return rows


FUNCTIONS: Final = _function_rows()
"""Python and NumPy callables kernels refuse, keyed by the object; `{name}` is the user's
spelling."""


def function_message(name: str, target: Any) -> str | None:
    """The refusal for calling `target` (spelled `name`), if the table has one."""
    try:
        found = FUNCTIONS.get(target)
    except TypeError:  # unhashable objects
        return None
    return found.format(name=name) if found is not None else None


def module_function_message(name: str, target: Any) -> str | None:
    """A NumPy or math function outside Ember's builtins (np.sum, math.gcd, ...)."""
    module = getattr(target, "__module__", None) or ""
    if isinstance(target, np.ufunc) or module.startswith("numpy"):
        return (f"{name} is not supported in kernels; docs/numpy.md lists the NumPy "
                "functions kernels support; " + _LOOP)
    if getattr(math, getattr(target, "__name__", ""), None) is target:
        return (f"{name} is not supported in kernels; kernels call math's functions of floats "
                "(math.sin, math.exp, math.floor, ...); write the computation out")
    return None


def method_message(method: str, owner: str, is_array: bool) -> str:
    """The refusal for `x.method(...)` where `x` has type `owner`."""
    if is_array:
        hint = ARRAY_METHODS.get(method) or ("docs/numpy.md lists the array methods kernels "
                                             "support; " + _LOOP)
        return f"array method '{method}' is not supported in kernels; {hint}"
    hint = SCALAR_METHODS.get(method) or ("use a builtin (abs, round, min, max, math.*, "
                                          "np.*) instead")
    return f"method '{method}' of {owner} is not supported in kernels; {hint}"


def attribute_message(attr: str, owner: str, is_array: bool) -> str:
    """The refusal for `x.attr` where `x` has type `owner`."""
    if not is_array:
        hint = SCALAR_ATTRIBUTES.get(attr, "scalars have no attributes in kernels")
        return f"attribute '{attr}' of {owner} is not supported in kernels; {hint}"
    hint = ARRAY_ATTRIBUTES.get(attr) or "kernels support .shape, .size and .ndim"
    return f"array attribute '{attr}' is not supported in kernels; {hint}"


_NODE_KINDS: Final[dict[type, str]] = {
    ast.Call: "the result of a call", ast.Constant: "a constant",
    ast.Subscript: "an indexed value", ast.BinOp: "an arithmetic result",
    ast.UnaryOp: "an arithmetic result", ast.BoolOp: "a boolean expression",
    ast.Compare: "a comparison", ast.IfExp: "a conditional expression",
    ast.Tuple: "a tuple", ast.Starred: "a starred expression", ast.Slice: "a slice",
    ast.Attribute: "an attribute", ast.Name: "a name",
}


def node_kind(node: ast.AST) -> str:
    """The user's name for an expression node: 'the result of a call', 'a constant', ..."""
    return _NODE_KINDS.get(type(node), f"a {type(node).__name__} expression")
