"""Frontend: array creation and shape methods -> `tir.Generate`, `tir.ArrayLiteral`,
`tir.Reshape` (and `tir.Fill` for `a.fill(v)`).

Input: calls of the `create` builtin rows (np.arange, np.linspace, np.eye, np.identity,
np.copy, np.array, np.asarray) and the array methods `.copy() .reshape() .ravel()
.flatten() .fill()`. Output: typed-tree nodes. np.zeros/ones/empty/full and the `*_like`
forms stay `tir.Alloc` (calls.py). Values follow NumPy's own formulas, so results match it
bit for bit: np.arange fills `start + i * delta` with `delta = (start + step) - start` in
the result dtype, np.linspace computes `i * step + start` (`(i / div) * delta + start` when
the step is 0) and sets the last element to `stop`. A reshape is a view when the array is
C-contiguous at run time and a C-ordered copy otherwise (ir/creation.py); derivative builds
refuse it (Enzyme differentiates no reinterpreted memref, docs/enzyme-views.md) but take
every copying form. `inline_dtype_aliases` (run by desugar.py) replaces a variable holding
a dtype (`dt = x.dtype`) by its definition, so every dtype argument is known at compile time.
"""

from __future__ import annotations

import ast
import copy as _copy
from collections.abc import Callable
from typing import Final

from .. import types as T
from ..errors import Span
from . import arrays, builtins, tir
from .operators import Typer, cast, truth
from .raises import add_site

DtypeOf = Callable[[Typer, ast.expr], T.Scalar]
_NEGATIVE: Final = "negative dimensions are not allowed"
_DTYPE_NAMES: Final = frozenset({
    "float", "int", "bool", "bool_", "float32", "float64", "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64", "f32", "f64", "i8", "i16", "i32", "i64", "u8",
    "u16", "u32", "u64", "double", "single", "intp", "dtype"})


# --- arguments -------------------------------------------------------------------------------
def _bind(typer: Typer, node: ast.Call, name: str, params: list[str],
          required: int) -> dict[str, ast.expr]:
    """The call's arguments by parameter name (NumPy's positional order)."""
    if any(isinstance(a, ast.Starred) for a in node.args) or len(node.args) > len(params):
        raise typer.error(node, f"{name}() takes at most {len(params)} arguments "
                          f"({', '.join(params)}) in kernels")
    bound = dict(zip(params, node.args, strict=False))
    for k in node.keywords:
        if k.arg is None or k.arg not in params or k.arg in bound:
            raise typer.error(k.value if k.arg else node, f"{name}() got an unsupported or "
                              f"repeated argument '{k.arg}'; it takes {', '.join(params)}")
        bound[k.arg] = k.value
    if any(p not in bound for p in params[:required]):
        raise typer.error(node, f"{name}() needs the arguments {', '.join(params[:required])}")
    return bound


def _scalar(typer: Typer, node: ast.expr, what: str, ints: bool = False) -> tir.Expr:
    value = typer.expr(node)
    t = value.type
    if not isinstance(t, T.Scalar) or (ints and t.is_float):
        kind = "an integer" if ints else "a number"
        raise typer.error(node, f"{what} must be {kind}, not {t}")
    return value


def _size(typer: Typer, node: ast.expr, what: str) -> tir.Expr:
    return cast(_scalar(typer, node, what, ints=True), T.i64)


def _stype(e: tir.Expr) -> T.Scalar:
    assert isinstance(e.type, T.Scalar)
    return e.type


class _Inputs:
    """Scalar operands evaluated once before a `Generate` loop nest (`Elem` placeholders)."""

    def __init__(self) -> None:
        self.values: list[tir.Expr] = []

    def __call__(self, value: tir.Expr) -> tir.Expr:
        if isinstance(value, tir.Const):
            return value
        self.values.append(value)
        return tir.Elem(value.type, value.span, len(self.values) - 1)


def _i(span: Span, value: int) -> tir.Expr:
    return tir.Const(T.i64, span, value)


def _bin(t: T.Scalar, op: str, a: tir.Expr, b: tir.Expr) -> tir.Expr:
    return tir.BinOp(t, a.span, op, cast(a, t), cast(b, t))


