"""Frontend: sorting, searching, boolean masks, index arrays, counts and joins -> typed tree.

Input: calls of the `select` builtin rows (np.sort, np.argsort, np.searchsorted,
np.flatnonzero, np.count_nonzero, np.nonzero(a)[0], np.concatenate, np.stack, np.hstack,
np.vstack), the methods `a.sort()`/`a.argsort()`, subscripts by a boolean or integer array
(`a[mask]`, `a[idx]`, `A[idx]`) and stores through one (`a[mask] = v`, `a[idx] += v`).
Output: `tir.KernelCall`s of the Ember-written functions of ember/prelude/selection.py,
specialized like every prelude routine (prelude.specialize: per argument types, and per call
site with spans pinned to the call for those that raise), so they are typed, emitted and
differentiated like user kernels. A join is one `tir.Generate` whose body picks the input
array by the coordinate along the axis, sized by a checking kernel (NumPy's ValueError
wording) that reads the inputs' sizes through `Elem` placeholders, so each input is evaluated
once. Everything here works in derivative builds.
"""

from __future__ import annotations

import ast
from typing import Any, Final

import numpy as np

from .. import types as T
from ..errors import Span
from ..prelude import selection as kernels
from . import arrays, builtins, complexes, creation, prelude, tir
from .operators import Typer, cast, is_dotted, is_local

_KINDS: Final = frozenset({None, "quicksort", "mergesort", "heapsort", "stable"})
_SORT_PARAMS: Final = ["a", "axis", "kind", "order"]
_NONE_IS_DEFAULT: Final = frozenset({"kind", "order", "sorter"})


# --- prelude calls ------------------------------------------------------------------------------
def invoke(typer: Typer, node: ast.AST, name: str, args: list[tir.Expr]) -> tir.Expr:
    """A call of function `name` of ember/prelude/selection.py on `args` (prelude.specialize:
    typed per argument types, and per call site if it raises)."""
    return prelude.specialize(typer, node, getattr(kernels, name), args)


# --- arguments ----------------------------------------------------------------------------------
def _bind(typer: Typer, node: ast.Call, name: str, params: list[str],
          required: int) -> dict[str, ast.expr]:
    args = creation._bind(typer, node, name, params, required)
    return {k: v for k, v in args.items()
            if not (isinstance(v, ast.Constant) and v.value is None and k in _NONE_IS_DEFAULT)}


def _array(typer: Typer, node: ast.expr, what: str, ndims: tuple[int, ...] = ()) -> tir.Expr:
    value = typer.expr(node)
    t = value.type
    if not isinstance(t, T.Array) or (ndims and t.ndim not in ndims):
        dims = " or ".join(f"{d}-D" for d in ndims) if ndims else "an"
        raise typer.error(node, f"{what} needs {dims} array here, not {t}")
    return value


def _const(typer: Typer, node: ast.expr, what: str, kinds: type | tuple[type, ...]) -> Any:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
            and isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, int):
        node = ast.copy_location(ast.Constant(-node.operand.value), node)
    if not isinstance(node, ast.Constant) or not isinstance(node.value, kinds) \
            or isinstance(node.value, bool):
        raise typer.error(node, f"{what} must be a constant")
    return node.value


def _axis(typer: Typer, node: ast.expr | None, ndim: int, default: int) -> int:
    axis = default if node is None else _const(typer, node, "axis", int)
    if not -ndim <= axis < ndim:
        at = node if node is not None else ast.Constant(axis)
        raise typer.error(at, f"axis {axis} is out of bounds for array of dimension {ndim}")
    return int(axis % ndim)


