"""The builtin functions a kernel may call, declared as table rows.

Keys are the Python objects themselves (`math.sin`, `np.sin`, `abs`, `np.float32`), so every
spelling that names them (`from math import sin`, `import numpy as np`) resolves the same way.
Each row names a typing *rule* (implemented in `calls.py`) and an *op* key (lowered in
`ir/ops.py`). Adding a builtin is one row here, its lowering in ir/ops.py, its derivative
(a rule, or the set it belongs to) in ir/adrules.py, and tests; tests/test_builtin_tables.py
checks that the three agree.
"""

from __future__ import annotations

import ast
import builtins as py
import cmath
import math
from dataclasses import dataclass
from typing import Final

import numpy as np

from .. import types as T
from ..adfuncs import stop_gradient
from . import ufuncs
from .list_methods import INTERNALS as LIST_INTERNALS


@dataclass(frozen=True, slots=True)
class Builtin:
    name: str
    """Spelling for error messages."""
    rule: str
    """Typing rule in calls.py: math1, math2, ufunc1, ufunc2, pred, to_int, abs, ..."""
    op: str
    """Operation key for ir/ops.py."""
    arity: tuple[int, int] = (1, 1)


_Rows = dict[object, Builtin]


def _add(rows: _Rows, obj: object, name: str, rule: str, op: str,
         arity: tuple[int, int] = (1, 1)) -> None:
    rows[obj] = Builtin(name, rule, op, arity)


_MATH_UNARY: Final = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
                      "asinh", "acosh", "atanh", "exp", "exp2", "expm1", "log1p", "log2",
                      "log10", "sqrt", "cbrt", "erf", "erfc", "gamma", "lgamma", "fabs",
                      "radians", "degrees"]
_NP_UNARY: Final = {"sin": "sin", "cos": "cos", "tan": "tan", "arcsin": "asin",
                    "arccos": "acos", "arctan": "atan", "sinh": "sinh", "cosh": "cosh",
                    "tanh": "tanh", "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh",
                    "exp": "exp", "exp2": "exp2", "expm1": "expm1", "log": "log",
                    "log1p": "log1p", "log2": "log2", "log10": "log10", "sqrt": "sqrt",
                    "cbrt": "cbrt", "fabs": "fabs", "floor": "floor", "ceil": "ceil",
                    "trunc": "trunc", "rint": "rint", "deg2rad": "radians",
                    "radians": "radians", "rad2deg": "degrees", "degrees": "degrees"}
_NP_BINARY: Final = {"arctan2": "atan2", "power": "pow", "hypot": "hypot",
                     "copysign": "copysign", "fmod": "fmod"}
_SCALARS: Final = [T.boolean, T.i8, T.i16, T.i32, T.i64, T.u8, T.u16, T.u32, T.u64, T.f32,
                   T.f64, T.c64, T.c128]
_CMATH: Final = ["exp", "log", "log10", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh",
                 "phase", "polar", "rect", "isnan", "isinf", "isfinite"]
_NP_PARTS: Final = {"angle": "angle", "conj": "conj", "conjugate": "conj", "real": "real",
                    "imag": "imag"}


def _math_rows(rows: _Rows) -> None:
    for name in _MATH_UNARY:
        _add(rows, getattr(math, name), f"math.{name}", "math1", name)
    _add(rows, math.log, "math.log", "log", "log", (1, 2))
    for name in ["atan2", "pow", "hypot", "copysign", "fmod"]:
        _add(rows, getattr(math, name), f"math.{name}", "math2", name, (2, 2))
    for name in ["floor", "ceil", "trunc"]:
        _add(rows, getattr(math, name), f"math.{name}", "to_int", name)
    for name in ["isnan", "isinf", "isfinite"]:
        _add(rows, getattr(math, name), f"math.{name}", "pred", name)


def _numpy_rows(rows: _Rows) -> None:
    for name, op in _NP_UNARY.items():
        _add(rows, getattr(np, name), f"np.{name}", "ufunc1", op)
    for name, op in _NP_BINARY.items():
        _add(rows, getattr(np, name), f"np.{name}", "ufunc2", op, (2, 2))
    for name in ["isnan", "isinf", "isfinite"]:
        _add(rows, getattr(np, name), f"np.{name}", "np_pred", name)
    _add(rows, np.minimum, "np.minimum", "np_minmax", "minimum", (2, 2))
    _add(rows, np.maximum, "np.maximum", "np_minmax", "maximum", (2, 2))
    _add(rows, np.abs, "np.abs", "abs", "abs")
    for name, (arity, _) in ufuncs.FORMS.items():  # np.add(a, b) is a + b, ...
        _add(rows, getattr(np, name), f"np.{name}", "ufunc_operator", name, (arity, arity))
    _add(rows, np.sign, "np.sign", "sign", "sign")
    _add(rows, np.round, "np.round", "np_round", "round", (1, 2))
    _add(rows, np.where, "np.where", "where", "where", (3, 3))
    _add(rows, np.clip, "np.clip", "clip", "clip", (3, 3))
    for name in ["sum", "prod", "mean", "var", "std", "min", "max", "argmin", "argmax", "any",
                 "all", "cumsum", "cumprod"]:  # reductions.py
        _add(rows, getattr(np, name), f"np.{name}", "reduce", name, (1, 8))
    _add(rows, np.amin, "np.amin", "reduce", "min", (1, 8))
    _add(rows, np.amax, "np.amax", "reduce", "max", (1, 8))
    for name in ["dot", "matmul", "inner", "vdot", "outer", "trace"]:  # products.py
        _add(rows, getattr(np, name), f"np.{name}", "product", name, (1, 2))
    for name in ["sort", "argsort", "searchsorted", "flatnonzero", "count_nonzero", "nonzero",
                 "concatenate", "stack", "hstack", "vstack"]:  # selection.py
        _add(rows, getattr(np, name), f"np.{name}", "select", name, (1, 4))