def _negative_site(typer: Typer, node: ast.AST, template: str,
                   sizes: list[tir.Expr]) -> int | None:
    """The ValueError site for negative `sizes` (None where they are constants >= 0)."""
    if all(isinstance(s, tir.Const) and s.value >= 0 for s in sizes):
        return None
    ndim = len(sizes)
    return add_site(typer.scope.callees, "ValueError", template, "q" * ndim,
                    typer.src.span(node), typer.src.name)


def _cast_to(value: tir.Expr, dtype: T.Scalar) -> tir.Expr:
    return cast(truth(value), dtype) if dtype.is_bool else cast(value, dtype)


# --- np.arange, np.linspace, np.eye, np.identity -----------------------------------------------
def _arange(typer: Typer, node: ast.Call, row: builtins.Builtin, dtype_of: DtypeOf) -> tir.Expr:
    dtype_node = None
    args = list(node.args)
    keys = {k.arg: k.value for k in node.keywords}
    if set(keys) - {"dtype"} or not 1 <= len(args) <= 4:
        raise typer.error(node, "np.arange() is supported as np.arange([start,] stop[, step]"
                          "[, dtype]) with positional bounds")
    if len(args) == 4:
        dtype_node = args.pop()
    dtype_node = keys.get("dtype", dtype_node)
    values = [_scalar(typer, a, "np.arange() bounds") for a in args]
    span = typer.src.span(node)
    if len(values) == 1:
        values.insert(0, tir.Const(T.py_int, span, 0))
    if len(values) == 2:
        values.append(tir.Const(T.py_int, span, 1))
    t = T.f64 if any(_stype(v).is_float for v in values) else T.i64
    dtype = dtype_of(typer, dtype_node) if dtype_node is not None else t
    start, stop, step = (cast(v, t) for v in values)
    zero = add_site(typer.scope.callees, "ZeroDivisionError", "division by zero", "", span,
                    typer.src.name)
    divisor = step
    if t.is_float:
        ratio = tir.BinOp(t, span, "truediv", _bin(t, "sub", stop, start), divisor, zero)
        length: tir.Expr = tir.Cast(T.i64, span, tir.Call(t, span, "ceil", (ratio,)))
    else:  # ceil((stop - start) / step) exactly: -((start - stop) // step)
        floor = tir.BinOp(t, span, "floordiv", _bin(t, "sub", start, stop), divisor, zero)
        length = tir.UnaryOp(T.i64, span, "neg", floor)
    length = tir.Call(T.i64, span, "max", (length, _i(span, 0)))
    inputs = _Inputs()
    first = inputs(_cast_to(start, dtype))
    delta = _bin(dtype, "sub", inputs(_cast_to(_bin(t, "add", start, step), dtype)), first)
    index = cast(tir.Coord(T.i64, span, 0), dtype)
    body = _bin(dtype, "add", first, _bin(dtype, "mul", index, delta))
    return tir.Generate(T.Array(dtype, 1), span, (length,), tuple(inputs.values), body)


def _linspace(typer: Typer, node: ast.Call, row: builtins.Builtin,
              dtype_of: DtypeOf) -> tir.Expr:
    args = _bind(typer, node, "np.linspace", ["start", "stop", "num", "endpoint", "retstep",
                                              "dtype"], 2)
    if "retstep" in args:
        raise typer.error(args["retstep"], "np.linspace(retstep=...) is not supported in "
                          "kernels; compute the step as (stop - start) / (num - 1)")
    span = typer.src.span(node)
    start, stop = (_scalar(typer, args[k], f"np.linspace() {k}") for k in ("start", "stop"))
    t = T.promote(T.float_of(T.arith_operand(_stype(start))),
                  T.float_of(T.arith_operand(_stype(stop)))).strong()
    num = _size(typer, args["num"], "np.linspace() num") if "num" in args else _i(span, 50)
    endpoint = (truth(_scalar(typer, args["endpoint"], "endpoint")) if "endpoint" in args
                else tir.Const(T.boolean, span, True))
    dtype = dtype_of(typer, args["dtype"]) if "dtype" in args else t
    inputs = _Inputs()
    a, b, n, end = (inputs(v) for v in (cast(start, t), cast(stop, t), num, endpoint))
    body = _linspace_body(t, span, a, b, n, end)
    if dtype.is_int:
        body = tir.Call(t, span, "floor", (body,))
    site = _negative_site(typer, node, "Number of samples, {0}, must be non-negative.", [num])
    return tir.Generate(T.Array(dtype, 1), span, (num,), tuple(inputs.values),
                        _cast_to(body, dtype), site)