# --- np.sort, np.argsort, a.sort(), a.argsort() ---------------------------------------------
def _sort_args(typer: Typer, node: ast.Call, name: str,
               args: dict[str, ast.expr], base: tir.Expr) -> tuple[tir.Expr, bool]:
    """The array to sort along its last axis, and whether it is `base` transposed (a 2-D
    array sorted along axis 0 is its transpose sorted along axis 1)."""
    if "order" in args:
        raise typer.error(args["order"], f"{name}(order=...) is not supported in kernels "
                          "(no structured arrays)")
    if "kind" in args and _const(typer, args["kind"], "kind", str) not in _KINDS:
        raise typer.error(args["kind"], f"{name}(kind=...) takes 'quicksort', 'mergesort', "
                          "'heapsort' or 'stable' (Ember always sorts stably)")
    axis_node = args.get("axis")
    if "axis" in args and isinstance(axis_node, ast.Constant) and axis_node.value is None:
        return creation.flatten(typer, node, base), False
    assert isinstance(base.type, T.Array)
    ndim = base.type.ndim
    if ndim not in (1, 2):
        raise typer.error(node, f"{name}() supports 1-D and 2-D arrays in kernels, not {ndim}-D")
    if _axis(typer, axis_node, ndim, -1) != ndim - 1:
        return tir.Transpose(base.type, base.span, base, (1, 0)), True
    return base, False


def _transposed(e: tir.Expr, flag: bool) -> tir.Expr:
    return tir.Transpose(e.type, e.span, e, (1, 0)) if flag else e


def _sort(typer: Typer, node: ast.Call, row: builtins.Builtin) -> tir.Expr:
    args = _bind(typer, node, row.name, _SORT_PARAMS, 1)
    a, flag = _sort_args(typer, node, row.name, args, _array(typer, args["a"], row.name))
    return _transposed(_sorted(typer, node, row.op, a), flag)


def _sorted(typer: Typer, node: ast.AST, op: str, a: tir.Expr) -> tir.Expr:
    assert isinstance(a.type, T.Array)
    nd = a.type.ndim
    if op == "argsort":
        return invoke(typer, node, f"argsort{nd}", [a])
    return invoke(typer, node, f"sort{nd}", [a])


METHODS: Final = frozenset({"sort", "argsort"})
"""The array methods `method` types."""


def method(typer: Typer, node: ast.Call, base: tir.Expr) -> tir.Expr:
    """`a.sort(axis=-1, kind=None)` (in place) and `a.argsort(...)`."""
    assert isinstance(node.func, ast.Attribute) and isinstance(base.type, T.Array)
    name = node.func.attr
    args = _bind(typer, node, f"{name}", _SORT_PARAMS[1:], 0)
    if name == "sort" and "axis" in args and isinstance(args["axis"], ast.Constant) \
            and args["axis"].value is None:
        raise typer.error(node, "a.sort(axis=None) is not supported; use np.sort(a, axis=None)")
    a, flag = _sort_args(typer, node, f"a.{name}", args, base)
    if name == "argsort":
        return _transposed(_sorted(typer, node, "argsort", a), flag)
    _written(typer, node.func.value)
    nd = base.type.ndim
    return invoke(typer, node, f"sort_inplace{nd}", [a])


def _written(typer: Typer, target: ast.expr) -> None:
    arrays.written(typer, target)


# --- np.searchsorted, counts -----------------------------------------------------------------
def _searchsorted(typer: Typer, node: ast.Call, row: builtins.Builtin) -> tir.Expr:
    args = _bind(typer, node, row.name, ["a", "v", "side", "sorter"], 2)
    if "sorter" in args:
        raise typer.error(args["sorter"], "np.searchsorted(sorter=...) is not supported in "
                          "kernels; search a[sorter] (np.take) instead")
    side = _const(typer, args["side"], "side", str) if "side" in args else "left"
    if side not in ("left", "right"):
        raise typer.error(args["side"], f"side must be 'left' or 'right', not {side!r}")
    a = _array(typer, args["a"], row.name, (1,))
    v = typer.expr(args["v"])
    right = tir.Const(T.boolean, typer.src.span(node), side == "right")
    assert isinstance(a.type, T.Array)
    if isinstance(v.type, T.Scalar):
        return invoke(typer, node, "search", [a, v, right])
    if not isinstance(v.type, T.Array) or v.type.ndim != 1:
        raise typer.error(args["v"], f"np.searchsorted() takes a scalar or a 1-D array of "
                          f"values in kernels, not {v.type}")
    return invoke(typer, node, "search_many", [a, v, right])


