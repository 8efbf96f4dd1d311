"""Frontend: the prelude's rows (NumPy function -> `Routine`) and their pickers.

A picker checks the constant arguments and the argument types the way NumPy does, converts
arrays to the computation dtype NumPy uses, and calls the matching generic function of
ember/prelude (prelude.specialize). `sources_read` gives the cache key the prelude sources a
kernel may use.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
from typing import Any

import numpy as np

from .. import types as T
from ..prelude import arrays as pa
from ..prelude import linalg as pl
from ..prelude import numeric as pn
from ..prelude import scalars as pscalars
from ..prelude import selection as psel
from ..prelude import stats as ps
from . import builtins, creation, prelude_numeric, scalars, tir
from .operators import Typer, cast
from .prelude import Bound, Routine, array, as_dtype, axis, float_dtype, specialize


def _floats(typer: Typer, node: ast.Call, *values: tir.Expr) -> list[tir.Expr]:
    """The arrays in NumPy linalg's computation dtype (one float dtype for all)."""
    dtypes = [v.type.dtype for v in values if isinstance(v.type, T.Array)]
    dtype = float_dtype(*dtypes)
    return [as_dtype(typer, node, v, dtype) for v in values]


# --- np.linalg -----------------------------------------------------------------------------
def _norm(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    t = array(typer, node, b["x"], "np.linalg.norm()'s argument", (1, 2))
    (x,) = _floats(typer, node, b["x"])
    ord_, ax = b["ord"], axis(typer, node, b["axis"], t.ndim, "np.linalg.norm")
    if t.ndim == 2 and ax is None:
        return _matrix_norm(typer, node, x, ord_)
    if t.ndim == 2:  # vector norms of the rows (axis=1) or of the columns (axis=0)
        rows = x if ax == 1 else tir.Transpose(x.type, x.span, x, (1, 0))
        found = _ROW_NORMS.get(ord_)
        if found is None:
            raise typer.error(node, f"np.linalg.norm(..., axis=...) supports ord None, 1, 2 "
                              f"and np.inf in kernels, not {ord_!r}")
        return specialize(typer, node, found, [rows])
    found = _VECTOR_NORMS.get(ord_)
    if found is None:
        raise typer.error(node, f"vector norms of ord None, 1, 2, np.inf and -np.inf are "
                          f"supported in kernels, not {ord_!r}")
    return specialize(typer, node, found, [x])


_VECTOR_NORMS: dict[Any, Any] = {None: pl.norm2, 2: pl.norm2, 1: pl.norm1,
                                 np.inf: pl.norm_max, -np.inf: pl.norm_min}
_ROW_NORMS: dict[Any, Any] = {None: pl.norm2_rows, 2: pl.norm2_rows, 1: pl.norm1_rows,
                              np.inf: pl.norm_max_rows}


def _matrix_norm(typer: Typer, node: ast.Call, x: tir.Expr, ord_: Any) -> tir.Expr:
    if ord_ in (None, "fro"):
        return specialize(typer, node, pl.norm2, [x])
    if ord_ in (1, np.inf):
        cols = x if ord_ == 1 else tir.Transpose(x.type, x.span, x, (1, 0))
        return specialize(typer, node, pl.matrix_norm1, [cols])
    raise typer.error(node, f"matrix norms of ord None, 'fro', 1 and np.inf are supported in "
                      f"kernels, not {ord_!r} (ord=2 and 'nuc' need an SVD)")


def _square(typer: Typer, node: ast.Call, b: Bound, what: str, name: str = "a") -> tir.Expr:
    array(typer, node, b[name], f"{what}()'s matrix", (2,))
    return _floats(typer, node, b[name])[0]


def _solve(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    array(typer, node, b["a"], "np.linalg.solve()'s matrix", (2,))
    rhs = array(typer, node, b["b"], "np.linalg.solve()'s right-hand side", (1, 2))
    a, y = _floats(typer, node, b["a"], b["b"])
    func = pl.solve_vector if rhs.ndim == 1 else pl.solve_matrix
    return specialize(typer, node, func, [a, y])


def _unary(func: Any, what: str) -> Any:
    def pick(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
        return specialize(typer, node, func, [_square(typer, node, b, what)])
    return pick


# --- array routines ------------------------------------------------------------------------
def _flip(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    t = array(typer, node, b["m"], "np.flip()'s argument", (1, 2))
    ax = axis(typer, node, b["axis"], t.ndim, "np.flip")
    func = {(1, None): pa.flip_first, (1, 0): pa.flip_first, (2, None): pa.flip_both,
            (2, 0): pa.flip_first, (2, 1): pa.flip_second}[(t.ndim, ax)]
    return specialize(typer, node, func, [b["m"]])


def _roll(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    t = array(typer, node, b["a"], "np.roll()'s argument", (1, 2))
    ax = axis(typer, node, b["axis"], t.ndim, "np.roll")
    shift = b["shift"]
    if not (isinstance(shift.type, T.Scalar) and (shift.type.is_int or shift.type.is_bool)):
        raise typer.error(node, f"np.roll() takes one integer shift in kernels, not "
                          f"{shift.type}")
    func = {(1, None): pa.roll_first, (1, 0): pa.roll_first, (2, None): pa.roll_flat,
            (2, 0): pa.roll_first, (2, 1): pa.roll_second}[(t.ndim, ax)]
    return specialize(typer, node, func, [b["a"], cast(shift, T.py_int)])


def _diff(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    t = array(typer, node, b["a"], "np.diff()'s argument", (1, 2))
    ax = axis(typer, node, b["axis"], t.ndim, "np.diff")
    n = b["n"]
    if type(n) is not int or n < 0:
        raise typer.error(node, f"order must be non-negative but got {n!r}")
    if n == 0:  # NumPy returns `a` itself; a copy here (kernels track aliases by name)
        return creation.copy(typer, node, b["a"])
    last = ax == t.ndim - 1
    kind = (t.dtype.is_bool, last and t.ndim == 2)
    func = {(False, False): pa.diff_first, (False, True): pa.diff_second,
            (True, False): pa.diff_first_bool, (True, True): pa.diff_second_bool}[kind]
    result: tir.Expr = b["a"]
    for _ in range(n):
        result = specialize(typer, node, func, [result])
    return result


def _interp(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    array(typer, node, b["xp"], "np.interp()'s xp", (1,))
    array(typer, node, b["fp"], "np.interp()'s fp", (1,))
    x = b["x"]
    if isinstance(x.type, T.Array) and x.type.ndim != 1:
        raise typer.error(node, "np.interp() takes a scalar or a 1-D array x in kernels")
    span = typer.src.span(node)
    ends = [b[name] for name in ("left", "right")]  # None: fp[0] and fp[-1]
    values = [cast(e, T.f64) if e is not None else tir.Const(T.f64, span, 0.0) for e in ends]
    flags = [tir.Const(T.boolean, span, e is not None) for e in ends]
    args = [as_dtype(typer, node, v, T.f64) for v in (x, b["xp"], b["fp"])]
    func = pa.interp_array if isinstance(x.type, T.Array) else pa.interp_scalar
    return specialize(typer, node, func, [*args, *values, *flags])


_MODES = ("full", "same", "valid")


def _convolve(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    array(typer, node, b["a"], "np.convolve()'s a", (1,))
    array(typer, node, b["v"], "np.convolve()'s v", (1,))
    mode = b["mode"]
    if mode not in _MODES:
        raise typer.error(node, f"mode must be one of {_MODES} (a constant), not {mode!r}")
    a, v = b["a"], b["v"]
    dtype = T.promote(a.type.dtype, v.type.dtype)
    if dtype.is_bool:
        raise typer.error(node, "np.convolve() of bool arrays is not supported in kernels; "
                          "convert them with .astype(np.int64)")
    a, v = as_dtype(typer, node, a, dtype), as_dtype(typer, node, v, dtype)
    code = tir.Const(T.py_int, typer.src.span(node), _MODES.index(mode))
    return specialize(typer, node, pa.convolve, [a, v, code])


def _cov(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    t = array(typer, node, b["m"], "np.cov()'s argument", (1, 2))
    if b["y"] is not None:
        raise typer.error(node, "np.cov() takes one array in kernels; stack the variables "
                          "as the rows of one matrix")
    ddof = b["ddof"]
    if ddof is None:
        ddof = 0 if b["bias"] else 1
    if type(ddof) is not int:
        raise typer.error(node, f"np.cov() needs an integer ddof, not {ddof!r}")
    m = as_dtype(typer, node, b["m"], T.f64)
    if t.ndim == 2 and not b["rowvar"]:
        m = tir.Transpose(m.type, m.span, m, (1, 0))
    func = ps.cov_vector if t.ndim == 1 else ps.cov_rows
    return specialize(typer, node, func, [m, tir.Const(T.py_int, m.span, ddof)])


def _histogram(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
    """(counts, edges) as a tuple expression: `np.histogram(a, bins)[0]` types one call."""
    array(typer, node, b["a"], "np.histogram()'s data", (1,))
    bins, range_ = b["bins"], b["range"]
    if type(bins) is not int or bins < 1:
        raise typer.error(node, f"np.histogram() takes a constant positive number of bins in "
                          f"kernels, not {bins!r}")
    span = typer.src.span(node)
    if range_ is not None and (not isinstance(range_, tuple) or len(range_) != 2):
        raise typer.error(node, f"range must be a constant (lo, hi) pair, not {range_!r}")
    lo, hi = (float(range_[0]), float(range_[1])) if range_ is not None else (0.0, 1.0)
    dtype = b["a"].type.dtype
    dtype = dtype if dtype.is_float else T.f64  # NumPy's edges; it compares in their dtype
    data = as_dtype(typer, node, b["a"], dtype)
    consts = [tir.Const(T.py_int, span, bins), tir.Const(dtype, span, lo),
              tir.Const(dtype, span, hi), tir.Const(T.boolean, span, range_ is not None)]
    counts = specialize(typer, node, ps.histogram_counts, [data, *consts])
    edges = specialize(typer, node, ps.histogram_edges, [data, *consts])
    return tir.TupleExpr(T.Tuple((counts.type, edges.type)), span, (counts, edges))


ROUTINES: dict[Any, Routine] = {
    np.linalg.norm: Routine("np.linalg.norm", ("x", "ord", "axis"), _norm,
                            {"ord": None, "axis": None}, frozenset({"ord", "axis"})),
    np.linalg.solve: Routine("np.linalg.solve", ("a", "b"), _solve),
    np.linalg.inv: Routine("np.linalg.inv", ("a",), _unary(pl.inv, "np.linalg.inv")),
    np.linalg.det: Routine("np.linalg.det", ("a",), _unary(pl.det, "np.linalg.det")),
    np.linalg.cholesky: Routine("np.linalg.cholesky", ("a",),
                                _unary(pl.cholesky, "np.linalg.cholesky")),
    np.flip: Routine("np.flip", ("m", "axis"), _flip, {"axis": None}, frozenset({"axis"})),
    np.roll: Routine("np.roll", ("a", "shift", "axis"), _roll, {"axis": None},
                     frozenset({"axis"})),
    np.diff: Routine("np.diff", ("a", "n", "axis"), _diff, {"n": 1, "axis": -1},
                     frozenset({"n", "axis"})),
    np.interp: Routine("np.interp", ("x", "xp", "fp", "left", "right"), _interp,
                       {"left": None, "right": None}),
    np.convolve: Routine("np.convolve", ("a", "v", "mode"), _convolve, {"mode": "full"},
                         frozenset({"mode"})),
    np.histogram: Routine("np.histogram", ("a", "bins", "range"), _histogram,
                          {"bins": 10, "range": None}, frozenset({"bins", "range"})),
    np.cov: Routine("np.cov", ("m", "y", "rowvar", "bias", "ddof"), _cov,
                    {"y": None, "rowvar": True, "bias": False, "ddof": None},
                    frozenset({"rowvar", "bias", "ddof"})),
}


ROUTINES.update(prelude_numeric.ROUTINES)
ROUTINES.update(scalars.ROUTINES)  # math.factorial/comb/perm


def lookup(target: Any) -> Routine | None:
    try:
        return ROUTINES.get(target)
    except TypeError:  # unhashable values are never routines
        return None


@functools.cache
def _sources() -> tuple[str, ...]:
    """The prelude modules and this table (its pickers choose what runs), as text."""
    modules = (pa, pl, pn, ps, psel, pscalars, prelude_numeric, scalars, sys.modules[__name__])
    return tuple(f"{m.__name__}\n{inspect.getsource(m)}" for m in modules)


def _reaches_prelude(target: Any) -> bool:
    """A routine of this table, or a `select` builtin row (frontend/selection.py)."""
    row = builtins.lookup(target)
    return lookup(target) is not None or (row is not None and row.rule == "select")


def sources_read(tree: ast.AST, lookup_name: Any) -> list[str]:
    """The prelude sources a kernel's calls may reach (all of them, if it calls a routine or
    np.sort/np.searchsorted/...), for its cache key; `lookup_name` resolves a global name as
    the kernel's source does. (Masks and index arrays, found only by typing, are covered by
    the key's fingerprint of Ember's own files, driver/cachekey.py.)"""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _reaches_prelude(_resolve(node.func, lookup_name)):
            return list(_sources())
    return []


def _resolve(node: ast.expr, lookup_name: Any) -> Any:
    if isinstance(node, ast.Name):
        found, value = lookup_name(node.id)
        return value if found else None
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, lookup_name)
        return getattr(base, node.attr, None) if base is not None else None
    return None