def _linspace_body(t: T.Scalar, span: Span, start: tir.Expr, stop: tir.Expr,
                   num: tir.Expr, endpoint: tir.Expr) -> tir.Expr:
    """NumPy's element i: `i * step + start` (see the module docstring)."""
    div = _bin(T.i64, "sub", num, cast(endpoint, T.i64))
    i = cast(tir.Coord(T.i64, span, 0), t)
    delta = _bin(t, "sub", stop, start)
    step = _bin(t, "truediv", delta, div)
    zero = tir.Const(t, span, 0.0)
    flat = _bin(t, "add", _bin(t, "mul", _bin(t, "truediv", i, div), delta), start)
    value = tir.IfExp(t, span, tir.Compare(T.boolean, span, "eq", step, zero), flat,
                      _bin(t, "add", _bin(t, "mul", i, step), start))
    positive = tir.Compare(T.boolean, span, "gt", div, _i(span, 0))
    value = tir.IfExp(t, span, positive, value, _bin(t, "add", _bin(t, "mul", i, delta), start))
    last = tir.Compare(T.boolean, span, "eq", tir.Coord(T.i64, span, 0),
                       _bin(T.i64, "sub", num, _i(span, 1)))
    more = tir.Compare(T.boolean, span, "gt", num, _i(span, 1))
    at_stop = tir.BoolOp(T.boolean, span, "and", endpoint,
                         tir.BoolOp(T.boolean, span, "and", more, last))
    return tir.IfExp(t, span, at_stop, stop, value)


def _eye(typer: Typer, node: ast.Call, row: builtins.Builtin, dtype_of: DtypeOf) -> tir.Expr:
    identity = row.op == "identity"
    params = ["n", "dtype"] if identity else ["N", "M", "k", "dtype"]
    args = _bind(typer, node, row.name, params, 1)
    span = typer.src.span(node)
    rows = _size(typer, args[params[0]], f"{row.name}() size")
    given = args.get("M")
    none = given is None or (isinstance(given, ast.Constant) and given.value is None)
    cols = rows if none or given is None else _size(typer, given, "np.eye() M")
    k = _size(typer, args["k"], "np.eye() k") if "k" in args else _i(span, 0)
    dtype = dtype_of(typer, args["dtype"]) if "dtype" in args else T.f64
    inputs = _Inputs()
    diagonal = _bin(T.i64, "sub", tir.Coord(T.i64, span, 1), tir.Coord(T.i64, span, 0))
    on = tir.Compare(T.boolean, span, "eq", diagonal, inputs(k))
    body = tir.IfExp(dtype, span, on, tir.Const(dtype, span, True if dtype.is_bool else 1),
                     tir.Const(dtype, span, False if dtype.is_bool else 0))
    site = _negative_site(typer, node, _NEGATIVE, [rows, cols])
    return tir.Generate(T.Array(dtype, 2), span, (rows, cols), tuple(inputs.values), body,
                        site)


# --- copies and literals -----------------------------------------------------------------------
def copy(typer: Typer, node: ast.AST, base: tir.Expr) -> tir.Expr:
    """A new C-contiguous array with `base`'s elements (`np.copy(a)`, `a.copy()`)."""
    assert isinstance(base.type, T.Array)
    span = typer.src.span(node)
    ndim = base.type.ndim
    elem = tir.Elem(base.type, span, 0)
    coords = tuple(tir.Coord(T.i64, span, k) for k in range(ndim))
    body = tir.Load(base.type.dtype, span, elem, coords, (False,) * ndim)
    shape = tuple(cast(tir.Dim(T.py_int, span, base, k), T.i64) for k in range(ndim))
    return tir.Generate(base.type, span, shape, (base,), body)