def _counts(typer: Typer, node: ast.Call, row: builtins.Builtin) -> tir.Expr:
    if row.op == "nonzero":
        raise typer.error(node, "np.nonzero(a) returns a tuple of arrays; kernels take "
                          "np.nonzero(a)[0] of a 1-D array, or np.flatnonzero(a)")
    args = _bind(typer, node, row.name, ["a"], 1)
    a = _array(typer, args["a"], row.name)
    if row.op == "count_nonzero":
        return invoke(typer, node, "count_nonzero", [a])
    return invoke(typer, node, "flatnonzero", [a])


def _nonzero_item(typer: Typer, node: ast.Subscript) -> tir.Expr | None:
    """`np.nonzero(a)[0]` of a 1-D array: np.flatnonzero(a)."""
    call = node.value
    if not (isinstance(call, ast.Call) and isinstance(node.slice, ast.Constant)
            and node.slice.value == 0 and _resolve(typer, call.func) is np.nonzero):
        return None
    if len(call.args) != 1 or call.keywords:
        raise typer.error(call, "np.nonzero() takes one array")
    a = _array(typer, call.args[0], "np.nonzero()", (1,))
    return invoke(typer, node, "flatnonzero", [a])


def _resolve(typer: Typer, func: ast.expr) -> Any:
    if is_local(typer.scope, func) or not is_dotted(func):
        return None
    return typer.resolve(func)




# --- boolean masks and integer index arrays ------------------------------------------------------------------------------
def _index_array(typer: Typer, node: ast.Subscript) -> tir.Expr | None:
    """The subscript's index if it is one array (a mask or an index array), else None."""
    index = node.slice
    if isinstance(index, ast.Slice | ast.Tuple | ast.Constant):
        return None
    value = typer.expr(index)
    if not isinstance(value.type, T.Array):
        return None
    if value.type.dtype.is_float:
        raise typer.error(index, "arrays used as indices must be of integer (or boolean) type")
    return value


def _mask_of(typer: Typer, node: ast.Subscript, base: tir.Expr,
             mask: tir.Expr) -> None:
    assert isinstance(base.type, T.Array) and isinstance(mask.type, T.Array)
    if not mask.type.dtype.is_bool and (mask.type.ndim != 1 or base.type.ndim > 2):
        raise typer.error(node, "indexing with an integer array (fancy indexing) is supported "
                          "for a 1-D or 2-D array and a 1-D index array in kernels; write a "
                          "loop (out[k] = A[idx[k], j, l])")
    if mask.type.dtype.is_bool and mask.type.ndim != base.type.ndim:
        raise typer.error(node.slice, f"a boolean index must have the array's {base.type.ndim} "
                          f"dimension(s) in kernels, not {mask.type.ndim}")


def subscript(typer: Typer, node: ast.Subscript) -> tir.Expr | None:
    """`a[mask]` and `a[idx]` (new 1-D arrays), `A[idx]` (rows of a 2-D `A`) and
    `np.nonzero(a)[0]`; None for other subscripts."""
    found = _nonzero_item(typer, node)
    if found is not None:
        return found
    mask = _index_array(typer, node)
    if mask is None:
        return None
    base = _array(typer, node.value, "an array index")
    _mask_of(typer, node, base, mask)
    assert isinstance(base.type, T.Array) and isinstance(mask.type, T.Array)
    if mask.type.dtype.is_bool or base.type.ndim == 1:
        # select1 skips select's flattening copies; Enzyme 0.0.16 fails on its caches
        # ("'memref.alloc' op symbol operand count does not equal memref symbol count")
        fast = base.type.ndim == 1 and not typer.ad
        kernel = "take" if not mask.type.dtype.is_bool else (
            "select1" if fast else "select")
        return invoke(typer, node, kernel, [base, mask])
    return invoke(typer, node, "take_rows", [base, mask])


