"""Frontend: the prelude rows of np.isclose/allclose, median/percentile/quantile,
diag/triu/tril, trapezoid/cross/bincount/unique and repeat/tile (ember/prelude/numeric.py),
merged into prelude_table.ROUTINES."""

from __future__ import annotations

import ast
from typing import Any

import numpy as np

from .. import types as T
from ..prelude import numeric as pn
from . import tir
from .operators import Typer, cast
from .prelude import Bound, Routine, array, as_dtype, axis, float_dtype, specialize


def _scalar_or_array(typer: Typer, node: ast.Call, value: tir.Expr, what: str) -> T.Scalar:
    t = value.type
    if isinstance(t, T.Array):
        return t.dtype
    if isinstance(t, T.Scalar):
        return t
    raise typer.error(node, f"{what} must be an array or a number in kernels, not {t}")


def _expr(typer: Typer, node: ast.Call, value: Any) -> tir.Expr:
    """An argument, or a parameter's default (a Python number) as a constant."""
    if isinstance(value, tir.Expr):
        return value
    return tir.Const(T.py_int if type(value) is int else T.py_float, typer.src.span(node),
                     value)


def _int(typer: Typer, node: ast.Call, value: Any, what: str) -> tir.Expr:
    value = _expr(typer, node, value)
    t = value.type
    if not (isinstance(t, T.Scalar) and (t.is_int or t.is_bool)):
        raise typer.error(node, f"{what} must be an integer in kernels, not {t}")
    return cast(value, T.py_int)