def _python_rows(rows: _Rows) -> None:
    _add(rows, py.abs, "abs", "abs", "abs")
    _add(rows, py.min, "min", "minmax", "min", (2, 64))
    _add(rows, py.max, "max", "minmax", "max", (2, 64))
    _add(rows, py.int, "int", "cast", "int")
    _add(rows, py.float, "float", "cast", "float")
    _add(rows, py.bool, "bool", "cast", "bool")
    _add(rows, py.round, "round", "round", "round", (1, 2))
    _add(rows, py.len, "len", "len", "len")
    _add(rows, py.divmod, "divmod", "divmod", "divmod", (2, 2))  # frontend/scalars.py


def _complex_rows(rows: _Rows) -> None:
    """complex(...), cmath and np.angle/conj/real/imag (rules in complex_calls.py)."""
    _add(rows, py.complex, "complex", "complex", "c.create", (0, 2))
    for name in _CMATH:
        _add(rows, getattr(cmath, name), f"cmath.{name}", "cmath", name,
             (2, 2) if name == "rect" else (1, 1))
    for name, op in _NP_PARTS.items():
        _add(rows, getattr(np, name), f"np.{name}", "cpart", op)


def _type_rows(rows: _Rows) -> None:
    for scalar in _SCALARS:
        _add(rows, scalar.np_dtype.type, f"np.{scalar.np_dtype.name}", "cast", str(scalar))
        _add(rows, scalar, str(scalar), "cast", str(scalar))
    for name in ["empty", "zeros", "ones"]:
        _add(rows, getattr(np, name), f"np.{name}", "alloc", name)
        _add(rows, getattr(np, f"{name}_like"), f"np.{name}_like", "alloc_like", name)
    _add(rows, np.full, "np.full", "alloc", "full", (2, 2))
    _add(rows, np.full_like, "np.full_like", "alloc_like", "full", (2, 2))
    for name in ["arange", "linspace", "eye", "identity", "copy", "array", "asarray",
                 "reshape", "ravel"]:
        _add(rows, getattr(np, name), f"np.{name}", "create", name)  # frontend/creation.py


def _rows() -> _Rows:
    rows: _Rows = {}
    for part in (_math_rows, _numpy_rows, _python_rows, _complex_rows, _type_rows):
        part(rows)
    return rows


class _Internal:
    """Marker objects for builtins only the desugaring passes can name."""

    def __init__(self, name: str) -> None:
        self.name = name


INTERNAL: Final = {"__ember_range_len": _Internal("range_len"),
                   "__ember_unpack": _Internal("unpack"),
                   "__ember_iter_len": _Internal("iter_len"),
                   "__ember_item": _Internal("item"),
                   "__ember_inplace": _Internal("inplace"),
                   "__ember_unpack_check": _Internal("unpack_check"),  # frontend/sugar.py
                   "__ember_pick": _Internal("pick")}
INPLACE: Final = "__ember_inplace"
"""desugar.py writes `x op= y` as `x = __ember_inplace(x, x op y)`: for an array `x` an
in-place update (stmts.py, arrays.inplace), for a scalar the plain assignment."""


def is_inplace(node: ast.expr) -> bool:
    """`__ember_inplace(...)`, the desugared value of an augmented assignment."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == INPLACE)


FUNCTIONS: Final = _rows()
FUNCTIONS[stop_gradient] = Builtin("stop_gradient", "stop_gradient", "stop_gradient")  # customrules
FUNCTIONS[INTERNAL["__ember_range_len"]] = Builtin("len(range)", "range_len", "range_len", (3, 3))
FUNCTIONS[INTERNAL["__ember_unpack"]] = Builtin("unpacking", "unpack", "unpack", (2, 2))
FUNCTIONS[INTERNAL["__ember_iter_len"]] = Builtin("iteration", "iter_len", "iter_len")
FUNCTIONS[INTERNAL["__ember_item"]] = Builtin("iteration", "item", "item", (2, 2))
FUNCTIONS[INTERNAL["__ember_unpack_check"]] = Builtin("unpacking", "unpack_check",
                                                      "unpack_check", (2, 2))
FUNCTIONS[INTERNAL["__ember_pick"]] = Builtin("iteration", "pick", "pick", (2, 64))
FUNCTIONS[INTERNAL["__ember_inplace"]] = Builtin("augmented assignment", "inplace", "inplace",
                                                 (2, 2))
for _name in LIST_INTERNALS:  # frontend/lists.py writes them, list_rules.py types them
    INTERNAL[_name] = _Internal(_name)
    FUNCTIONS[INTERNAL[_name]] = Builtin("list operation", "list", _name, (0, 1 << 16))

CAST_TARGETS: Final[dict[str, T.Scalar]] = {
    "int": T.py_int, "float": T.py_float, "bool": T.py_bool,
    **{str(s): s for s in [T.boolean, T.i8, T.i16, T.i32, T.i64, T.u8, T.u16, T.u32, T.u64,
                           T.f32, T.f64, T.c64, T.c128]},
}

DTYPE_NAMES: Final[dict[object, T.Scalar]] = {
    float: T.f64, int: T.i64, bool: T.boolean, complex: T.c128,
    **{s.np_dtype.type: s for s in CAST_TARGETS.values() if not s.weak},
    **{s: s for s in CAST_TARGETS.values() if not s.weak},
}


def lookup(obj: object) -> Builtin | None:
    """The builtin row for a resolved Python object, if it is one."""
    try:
        return FUNCTIONS.get(obj)
    except TypeError:  # unhashable values are never builtins
        return None