def store(typer: Typer, target: ast.Subscript, value_node: ast.expr) -> tir.Stmt | None:
    """`a[mask] = value` (a scalar, or an array of as many elements as the mask has true
    entries, or of one) and `a[idx] = value` (idx an integer array; a scalar, or an array of
    len(idx) elements or of one; for a 2-D `a`, a row or rows); None for other stores."""
    mask = _index_array(typer, target)
    if mask is None:
        return None
    base = _array(typer, target.value, "a store through an index array", (1, 2))
    _mask_of(typer, target, base, mask)
    assert isinstance(base.type, T.Array) and isinstance(mask.type, T.Array)
    _written(typer, target.value)
    value = typer.expr(value_node)
    if isinstance(value.type, T.Scalar):
        call = invoke(typer, target, _fill_kernel(base, mask),
                      [base, mask, cast(value, base.type.dtype)])
        return tir.ExprStmt(typer.src.span(target), call)
    if not isinstance(value.type, T.Array):
        raise typer.error(value_node, f"cannot store a {value.type} through an index array")
    rows = not mask.type.dtype.is_bool and base.type.ndim == 2
    if rows and value.type.ndim > 2:
        raise typer.error(value_node, f"A[idx] = value takes a scalar, a row or rows (1-D or "
                          f"2-D), not {value.type}")
    if not rows and value.type.ndim > 1:
        value = creation.flatten(typer, value_node, value)
    assert isinstance(value.type, T.Array)
    name = f"put_rows{value.type.ndim}" if rows else _fill_kernel(base, mask, "put")
    call = invoke(typer, target, name, [base, mask, value])
    return tir.ExprStmt(typer.src.span(target), call)


def _fill_kernel(base: tir.Expr, mask: tir.Expr, kind: str = "fill") -> str:
    """The kernel storing a scalar (`fill`) or a 1-D array (`put`) through `mask`."""
    assert isinstance(base.type, T.Array) and isinstance(mask.type, T.Array)
    if mask.type.dtype.is_bool:
        return f"mask_{kind}{base.type.ndim}"
    rows = "_rows" if base.type.ndim == 2 else ""
    return f"put{rows}_scalar" if kind == "fill" else f"put{rows}"


def is_mask_target(typer: Typer, target: ast.expr) -> bool:
    """Whether `target` (of `target op= v`) is `a[mask]` or `a[idx]` (NumPy: the update is
    `a[idx] = a[idx] op v`, so a repeated index is updated once)."""
    return isinstance(target, ast.Subscript) and _index_array(typer, target) is not None


# --- np.concatenate, np.stack, np.hstack, np.vstack ---------------------------------------
def _join(typer: Typer, node: ast.Call, row: builtins.Builtin) -> tir.Expr:
    params = ["arrays", "axis"] if row.op in ("concatenate", "stack") else ["tup"]
    args = _bind(typer, node, row.name, params, 1)
    seq = args[params[0]]
    if not isinstance(seq, ast.Tuple | ast.List) or not seq.elts:
        raise typer.error(seq, f"{row.name}() takes a tuple or list literal of arrays in "
                          "kernels: (a, b, ...)")
    arrays = [_array(typer, e, row.name) for e in seq.elts]
    ndims = [a.type.ndim for a in arrays if isinstance(a.type, T.Array)]
    for k, nd in enumerate(ndims):
        if nd != ndims[0]:
            raise typer.error(seq.elts[k], "all the input arrays must have same number of "
                              f"dimensions, but the array at index 0 has {ndims[0]} "
                              f"dimension(s) and the array at index {k} has {nd} dimension(s)")
    nd = ndims[0]
    axis_node = args.get("axis")
    if row.op == "concatenate" and isinstance(axis_node, ast.Constant) \
            and axis_node.value is None:
        arrays = [creation.flatten(typer, node, a) for a in arrays]
        return _concatenate(typer, node, arrays, 0)
    if row.op == "stack" or (row.op == "vstack" and nd == 1):
        axis = _axis(typer, axis_node, nd + 1, 0) if row.op == "stack" else 0
        return _stack(typer, node, arrays, axis)
    axis = 1 if row.op == "hstack" and nd > 1 else 0
    return _concatenate(typer, node, arrays, _axis(typer, axis_node, nd, axis))


def _dtype(arrays: list[tir.Expr]) -> T.Scalar:
    dtypes = [a.type.dtype for a in arrays if isinstance(a.type, T.Array)]
    out = dtypes[0]
    for d in dtypes[1:]:
        out = T.promote(out, d)
    return out


def _size(span: Span, arrays: list[tir.Expr], k: int, axis: int) -> tir.Expr:
    """Inside a join's `Generate` (its body or shape): the size of input `k` along `axis`."""
    return cast(tir.Dim(T.py_int, span, tir.Elem(arrays[k].type, span, k), axis), T.i64)