def flatten(typer: Typer, node: ast.AST, base: tir.Expr) -> tir.Expr:
    """`a.flatten()`: a new 1-D array of the elements in C order (always a copy)."""
    assert isinstance(base.type, T.Array)
    span = typer.src.span(node)
    ndim = base.type.ndim
    elem = tir.Elem(base.type, span, 0)
    dims = [cast(tir.Dim(T.py_int, span, elem, k), T.i64) for k in range(ndim)]
    index, coords = tir.Coord(T.i64, span, 0), []
    for k in range(ndim):  # coordinate k of flat index i: (i // prod(dims[k+1:])) % dims[k]
        inner: tir.Expr = index
        for d in dims[k + 1:]:
            inner = tir.BinOp(T.i64, span, "floordiv", inner, d)
        coords.append(tir.BinOp(T.i64, span, "mod", inner, dims[k]) if k else inner)
    body = tir.Load(base.type.dtype, span, elem, tuple(coords), (False,) * ndim)
    size: tir.Expr = _i(span, 1)
    for k in range(ndim):
        size = _bin(T.i64, "mul", size, cast(tir.Dim(T.py_int, span, base, k), T.i64))
    return tir.Generate(T.Array(base.type.dtype, 1), span, (size,), (base,), body)


def _np_copy(typer: Typer, node: ast.Call, row: builtins.Builtin,
             dtype_of: DtypeOf) -> tir.Expr:
    args = _bind(typer, node, row.name, ["a"] if row.op == "copy" else ["a", "dtype"], 1)
    if row.op != "copy" and isinstance(args["a"], ast.List | ast.Tuple):
        return _literal(typer, node, args["a"], args.get("dtype"), dtype_of)
    base = typer.expr(args["a"])
    if isinstance(base.type, T.Tuple) and row.op != "copy":
        return _tuple_array(typer, node, base, args.get("dtype"), dtype_of)
    if not isinstance(base.type, T.Array):
        raise typer.error(args["a"], f"{row.name}() of a {base.type} (a 0-d array) is not "
                          "supported in kernels; pass an array or a list of scalars")
    if "dtype" in args:
        dtype = dtype_of(typer, args["dtype"])
        if dtype != base.type.dtype:
            return arrays.astype(typer, node, base, dtype)
    return base if row.op == "asarray" else copy(typer, node, base)


def _literal(typer: Typer, node: ast.Call, items: ast.List | ast.Tuple,
             dtype_node: ast.expr | None, dtype_of: DtypeOf) -> tir.Expr:
    """`np.array([[a, b], [c, d]])`: a new array of the nested lists' (constant) shape."""
    shape: list[int] = []
    flat = _flatten_list(typer, items, shape, 0)
    values = [typer.expr(v) for v in flat]
    for v, src in zip(values, flat, strict=True):
        if not isinstance(v.type, T.Scalar):
            raise typer.error(src, f"np.array() of a list takes scalars, not {v.type}; "
                              "build arrays of arrays with a loop")
    dtype = _common_dtype(typer, values, dtype_node, dtype_of)
    span = typer.src.span(node)
    return tir.ArrayLiteral(T.Array(dtype, len(shape)), span, tuple(shape),
                            tuple(_cast_to(v, dtype) for v in values))


def _common_dtype(typer: Typer, values: list[tir.Expr], dtype_node: ast.expr | None,
                  dtype_of: DtypeOf) -> T.Scalar:
    """The given dtype, else NumPy's for a list: Python scalars count as int64/float64 here
    (array coercion does not treat them as weak), float64 for an empty list."""
    if dtype_node is not None:
        return dtype_of(typer, dtype_node)
    dtype = T.f64 if not values else _stype(values[0]).strong()
    for v in values[1:]:
        dtype = T.promote(dtype, _stype(v).strong())
    return dtype


def _tuple_array(typer: Typer, node: ast.Call, value: tir.Expr, dtype_node: ast.expr | None,
                 dtype_of: DtypeOf) -> tir.Expr:
    """`np.array(a.shape)`: a 1-D array of a tuple value's (scalar) items."""
    assert isinstance(value.type, T.Tuple)
    items: list[tir.Expr] = (list(value.items) if isinstance(value, tir.TupleExpr) else
                             [tir.TupleGet(t, value.span, value, k)
                              for k, t in enumerate(value.type.items)])
    if not all(isinstance(i.type, T.Scalar) for i in items):
        raise typer.error(node, f"np.array() of a {value.type} is not supported in kernels; "
                          "its items must be scalars")
    dtype = _common_dtype(typer, items, dtype_node, dtype_of)
    return tir.ArrayLiteral(T.Array(dtype, 1), typer.src.span(node), (len(items),),
                            tuple(_cast_to(i, dtype) for i in items))