# --- closeness ----------------------------------------------------------------------------------
def _isclose(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    _scalar_or_array(typer, node, b["a"], "np.isclose()'s a")
    yt = _scalar_or_array(typer, node, b["b"], "np.isclose()'s b")
    dtype = float_dtype(yt)  # NumPy: y in result_type(y, 1.0); tolerances as weak floats
    tols = [_expr(typer, node, b[name]) for name in ("rtol", "atol")]
    for name, tol in zip(("rtol", "atol"), tols, strict=True):
        if not isinstance(tol.type, T.Scalar):
            raise typer.error(node, f"np.isclose()'s {name} must be a number in kernels, "
                              f"not {tol.type}")
    equal_nan = b["equal_nan"]
    if not isinstance(equal_nan, bool):
        raise typer.error(node, f"equal_nan must be a constant True or False, not "
                          f"{equal_nan!r}")
    y = as_dtype(typer, node, b["b"], dtype)
    func = pn.isclose_nan if equal_nan else pn.isclose
    return specialize(typer, node, func, [b["a"], y, *(cast(t, dtype) for t in tols)])


def _allclose(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    close = _isclose(typer, node, b)
    if isinstance(close.type, T.Array):
        return specialize(typer, node, pn.all_true, [close])
    return close


# --- order statistics ---------------------------------------------------------------------------
def _median(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    t = array(typer, node, b["a"], "np.median()'s argument", (1, 2))
    ax = axis(typer, node, b["axis"], t.ndim, "np.median")
    dtype = float_dtype(t.dtype)
    a = as_dtype(typer, node, b["a"], dtype)
    nan = tir.Const(dtype, typer.src.span(node), float("nan"))
    if ax is None or t.ndim == 1:
        return specialize(typer, node, pn.median_flat, [a, nan])
    rows = a if ax == 1 else tir.Transpose(a.type, a.span, a, (1, 0))
    return specialize(typer, node, pn.median_rows, [rows, nan])


def _quantile(name: str, percent: bool) -> Any:
    def pick(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
        t = array(typer, node, b["a"], f"{name}()'s argument", (1, 2))
        ax = axis(typer, node, b["axis"], t.ndim, name)
        if ax is not None and t.ndim != 1:
            raise typer.error(node, f"{name}() of a 2-D array takes axis=None in kernels; "
                              f"loop over the rows (or columns) for per-axis values")
        q = b["q"]
        qt = q.type
        dims_ok = isinstance(qt, T.Scalar) or isinstance(qt, T.Array) and qt.ndim == 1
        if not dims_ok or _scalar_or_array(typer, node, q, f"{name}()'s q").is_bool:
            raise typer.error(node, f"{name}() takes a number or a 1-D array q in kernels, "
                              f"not {qt}")
        dtype = float_dtype(t.dtype)
        a = as_dtype(typer, node, b["a"], dtype)
        flag = tir.Const(T.boolean, typer.src.span(node), percent)
        func, out = pn.quantile_flat, dtype  # a scalar q counts as a Python float
        if isinstance(qt, T.Array):  # an array q takes part in the result dtype, as NumPy's
            func, out = pn.quantile_many, float_dtype(t.dtype, qt.dtype)
        value = specialize(typer, node, func, [a, as_dtype(typer, node, q, T.f64), flag])
        return as_dtype(typer, node, value, out)
    return pick


# --- matrices -----------------------------------------------------------------------------------
def _diag(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    t = array(typer, node, b["v"], "np.diag()'s argument", (1, 2))
    k = _int(typer, node, b["k"], "np.diag()'s k")
    func = pn.diag_matrix if t.ndim == 1 else pn.diag_of
    return specialize(typer, node, func, [b["v"], k])


def _triangle(func: Any, name: str) -> Any:
    def pick(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
        array(typer, node, b["m"], f"{name}()'s argument", (2,))
        k = _int(typer, node, b["k"], f"{name}()'s k")
        return specialize(typer, node, func, [b["m"], k])
    return pick


# --- integrals, products, counts ----------------------------------------------------------------
def _trapezoid(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    t = array(typer, node, b["y"], "np.trapezoid()'s y", (1,))
    axis(typer, node, b["axis"], t.ndim, "np.trapezoid")
    if b["x"] is None:
        dx = _expr(typer, node, b["dx"])
        if not isinstance(dx.type, T.Scalar):
            raise typer.error(node, f"np.trapezoid()'s dx must be a number in kernels, not "
                              f"{dx.type}")
        return specialize(typer, node, pn.trapezoid_dx, [b["y"], dx])
    array(typer, node, b["x"], "np.trapezoid()'s x", (1,))
    return specialize(typer, node, pn.trapezoid_x, [b["y"], b["x"]])


_CROSS = {(1, 1): pn.cross1, (2, 2): pn.cross_rows, (1, 2): pn.cross_vector_rows,
          (2, 1): pn.cross_rows_vector}


def _cross(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    ta = array(typer, node, b["a"], "np.cross()'s a", (1, 2))
    tb = array(typer, node, b["b"], "np.cross()'s b", (1, 2))
    dtype = T.promote(ta.dtype, tb.dtype)
    if dtype.is_bool:
        raise typer.error(node, "np.cross() of bool arrays is not supported; convert them "
                          "with .astype(np.int64)")
    args = [as_dtype(typer, node, v, dtype) for v in (b["a"], b["b"])]
    return specialize(typer, node, _CROSS[(ta.ndim, tb.ndim)], args)


def _bincount(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    t = array(typer, node, b["x"], "np.bincount()'s argument", (1,))
    if not (t.dtype.is_int or t.dtype.is_bool):
        raise typer.error(node, f"Cannot cast array data from dtype('{t.dtype}') to "
                          f"dtype('int64') according to the rule 'safe'")
    if b["weights"] is not None:
        raise typer.error(node, "np.bincount(..., weights=...) is not supported in kernels; "
                          "add the weights in a loop: out[x[i]] += w[i]")
    minlength = _int(typer, node, b["minlength"], "np.bincount()'s minlength")
    return specialize(typer, node, pn.bincount, [b["x"], minlength])


_UNIQUE_FLAGS = ("return_index", "return_inverse", "return_counts")


def _unique(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    array(typer, node, b["ar"], "np.unique()'s argument", (1, 2))
    for flag in _UNIQUE_FLAGS:
        if b[flag] is not False:
            raise typer.error(node, f"np.unique(..., {flag}=...) is not supported in kernels "
                              f"(only the sorted unique values)")
    if b["axis"] is not None:
        raise typer.error(node, "np.unique(..., axis=...) is not supported in kernels (only "
                          "the unique values of the flattened array)")
    equal_nan = b["equal_nan"]
    if not isinstance(equal_nan, bool):
        raise typer.error(node, f"equal_nan must be a constant True or False, not "
                          f"{equal_nan!r}")
    nans = tir.Const(T.boolean, typer.src.span(node), equal_nan)
    return specialize(typer, node, pn.unique, [b["ar"], nans])


# --- repeating ----------------------------------------------------------------------------------
def _repeat(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    t = array(typer, node, b["a"], "np.repeat()'s argument", (1, 2))
    if axis(typer, node, b["axis"], t.ndim, "np.repeat") is not None and t.ndim != 1:
        raise typer.error(node, "np.repeat(..., axis=...) of a 2-D array is not supported in "
                          "kernels (axis=None repeats the flattened values)")
    repeats = _int(typer, node, b["repeats"], "np.repeat()'s repeats (one count)")
    return specialize(typer, node, pn.repeat, [b["a"], repeats])


def _tile(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    array(typer, node, b["A"], "np.tile()'s argument", (1,))
    reps = _int(typer, node, b["reps"], "np.tile()'s reps (one count)")
    return specialize(typer, node, pn.tile, [b["A"], reps])


ROUTINES: dict[Any, Routine] = {
    np.isclose: Routine("np.isclose", ("a", "b", "rtol", "atol", "equal_nan"), _isclose,
                        {"rtol": 1e-05, "atol": 1e-08, "equal_nan": False},
                        frozenset({"equal_nan"})),
    np.allclose: Routine("np.allclose", ("a", "b", "rtol", "atol", "equal_nan"), _allclose,
                         {"rtol": 1e-05, "atol": 1e-08, "equal_nan": False},
                         frozenset({"equal_nan"})),
    np.median: Routine("np.median", ("a", "axis"), _median, {"axis": None},
                       frozenset({"axis"})),
    np.percentile: Routine("np.percentile", ("a", "q", "axis"),
                           _quantile("np.percentile", True), {"axis": None},
                           frozenset({"axis"})),
    np.quantile: Routine("np.quantile", ("a", "q", "axis"), _quantile("np.quantile", False),
                         {"axis": None}, frozenset({"axis"})),
    np.diag: Routine("np.diag", ("v", "k"), _diag, {"k": 0}),
    np.triu: Routine("np.triu", ("m", "k"), _triangle(pn.triu, "np.triu"), {"k": 0}),
    np.tril: Routine("np.tril", ("m", "k"), _triangle(pn.tril, "np.tril"), {"k": 0}),
    np.trapezoid: Routine("np.trapezoid", ("y", "x", "dx", "axis"), _trapezoid,
                          {"x": None, "dx": 1.0, "axis": -1}, frozenset({"axis"})),
    np.cross: Routine("np.cross", ("a", "b"), _cross),
    np.bincount: Routine("np.bincount", ("x", "weights", "minlength"), _bincount,
                         {"weights": None, "minlength": 0}),
    np.unique: Routine("np.unique", ("ar", *_UNIQUE_FLAGS, "axis", "equal_nan"), _unique,
                       {**dict.fromkeys(_UNIQUE_FLAGS, False), "axis": None,
                        "equal_nan": True},
                       frozenset({*_UNIQUE_FLAGS, "axis", "equal_nan"})),
    np.repeat: Routine("np.repeat", ("a", "repeats", "axis"), _repeat, {"axis": None},
                       frozenset({"axis"})),
    np.tile: Routine("np.tile", ("A", "reps"), _tile),
}
