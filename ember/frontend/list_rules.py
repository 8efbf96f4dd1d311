"""Frontend: typing rules of the internal list builtins that lists.py writes.

A list is a 1-D buffer array and a length (lists.py). Its element type is the NumPy promotion
of every value stored in it, which the creation `__ember_list_new(name, k, annotation, *values)`
types (values not typed yet are skipped while inference iterates, and the buffer variable's
types join by promotion: `join`), unless the list is annotated; the other rules index, grow,
copy and reduce the buffer, mostly by calls of ember/prelude/lists.py routines.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any, Final

from .. import types as T
from ..prelude import lists as routines
from . import arrays, builtins, prelude, tir
from .annotations import eval_annotation
from .bounds import lower_bound
from .exits import RETVAL
from .list_methods import ARRAY, CALL, CALLS, GET, GROW, INDEX, LEN, NEW, RETURN, VALUE
from .operators import Typer, cast
from .scope import Pending, Scope

_ELEMENTS = "lists in kernels hold numbers (of one type)"
_ROWS = "; for a list of arrays use a 2-D array, e.g. np.zeros((k, n)) filled row by row"


def call(typer: Typer, node: ast.Call, row: builtins.Builtin) -> tir.Expr:
    """The rule of internal list builtin `row.op` (a name in list_methods.INTERNALS)."""
    return _RULES[row.op](typer, node)


def join(scope: Scope, name: str, old: T.Type, new: T.Type) -> T.Type | None:
    """The type of variable `name` assigned `old` and `new`: a list's buffer promotes its
    element type (as a variable assigned an int and a float is a float); else `T.join`."""
    if (LEN + name in scope.assigned and isinstance(old, T.Array)
            and isinstance(new, T.Array) and old.ndim == new.ndim == 1):
        return T.Array(T.promote(old.dtype, new.dtype).strong(), 1)
    return T.join(old, new)


# --- creation --------------------------------------------------------------------------------
def _new(typer: Typer, node: ast.Call) -> tir.Expr:
    name, count, room = (_constant(node.args[k]) for k in (0, 1, 3))
    annotation, rest = node.args[2], node.args[4:]
    values = rest if count >= 0 else rest[1:]
    source = typer.expr(rest[0]) if count < 0 else None
    dtype = _element_type(typer, node, name, annotation, values, source)
    span = typer.src.span(node)
    if source is not None:
        assert isinstance(source.type, T.Array)
        return source if source.type.dtype == dtype else arrays.astype(typer, node, source,
                                                                       dtype)
    if count == 0:  # an empty list: room for its appends (lists.py's capacity)
        return tir.Alloc(T.Array(dtype, 1), span, (tir.Const(T.i64, span, room),), None)
    items = [cast(_fits(typer, v, typer.expr(v), dtype, name), dtype) for v in rest[:count]]
    spare = [tir.Const(dtype, span, False if dtype.is_bool else 0)] * (room - count)
    return tir.ArrayLiteral(T.Array(dtype, 1), span, (room,), (*items, *spare))


def _element_type(typer: Typer, node: ast.Call, name: str, annotation: ast.expr,
                  values: list[ast.expr], source: tir.Expr | None) -> T.Scalar:
    """The list's dtype: annotated, else the promotion of its values (so far)."""
    if not (isinstance(annotation, ast.Constant) and annotation.value is None):
        declared = eval_annotation(typer.src, annotation)
        if not isinstance(declared, T.Scalar):
            raise typer.error(annotation, f"{_ELEMENTS}, not {declared}")
        return declared.strong()
    found = typer.scope.var_type(name) if typer.scope.final and name else None
    if isinstance(found, T.Array):
        return found.dtype  # the promotion inference settled on
    first = [source.type.dtype] if source is not None and isinstance(source.type, T.Array) \
        else []
    dtype = _promotion(typer, name, values, first)
    if dtype is None:
        raise typer.error(node, f"cannot infer the element type of the empty list '{name}': "
                          f"give it a first element or annotate it, e.g. "
                          f"{name}: list[float] = []")
    return dtype