def _dims(typer: Typer, node: ast.AST, arrays: list[tir.Expr], nd: int) -> tir.Expr:
    span = typer.src.span(node)
    items = tuple(_size(span, arrays, k, d) for k in range(len(arrays)) for d in range(nd))
    return tir.ArrayLiteral(T.Array(T.i64, 2), span, (len(arrays), nd), items)


def _load(span: Span, a: tir.Expr, k: int, coords: list[tir.Expr],
          dtype: T.Scalar) -> tir.Expr:
    assert isinstance(a.type, T.Array)
    elem = tir.Elem(a.type, span, k)
    load = tir.Load(a.type.dtype, span, elem, tuple(coords), (False,) * len(coords))
    return cast(load, dtype)


def _concatenate(typer: Typer, node: ast.AST, arrays: list[tir.Expr], axis: int) -> tir.Expr:
    span = typer.src.span(node)
    nd = arrays[0].type.ndim if isinstance(arrays[0].type, T.Array) else 1
    dtype = _dtype(arrays)
    coords: list[tir.Expr] = [tir.Coord(T.i64, span, d) for d in range(nd)]
    offsets: list[tir.Expr] = [tir.Const(T.i64, span, 0)]
    for k in range(len(arrays) - 1):
        offsets.append(tir.BinOp(T.i64, span, "add", offsets[-1], _size(span, arrays, k, axis)))

    def piece(k: int) -> tir.Expr:
        at = list(coords)
        at[axis] = tir.BinOp(T.i64, span, "sub", coords[axis], offsets[k])
        return _load(span, arrays[k], k, at, dtype)

    body = piece(len(arrays) - 1)
    for k in range(len(arrays) - 2, -1, -1):
        before = tir.Compare(T.boolean, span, "lt", coords[axis], offsets[k + 1])
        body = tir.IfExp(dtype, span, before, piece(k), body)
    length = invoke(typer, node, "join_length",
                    [_dims(typer, node, arrays, nd), tir.Const(T.i64, span, axis)])
    shape = [_size(span, arrays, 0, d) for d in range(nd)]
    shape[axis] = length
    return tir.Generate(T.Array(dtype, nd), span, tuple(shape), tuple(arrays), body)


def _stack(typer: Typer, node: ast.AST, arrays: list[tir.Expr], axis: int) -> tir.Expr:
    span = typer.src.span(node)
    nd = arrays[0].type.ndim if isinstance(arrays[0].type, T.Array) else 1
    dtype = _dtype(arrays)
    coords: list[tir.Expr] = [tir.Coord(T.i64, span, d) for d in range(nd + 1)]
    inner = coords[:axis] + coords[axis + 1:]
    body = _load(span, arrays[-1], len(arrays) - 1, inner, dtype)
    for k in range(len(arrays) - 2, -1, -1):
        before = tir.Compare(T.boolean, span, "lt", coords[axis], tir.Const(T.i64, span, k + 1))
        body = tir.IfExp(dtype, span, before, _load(span, arrays[k], k, inner, dtype), body)
    count = invoke(typer, node, "stack_count", [_dims(typer, node, arrays, nd)])
    shape = [_size(span, arrays, 0, d) for d in range(nd)]
    shape.insert(axis, count)
    return tir.Generate(T.Array(dtype, nd + 1), span, tuple(shape), tuple(arrays), body)


# --- the `select` builtin rows ---------------------------------------------------------------
_FORMS: Final = {"sort": _sort, "argsort": _sort, "searchsorted": _searchsorted,
                 "flatnonzero": _counts, "count_nonzero": _counts, "nonzero": _counts,
                 "concatenate": _join, "stack": _join, "hstack": _join, "vstack": _join}


def call(typer: Typer, node: ast.Call, row: builtins.Builtin) -> tir.Expr:
    """A call of one of the `select` builtin rows (builtins.py), by op key."""
    if row.op in ("sort", "argsort", "searchsorted") and node.args:  # no order on complex
        complexes.refuse_routine(row.name, typer.src.span(node), [typer.expr(node.args[0])])
    return _FORMS[row.op](typer, node, row)