def _flatten_list(typer: Typer, node: ast.expr, shape: list[int], depth: int) -> list[ast.expr]:
    """The scalars of nested lists in C order; `shape` receives the lists' lengths."""
    leaves: list[tuple[ast.expr, int]] = []
    _collect(typer, node, shape, depth, leaves)
    for leaf, at in leaves:
        if at != len(shape):
            raise typer.error(leaf, _RAGGED)
    return [leaf for leaf, _ in leaves]


_RAGGED: Final = ("np.array() needs nested lists of one shape (NumPy: the requested array has "
                  "an inhomogeneous shape)")


def _collect(typer: Typer, node: ast.expr, shape: list[int], depth: int,
             leaves: list[tuple[ast.expr, int]]) -> None:
    if not isinstance(node, ast.List | ast.Tuple):
        leaves.append((node, depth))
        return
    if depth == len(shape) and not leaves:
        shape.append(len(node.elts))
    elif depth >= len(shape) or shape[depth] != len(node.elts):
        raise typer.error(node, _RAGGED)
    for elt in node.elts:
        _collect(typer, elt, shape, depth + 1, leaves)


def _np_reshape(typer: Typer, node: ast.Call, row: builtins.Builtin,
                dtype_of: DtypeOf) -> tir.Expr:
    """`np.reshape(a, shape)`, `np.ravel(a)`: as the methods."""
    want = 1 if row.op == "ravel" else 2
    if node.keywords or len(node.args) != want:
        raise typer.error(node, f"{row.name}() takes {'a' if want == 1 else 'a, shape'} "
                          "in kernels (C order)")
    base = typer.expr(node.args[0])
    if not isinstance(base.type, T.Array):
        raise typer.error(node.args[0], f"{row.name}() needs an array, not {base.type}")
    if want == 1:
        return _reshape(typer, node, base, [_i(typer.src.span(node), -1)], [None])
    shape, nodes = _shape_args(typer, node, [node.args[1]])
    return _reshape(typer, node, base, shape, nodes)


FORMS: Final[dict[str, Callable[[Typer, ast.Call, builtins.Builtin, DtypeOf], tir.Expr]]] = {
    "arange": _arange, "linspace": _linspace, "eye": _eye, "identity": _eye,
    "copy": _np_copy, "array": _np_copy, "asarray": _np_copy, "reshape": _np_reshape,
    "ravel": _np_reshape,
}
"""The `create` builtin rows (builtins.py), by op key."""


def create(typer: Typer, node: ast.Call, row: builtins.Builtin, dtype_of: DtypeOf) -> tir.Expr:
    """A call of one of the creation functions in `FORMS`."""
    return FORMS[row.op](typer, node, row, dtype_of)


# --- methods -----------------------------------------------------------------------------------
METHODS: Final = frozenset({"copy", "flatten", "ravel", "reshape"})
"""The array methods `method` types."""


def method(typer: Typer, node: ast.Call, base: tir.Expr) -> tir.Expr:
    """`base.copy()`, `.flatten()`, `.ravel()`, `.reshape(...)` (the `METHODS`)."""
    assert isinstance(node.func, ast.Attribute)
    name = node.func.attr
    if name in ("copy", "flatten", "ravel"):
        if node.args or node.keywords:
            raise typer.error(node, f"{name}() takes no arguments in kernels (C order only)")
        if name == "copy":
            return copy(typer, node, base)
        if name == "flatten":
            return flatten(typer, node, base)
        return _reshape(typer, node, base, [_i(typer.src.span(node), -1)], [None])
    if name == "reshape":
        if node.keywords:
            raise typer.error(node, "reshape() takes only the shape in kernels (C order)")
        shape, nodes = _shape_args(typer, node, list(node.args))
        return _reshape(typer, node, base, shape, nodes)
    raise AssertionError(name)


def _shape_args(typer: Typer, node: ast.Call,
                parts: list[ast.expr]) -> tuple[list[tir.Expr], list[ast.expr | None]]:
    if len(parts) == 1 and isinstance(parts[0], ast.Tuple):
        parts = list(parts[0].elts)
    if len(parts) == 1:
        value = typer.expr(parts[0])
        if isinstance(value.type, T.Tuple):
            items: list[tir.Expr] = [tir.TupleGet(t, value.span, value, k)
                                     for k, t in enumerate(value.type.items)]
            if isinstance(value, tir.TupleExpr):
                items = list(value.items)
            return [_int_item(typer, parts[0], i) for i in items], [None] * len(items)
    if not parts:
        raise typer.error(node, "reshape() needs the new shape")
    return [_int_item(typer, p, typer.expr(p)) for p in parts], list(parts)