def _promotion(typer: Typer, name: str, values: list[ast.expr],
               first: list[T.Scalar]) -> T.Scalar | None:
    """The promotion of the types of `values` that can be typed now (None if there are no
    values). Values that read the list itself (`b.append(b[-1] / 2)`) are typed with the list
    at the promotion so far, until it settles, so the list's first type already holds them."""
    scope = typer.scope
    before = scope.vars.get(name)
    dtype: T.Scalar | None = None
    try:
        for _ in range(4):
            types, waiting = list(first), False
            for v in values:
                try:
                    types.append(_scalar(typer, v, typer.expr(v)))
                except Pending:
                    waiting = True
            if not types:
                if waiting:
                    raise Pending(name)
                return None
            found = _promote_all(types)
            if found == dtype:
                break
            dtype = found
            if name and not scope.final:
                scope.vars[name] = T.Array(dtype, 1)
    finally:
        if name and not scope.final:
            _restore(scope, name, before)
    return dtype


def _promote_all(types: list[T.Scalar]) -> T.Scalar:
    dtype = types[0].strong()
    for t in types[1:]:
        dtype = T.promote(dtype, t.strong())
    return dtype


def _restore(scope: Scope, name: str, before: T.Type | None) -> None:
    if before is None:
        scope.vars.pop(name, None)
    else:
        scope.vars[name] = before


def _scalar(typer: Typer, node: ast.expr, value: tir.Expr) -> T.Scalar:
    if not isinstance(value.type, T.Scalar):
        raise typer.error(node, f"{_ELEMENTS}, not {value.type}"
                          f"{_ROWS if isinstance(value.type, T.Array) else ''}")
    return value.type


def _fits(typer: Typer, node: ast.expr, value: tir.Expr, dtype: T.Scalar,
          name: str) -> tir.Expr:
    """`value`, stored into a list of `dtype`: refused if the list's type cannot hold it
    (only an annotated list can be too narrow: the others promote)."""
    t = _scalar(typer, node, value)
    if T.promote(dtype, t).strong() != dtype:
        shown = f"list '{name}'" if name else "this list"
        raise typer.error(node, f"{shown} holds {dtype}, but this value is {t}; convert it "
                          f"explicitly, e.g. {dtype}(...), or annotate it "
                          f"list[{t.strong()}]")
    return value


def _constant(node: ast.expr) -> Any:
    """A constant argument lists.py wrote (a name, a count, a flag)."""
    assert isinstance(node, ast.Constant)
    return node.value


def _length(typer: Typer, node: ast.expr) -> tir.Expr:
    """A list's length variable: a Python int (known before inference reaches it)."""
    if isinstance(node, ast.Name) and node.id.startswith(LEN):
        return tir.Var(T.py_int, typer.src.span(node), node.id)
    return typer.expr(node)


# --- elements --------------------------------------------------------------------------------
def _value(typer: Typer, node: ast.Call) -> tir.Expr:
    """`__ember_list_value(b, v)`: `v`, checked to fit list `b`."""
    buffer, value_node = node.args
    value = typer.expr(value_node)
    _scalar(typer, value_node, value)
    if not typer.scope.final:
        return value
    array = typer.expr(buffer)
    assert isinstance(array.type, T.Array)
    return _fits(typer, value_node, value, array.type.dtype, ast.unparse(buffer))


def _get(typer: Typer, node: ast.Call) -> tir.Expr:
    """`b[i]`: Python's index (wrapped, checked under boundscheck) into the buffer."""
    buffer, length, index = node.args
    array = typer.expr(buffer)
    assert isinstance(array.type, T.Array)
    k = _index(typer, index, _length(typer, length))
    return tir.Load(array.type.dtype, typer.src.span(node), array, (k,), (False,))


def _index_rule(typer: Typer, node: ast.Call) -> tir.Expr:
    """The buffer index of `b[i] = v` (store: CPython's message for assignments)."""
    index, length, store = node.args
    return _index(typer, index, _length(typer, length), _constant(store))


