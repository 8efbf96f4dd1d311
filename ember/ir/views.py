"""IR rules for views: `tir.View` and `tir.Transpose` -> `memref.reinterpret_cast` of the
array's strided metadata (same buffer, new offset, sizes and strides: never a copy), and
`tir.Fill` -> a loop nest storing one scalar into every element of a view.

Derivative builds emit only what Enzyme 0.0.16 differentiates (docs/enzyme-views.md): a view
is a `memref.subview` (rank-reducing for integer items), a transpose a `memref.transpose`
that lowering/views.py folds into the indices of its loads and stores before Enzyme runs.

Slices follow Python's `slice.indices(n)`, computed at run time: negative bounds count from
the end, bounds are clamped into the axis, a step of unknown sign selects between the two
rules, and the length is max(0, ceil((stop - start) / step)). An integer item drops its
axis (negative indices wrap; boundscheck=True raises IndexError as element loads do); a
new axis has length 1 and stride 0, as in NumPy.
"""

from __future__ import annotations

from typing import Any

from mlir import ir
from mlir.dialects import arith, memref

from .. import types as T
from ..frontend import tir
from . import ops
from .loops import fill, subview
from .protocols import Emitter
from .raising import raise_if
from .types import to_mlir_type

CI = arith.CmpIPredicate
NEW_AXES = "ember.new_axes"
"""On the `memref.expand_shape` of a view with new axes (derivative builds): which result axes
are new (bools); lowering/views.fold_new_axes folds them into indices before Enzyme."""


def _c(value: int) -> ir.Value:
    return arith.constant(ir.IndexType.get(), value)


def _reinterpret(t: T.Type, base: ir.Value, offset: ir.Value, sizes: list[ir.Value],
                 strides: list[ir.Value]) -> ir.Value:
    dyn, dyn_stride = ir.ShapedType.get_dynamic_size(), ir.ShapedType.get_dynamic_stride_or_offset()
    n = len(sizes)
    return memref.reinterpret_cast(to_mlir_type(t), base, [offset], sizes, strides,
                                   [dyn_stride], [dyn] * n, [dyn_stride] * n)


def _metadata(array: ir.Value) -> tuple[ir.Value, ir.Value, list[ir.Value], list[ir.Value]]:
    meta = memref.ExtractStridedMetadataOp(array)
    rank = ir.MemRefType(array.type).rank
    return meta.base_buffer, meta.offset, list(meta.sizes)[:rank], list(meta.strides)[:rank]


def emit_view(em: Emitter, e: tir.View) -> Any:
    if em.ad:
        return _subview(em, e)
    base, offset, sizes, strides = _metadata(em.expr(e.array))
    out_sizes: list[ir.Value] = []
    out_strides: list[ir.Value] = []
    axis = 0
    for item in e.items:
        if item is None:
            out_sizes.append(_c(1))
            out_strides.append(_c(0))
            continue
        size, stride = sizes[axis], strides[axis]
        if isinstance(item, tir.Expr):
            index = _index(em, e, item, axis, size)
            offset = arith.addi(offset, arith.muli(index, stride))
        else:
            start, length, step = _slice(em, e, item, size)
            offset = arith.addi(offset, arith.muli(start, stride))
            out_sizes.append(length)
            out_strides.append(arith.muli(step, stride))
        axis += 1
    return _reinterpret(e.type, base, offset, out_sizes + sizes[axis:],
                        out_strides + strides[axis:])


def _subview(em: Emitter, e: tir.View) -> ir.Value:
    """The view as a `memref.subview` of the array (derivative builds), new axes added by a
    `memref.expand_shape` (`_new_axes`)."""
    array = em.expr(e.array)
    offsets: list[ir.Value] = []
    sizes: list[ir.Value | int] = []
    strides: list[ir.Value] = []
    items = [i for i in e.items if i is not None]
    for axis, item in enumerate(items):
        size = em.dim(array, axis)
        if isinstance(item, tir.Expr):
            offsets.append(_index(em, e, item, axis, size))
            sizes.append(1)
            strides.append(_c(1))
        else:
            start, length, step = _slice(em, e, item, size)
            offsets.append(start)
            sizes.append(length)
            strides.append(step)
    for axis in range(len(items), ir.MemRefType(array.type).rank):
        offsets.append(_c(0))
        sizes.append(em.dim(array, axis))
        strides.append(_c(1))
    assert isinstance(e.type, T.Array)
    new = len(e.items) - len(items)
    view = subview(to_mlir_type(T.Array(e.type.dtype, e.type.ndim - new)), array, offsets,
                   sizes, strides)
    return _new_axes(em, e, view) if new else view