def _int_item(typer: Typer, node: ast.expr, value: tir.Expr) -> tir.Expr:
    t = value.type
    if not (isinstance(t, T.Scalar) and (t.is_int or t.is_bool)):
        raise typer.error(node, f"array shapes must be integers, not {t}")
    return cast(value, T.i64)


def _reshape(typer: Typer, node: ast.Call, base: tir.Expr, shape: list[tir.Expr],
             nodes: list[ast.expr | None]) -> tir.Expr:
    assert isinstance(base.type, T.Array)
    fixed = [s.value < 0 if isinstance(s, tir.Const) else None for s in shape]
    if sum(1 for f in fixed if f) > 1:
        raise typer.error(node, "can only specify one unknown dimension")
    fields = ["newaxis" if f else f"{{{k + 1}}}" for k, f in enumerate(fixed)]
    text = ",".join(fields) + ("," if len(fields) == 1 else "")
    span = typer.src.span(node)
    site = add_site(typer.scope.callees, "ValueError",
                    f"cannot reshape array of size {{0}} into shape ({text})",
                    "q" * (len(shape) + 1), span, typer.src.name)
    return tir.Reshape(T.Array(base.type.dtype, len(shape)), span, base, tuple(shape), site)


def fill_statement(typer: Typer, node: ast.expr) -> tir.Stmt | None:
    """`a.fill(value)` as a statement: every element of `a` set (None for other code)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "fill"):
        return None
    base = typer.expr(node.func.value)
    if not isinstance(base.type, T.Array):
        return None
    if len(node.args) != 1 or node.keywords:
        raise typer.error(node, "fill() takes one value")
    value = typer.expr(node.args[0])
    if not isinstance(value.type, T.Scalar):
        raise typer.error(node.args[0], f"fill() takes a scalar, not {value.type}")
    arrays.written(typer, node.func.value)
    dtype = base.type.dtype
    return tir.Fill(typer.src.span(node), base, _cast_to(value, dtype))


# --- dtypes held in variables ------------------------------------------------------------------
def inline_dtype_aliases(fdef: ast.FunctionDef) -> ast.FunctionDef:
    """`dt = x.dtype` (or `dt = np.float32`, assigned once) removed, and every later `dt`
    replaced by its value: dtypes are compile-time facts, not run-time values."""
    counts: dict[str, int] = {}
    values: dict[str, ast.expr] = {}
    for n in ast.walk(fdef):
        for target in _targets(n):
            counts[target.id] = counts.get(target.id, 0) + 1
            if isinstance(n, ast.Assign) and _is_dtype(n.value):
                values[target.id] = n.value
    params = {a.arg for a in fdef.args.args}
    aliases = {k: v for k, v in values.items() if counts[k] == 1 and k not in params}
    if not aliases:
        return fdef
    out = _Inline(aliases).visit(fdef)
    assert isinstance(out, ast.FunctionDef)
    return out


def _targets(n: ast.AST) -> list[ast.Name]:
    if isinstance(n, ast.Assign):
        return [t for t in n.targets if isinstance(t, ast.Name)]
    if isinstance(n, ast.AugAssign | ast.AnnAssign | ast.For) and isinstance(n.target, ast.Name):
        return [n.target]
    return []


def _is_dtype(value: ast.expr) -> bool:
    if isinstance(value, ast.Attribute) and value.attr == "dtype":
        return isinstance(value.value, ast.Name)
    if isinstance(value, ast.Attribute):
        return value.attr in _DTYPE_NAMES and isinstance(value.value, ast.Name)
    return isinstance(value, ast.Name) and value.id in ("float", "int", "bool")


class _Inline(ast.NodeTransformer):
    def __init__(self, aliases: dict[str, ast.expr]) -> None:
        self.aliases = aliases

    def visit_Assign(self, node: ast.Assign) -> ast.AST | None:
        target = node.targets[0]
        if len(node.targets) == 1 and isinstance(target, ast.Name) and target.id in self.aliases:
            return ast.copy_location(ast.Pass(), node)
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        value = self.aliases.get(node.id)
        if value is None or not isinstance(node.ctx, ast.Load):
            return node
        return ast.copy_location(_clone(value), node)


def _clone(node: ast.expr) -> ast.expr:
    return _copy.deepcopy(node)