def _index(typer: Typer, node: ast.expr, length: tir.Expr, store: bool = False) -> tir.Expr:
    i = typer.expr(node)
    t = i.type
    if not (isinstance(t, T.Scalar) and (t.is_int or t.is_bool)):
        raise typer.error(node, f"list indices must be integers, not {t}")
    i, n = cast(i, T.i64), cast(length, T.i64)
    checks = typer.scope.callees.checks
    if checks is not None and checks.boundscheck:
        check = routines.checked_store_index if store else routines.checked_index
        return cast(prelude.specialize(typer, node, check, [i, n]), T.i64)
    bound = lower_bound(node, typer.scope.lower_bounds)
    if bound is not None and bound >= 0:
        return i
    span = typer.src.span(node)
    negative = tir.Compare(T.boolean, span, "lt", i, tir.Const(T.i64, span, 0))
    return tir.IfExp(T.i64, span, negative, tir.BinOp(T.i64, span, "add", i, n), i)


# --- the buffer ------------------------------------------------------------------------------
def _grow(typer: Typer, node: ast.Call) -> tir.Expr:
    buffer, length, ad = node.args
    array = typer.expr(buffer)
    assert isinstance(array.type, T.Array)
    if _constant(ad):
        raise typer.error(node, f"list '{ast.unparse(buffer)}' grows by a number of elements "
                          "known only at run time (appends in a loop, extend by a list), so "
                          "its buffer is reallocated, which derivatives (grad, jvp, vjp) do "
                          "not support; preallocate an array instead: out = np.empty(n), "
                          "then out[i] = ...")
    return prelude.specialize(typer, node, routines.grow, [array, _length(typer, length)])


def _array(typer: Typer, node: ast.Call) -> tir.Expr:
    """`np.array(b)`, a list given to a NumPy function: a new array of its elements."""
    return prelude.specialize(typer, node, routines.to_array,
                              [typer.expr(node.args[0]), _length(typer, node.args[1])])


def _return(typer: Typer, node: ast.Call) -> tir.Expr:
    """`return b`: a new array of the elements, if the kernel is annotated to return one."""
    want = typer.scope.declared.get(RETVAL)
    item = _constant(node.args[2])
    if item >= 0 and isinstance(want, T.Tuple) and item < len(want.items):
        want = want.items[item]
    name = ast.unparse(node.args[0])
    if not (isinstance(want, T.Array) and want.ndim == 1):
        shown = f"'-> {want}'" if want is not None else "no return annotation"
        raise typer.error(node, f"list '{name}' is returned as a NumPy array, but the kernel "
                          f"has {shown}; annotate it, e.g. '-> f64[:]'")
    array = prelude.specialize(typer, node, routines.to_array,
                               [typer.expr(node.args[0]), _length(typer, node.args[1])])
    assert isinstance(array.type, T.Array)
    have = array.type.dtype
    if have == want.dtype:
        return array
    if T.promote(have, want.dtype) != want.dtype:
        raise typer.error(node, f"list '{name}' holds {have}, which the kernel's return "
                          f"type {want} cannot hold; convert the elements or annotate "
                          f"'-> {have}[:]'")
    return arrays.astype(typer, node, array, want.dtype)


def _call(typer: Typer, node: ast.Call) -> tir.Expr:
    """`sum(b)`, `min(b)`, `max(b)`, `x in b`, `b.pop()`'s index, `b[i:j]`."""
    what = _constant(node.args[0])
    args = [typer.expr(a) for a in node.args[1:]]
    if what == "in":
        _scalar(typer, node.args[3], args[2])
    if what == "slice":
        for a, arg in zip(node.args[3:], args[2:], strict=True):
            t = arg.type
            if not (isinstance(t, T.Scalar) and (t.is_int or t.is_bool)):
                raise typer.error(a, f"slice indices must be integers, not {t}")
        args[2:] = [cast(a, T.i64) for a in args[2:]]
    return prelude.specialize(typer, node, getattr(routines, CALLS[what]), args)


_RULES: Final[dict[str, Callable[[Typer, ast.Call], tir.Expr]]] = {
    NEW: _new, GROW: _grow, GET: _get, INDEX: _index_rule, VALUE: _value, ARRAY: _array,
    RETURN: _return, CALL: _call,
}