def _new_axes(em: Emitter, e: tir.View, view: ir.Value) -> ir.Value:
    """`view` with unit axes inserted where `e` has new axes: a `memref.expand_shape` (every
    size dynamic, as Ember's array type), which lowering/views.fold_new_axes folds into the
    indices of its loads, stores and dims before Enzyme (no reverse rule for it)."""
    kinds = [item is None for item in e.items if not isinstance(item, tir.Expr)]
    rank = ir.MemRefType(view.type).rank
    kinds += [False] * (rank - sum(1 for k in kinds if not k))
    groups: list[list[int]] = [[] for _ in range(rank)]
    shape, kept = [], -1
    for axis, is_new in enumerate(kinds):
        kept += not is_new
        if rank:  # a 0-d view expands with no groups
            groups[max(kept, 0)].append(axis)
        shape.append(_one(em, view) if is_new else em.dim(view, kept))
    dyn = ir.ShapedType.get_dynamic_size()
    reassociation = ir.ArrayAttr.get([ir.ArrayAttr.get(
        [ir.IntegerAttr.get(ir.IntegerType.get_signless(64), a) for a in g]) for g in groups])
    out = memref.expand_shape(to_mlir_type(e.type), view, reassociation, shape,
                              [dyn] * len(kinds))
    out.owner.attributes[NEW_AXES] = ir.ArrayAttr.get([ir.BoolAttr.get(k) for k in kinds])
    return out


def _one(em: Emitter, view: ir.Value) -> ir.Value:
    """The size 1 of a new axis, as min(1, n + 1) for a size n of `view` (when it has axes):
    Enzyme 0.0.16 fails on loops whose trip count folds to the constant 1 (`operand #0 does
    not dominate this use`), e.g. `for j in range(a.shape[1])` over `a = x[:, None]`."""
    if ir.MemRefType(view.type).rank == 0:
        return _c(1)
    return arith.minsi(_c(1), arith.addi(em.dim(view, 0), _c(1)))


def _index(em: Emitter, e: tir.View, item: tir.Expr, axis: int, size: ir.Value) -> ir.Value:
    """An integer item: Python's wrap-around, bounds checked under boundscheck=True."""
    index = em.index(em.expr(item))
    negative = arith.cmpi(CI.slt, index, _c(0))
    if e.check is not None:
        low = arith.cmpi(CI.slt, index, arith.subi(_c(0), size))
        bad = arith.ori(low, arith.cmpi(CI.sge, index, size))
        raise_if(em, bad, e.check, [(index, T.i64), (ops.const(T.i64, axis), T.i64),
                                    (size, T.i64)])
    return arith.select(negative, arith.addi(index, size), index)


def _slice(em: Emitter, e: tir.View, item: tuple[tir.Expr | None, ...],
           size: ir.Value) -> tuple[ir.Value, ir.Value, ir.Value]:
    """(start, length, step) of `item` over an axis of `size` elements."""
    lower, upper, step_expr = item
    start = None if lower is None else em.index(em.expr(lower))
    stop = None if upper is None else em.index(em.expr(upper))
    if step_expr is None or isinstance(step_expr, tir.Const):
        value = 1 if step_expr is None else int(step_expr.value)
        step = _c(value)
        return (*_bounds(start, stop, step, size, value > 0), step)
    step = em.index(em.expr(step_expr))
    if e.step_check is not None:
        raise_if(em, arith.cmpi(CI.eq, step, _c(0)), e.step_check)
    up_start, up_length = _bounds(start, stop, step, size, True)
    down_start, down_length = _bounds(start, stop, step, size, False)
    up = arith.cmpi(CI.sgt, step, _c(0))
    return (arith.select(up, up_start, down_start), arith.select(up, up_length, down_length),
            step)


def _bounds(start: ir.Value | None, stop: ir.Value | None, step: ir.Value, size: ir.Value,
            up: bool) -> tuple[ir.Value, ir.Value]:
    """Clamped start and the length, for a positive (`up`) or negative step."""
    last = arith.subi(size, _c(1))
    lo, hi = (_c(0), size) if up else (_c(-1), last)
    first = _clamp(start, size, lo, hi) if start is not None else (_c(0) if up else last)
    end = _clamp(stop, size, lo, hi) if stop is not None else (size if up else _c(-1))
    distance, stride = ((arith.subi(end, first), step) if up
                        else (arith.subi(first, end), arith.subi(_c(0), step)))
    distance = arith.maxsi(distance, _c(0))
    length = arith.divsi(arith.addi(distance, arith.subi(stride, _c(1))), stride)
    # a negative step over an empty range may start at -1: any start does for no elements,
    # and a negative offset folded from constant sizes fails memref's verifier
    return (first if up else arith.maxsi(first, _c(0))), length


def _clamp(value: ir.Value, size: ir.Value, lo: ir.Value, hi: ir.Value) -> ir.Value:
    negative = arith.cmpi(CI.slt, value, _c(0))
    value = arith.select(negative, arith.addi(value, size), value)
    return arith.minsi(arith.maxsi(value, lo), hi)


def emit_transpose(em: Emitter, e: tir.Transpose) -> Any:
    if em.ad:
        perm = ir.AffineMap.get_permutation(list(e.perm))
        return memref.transpose(to_mlir_type(e.type), em.expr(e.array),
                                ir.AffineMapAttr.get(perm))
    base, offset, sizes, strides = _metadata(em.expr(e.array))
    return _reinterpret(e.type, base, offset, [sizes[k] for k in e.perm],
                        [strides[k] for k in e.perm])


def emit_fill(em: Emitter, s: tir.Fill) -> None:
    assert isinstance(s.array.type, T.Array)
    value = ops.to_storage(s.array.type.dtype, em.expr(s.value))  # Python: the value first
    array = em.expr(s.array)
    fill(array, [em.dim(array, k) for k in range(s.array.type.ndim)], value)
