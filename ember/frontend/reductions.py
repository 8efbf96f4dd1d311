"""Frontend: NumPy reductions and scans -> `tir.Reduce` / `tir.Scan`.

Input: a call `np.sum(a, axis=..., keepdims=...)` (or the method `a.sum(...)`) whose operand
is any array expression. Output: one node whose `source` is an `ArrayMap` (a plain array or
view is wrapped in an identity map), so `np.sum(a * b)` reduces the fused body directly, in
one pass, with no temporary. The body is cast to the accumulator's dtype here (NumPy's
result types: sums of bool and signed ints in int64, of unsigned in uint64; means, variances
of ints in float64; arg* give int64, any/all bool), so ir/reductions.py only combines.
`axis` must be a constant int (negative counts from the end) or tuple of them, or None;
`keepdims` a constant bool. `out=` is refused.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Final

from .. import types as T
from . import arrays, builtins, tir
from .operators import Typer, cast, truth
from .raises import add_site

DtypeOf = Callable[[Typer, ast.expr], T.Scalar]

PARAMS: Final[dict[str, tuple[str, ...]]] = {
    **dict.fromkeys(["sum", "prod", "mean"], ("axis", "dtype", "out", "keepdims")),
    **dict.fromkeys(["var", "std"], ("axis", "dtype", "out", "ddof", "keepdims")),
    **dict.fromkeys(["min", "max", "argmin", "argmax", "any", "all"],
                    ("axis", "out", "keepdims")),
    **dict.fromkeys(["cumsum", "cumprod"], ("axis", "dtype", "out")),
}
"""Each reduction's parameters after the array, in NumPy's positional order."""
METHODS: Final = frozenset(PARAMS)
"""Array methods that are reductions (`a.sum()`, `a.argmax(axis=0)`, ...)."""
_EMPTY: Final = {"min": "zero-size array to reduction operation minimum which has no identity",
                 "max": "zero-size array to reduction operation maximum which has no identity",
                 "argmin": "attempt to get argmin of an empty sequence",
                 "argmax": "attempt to get argmax of an empty sequence"}
_FLOAT_RESULT: Final = frozenset({"mean", "var", "std"})


def call(typer: Typer, node: ast.Call, row: builtins.Builtin, dtype_of: DtypeOf) -> tir.Expr:
    """`np.sum(a, ...)` and the other reduction functions (row.op names the kind)."""
    if not node.args:
        raise typer.error(node, f"{row.name}() needs an array argument")
    value = typer.expr(node.args[0])
    return _reduction(typer, node, row.op, row.name, value, node.args[0], node.args[1:],
                      dtype_of)


def method(typer: Typer, node: ast.Call, kind: str, base: tir.Expr,
           dtype_of: DtypeOf) -> tir.Expr:
    """`a.sum(...)`, `a.max(axis=0)`, ... of an array `a` (`base`, typed)."""
    assert isinstance(node.func, ast.Attribute)
    return _reduction(typer, node, kind, kind, base, node.func.value, list(node.args),
                      dtype_of)


def _reduction(typer: Typer, node: ast.Call, kind: str, name: str, value: tir.Expr,
               operand: ast.expr, rest: list[ast.expr], dtype_of: DtypeOf) -> tir.Expr:
    args = _bind(typer, node, name, PARAMS[kind], rest)
    if isinstance(value.type, T.Scalar):  # np.sum(x) of a scalar: a 1-element array
        raise typer.error(operand, f"{name}() of a scalar is not supported in kernels; "
                          "it needs an array")
    if not isinstance(value.type, T.Array):
        raise typer.error(operand, f"{name}() needs an array, not {value.type}")
    ndim = value.type.ndim
    if "out" in args:
        raise typer.error(args["out"], f"{name}(out=...) is not supported in kernels; "
                          "assign the result instead")
    dtype = dtype_of(typer, args["dtype"]) if "dtype" in args else None
    if kind in ("cumsum", "cumprod"):
        axis = _axes(typer, args.get("axis"), ndim, single=True)
        return _scan(typer, node, kind, value, None if axis is None else axis[0], dtype)
    axes = _axes(typer, args.get("axis"), ndim, single=kind.startswith("arg"))
    keep = _keepdims(typer, args.get("keepdims"))
    ddof = _ddof(typer, args.get("ddof"))
    return _reduce(typer, node, kind, value, axes or tuple(range(ndim)), keep, ddof, dtype)


def _bind(typer: Typer, node: ast.Call, name: str, params: tuple[str, ...],
          rest: list[ast.expr]) -> dict[str, ast.expr]:
    """Positional and keyword arguments by parameter name (None constants dropped)."""
    if len(rest) > len(params):
        raise typer.error(node, f"{name}() takes at most {len(params) + 1} positional "
                          "arguments in kernels")
    bound = dict(zip(params, rest, strict=False))
    for k in node.keywords:
        if k.arg is None or k.arg not in params:
            what = "**kwargs" if k.arg is None else f"'{k.arg}'"
            raise typer.error(k.value if k.arg is None else node,
                              f"{name}() got an unexpected keyword argument {what}; it takes "
                              + ", ".join(params))
        if k.arg in bound:
            raise typer.error(k.value, f"{name}() got multiple values for '{k.arg}'")
        bound[k.arg] = k.value
    return {k: v for k, v in bound.items()
            if not (isinstance(v, ast.Constant) and v.value is None)}


def _constant(typer: Typer, node: ast.expr, want: type, what: str) -> int:
    value = typer.expr(node)
    if (isinstance(value, tir.Const) and isinstance(value.value, want)
            and (want is bool or not isinstance(value.value, bool))):
        return int(value.value)
    raise typer.error(node, f"{what} must be a constant {want.__name__} in kernels")


def _axes(typer: Typer, node: ast.expr | None, ndim: int,
          single: bool) -> tuple[int, ...] | None:
    """The reduced axes, normalized and sorted (None: every axis)."""
    if node is None:
        return None
    items = node.elts if isinstance(node, ast.Tuple) and not single else [node]
    out: list[int] = []
    for item in items:
        axis = _constant(typer, item, int, "axis")
        if not -ndim <= axis < ndim:
            raise typer.error(item, f"axis {axis} is out of bounds for array of dimension "
                              f"{ndim}")
        axis %= ndim
        if axis in out:
            raise typer.error(item, "duplicate value in 'axis'")
        out.append(axis)
    return tuple(sorted(out))


def _keepdims(typer: Typer, node: ast.expr | None) -> bool:
    return node is not None and bool(_constant(typer, node, bool, "keepdims"))


def _ddof(typer: Typer, node: ast.expr | None) -> tir.Expr | None:
    if node is None:
        return None
    value = typer.expr(node)
    if not (isinstance(value.type, T.Scalar) and not value.type.is_bool):
        raise typer.error(node, f"ddof must be a number, not {value.type}")
    return cast(value, T.f64)


COMPLEX_KINDS: Final = frozenset({"sum", "prod", "mean", "any", "all"})
"""The reductions of complex arrays Ember supports (NumPy orders complex values
lexicographically for min/max; var/std give floats)."""


def _sum_dtype(t: T.Scalar) -> T.Scalar:
    """NumPy's accumulator of add/multiply reductions: the platform int for bool and signed
    ints, uint64 for unsigned ones, floats their own dtype."""
    if t.is_float or t.is_complex:
        return t
    return T.u64 if t.kind == "u" else T.i64


def _accumulator(kind: str, t: T.Scalar, dtype: T.Scalar | None) -> T.Scalar:
    if kind in ("any", "all"):
        return T.boolean
    if kind in ("min", "max", "argmin", "argmax"):
        return t
    if kind in _FLOAT_RESULT:
        return dtype or (t if t.is_float or t.is_complex else T.f64)
    return dtype or _sum_dtype(t)


def _source(typer: Typer, node: ast.Call, value: tir.Expr, acc: T.Scalar,
            kind: str) -> tir.ArrayMap:
    """`value` as an ArrayMap whose body is of `acc` (a fused expression is reused)."""
    def convert(e: tir.Expr) -> tir.Expr:
        return truth(e) if acc.is_bool and kind in ("any", "all") else cast(e, acc)
    mapped = arrays.lift(typer, node, [value], convert)
    assert isinstance(mapped, tir.ArrayMap)
    return mapped


def _reduce(typer: Typer, node: ast.Call, kind: str, value: tir.Expr, axes: tuple[int, ...],
            keep: bool, ddof: tir.Expr | None, dtype: T.Scalar | None) -> tir.Expr:
    assert isinstance(value.type, T.Array)
    t = value.type.dtype
    if kind in ("sum", "prod") and dtype is not None and dtype.is_bool:
        raise typer.error(node, f"{kind}(dtype=bool) is not supported in kernels; use "
                          f"{'any' if kind == 'sum' else 'all'}()")
    if t.is_complex and kind not in COMPLEX_KINDS:
        raise typer.error(node, f"{kind}() of a complex array is not supported in kernels; "
                          "reduce np.abs(a), a.real or a.imag instead")
    acc = _accumulator(kind, t, dtype)
    if kind in _FLOAT_RESULT and not (acc.is_float or (kind == "mean" and acc.is_complex)):
        raise typer.error(node, f"{kind}() needs a float dtype in kernels, not {acc}")
    source = _source(typer, node, value, acc, kind)
    result = T.i64 if kind.startswith("arg") else acc
    ndim = value.type.ndim
    rtype: T.Type = result
    if keep or len(axes) < ndim:
        rtype = T.Array(result, ndim if keep else ndim - len(axes))
    span = typer.src.span(node)
    site = None
    if kind in _EMPTY:
        site = add_site(typer.scope.callees, "ValueError", _EMPTY[kind], "", span,
                        typer.src.name)
    return tir.Reduce(rtype, span, kind, source, axes, keep, ddof, site)


def _scan(typer: Typer, node: ast.Call, kind: str, value: tir.Expr, axis: int | None,
          dtype: T.Scalar | None) -> tir.Expr:
    assert isinstance(value.type, T.Array)
    if dtype is not None and dtype.is_bool:
        raise typer.error(node, f"{kind}(dtype=bool) is not supported in kernels")
    acc = dtype or _sum_dtype(value.type.dtype)
    source = _source(typer, node, value, acc, kind)
    ndim = value.type.ndim if axis is not None else 1
    return tir.Scan(T.Array(acc, ndim), typer.src.span(node), kind[3:], source, axis)
