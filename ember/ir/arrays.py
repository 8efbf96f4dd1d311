"""IR rules for whole-array expressions: `tir.ArrayMap` -> one `linalg.generic` into a fresh
`memref.alloc`, `tir.ArrayStore` -> one `linalg.generic` into the destination (through a
temporary where an input may overlap it), `tir.Elem` -> the current element in the body.

Broadcasting is decided at run time, as NumPy does: the result's size on each axis (inputs
aligned on the right) is the size that is not 1, and every input must have that size or 1
there (else the ValueError site of the node). Each array input is then seen through a view
of the result's shape whose size-1 (and missing leading) axes have stride 0, so every
indexing map is the identity and the loop nest reads each input directly, with no copy.
The `linalg-to-loops` stage (lowering/stages.py) turns the generic ops into scf loops.

Derivative builds (`em.ad`) emit the scf loop nest directly, with broadcasting folded into the
load indices (a size-1 axis is read at 0): Enzyme 0.0.16 gives zero reverse gradients on
memref linalg and rejects the stride-0 `reinterpret_cast` (docs/enzyme-views.md). The overlap
test reads strided metadata, which Enzyme cannot differentiate either, so an assignment that
reads another array always goes through a temporary there (marked `TEMPORARY`, hoisted out of
loops before Enzyme by lowering/temporaries.py).
"""

from __future__ import annotations

from typing import Any

from mlir import ir
from mlir.dialects import arith, linalg, memref, scf

from .. import types as T
from ..frontend import tir
from . import ops
from .loops import allocate, loop_nest
from .protocols import Emitter
from .raising import raise_if
from .types import memref_type, storage_type

CI = arith.CmpIPredicate
ELEMS = "\0elems"
"""Environment key of the current elements while an ArrayMap body is emitted."""

TEMPORARY = "ember.temporary"
"""Unit attribute on the `memref.alloc` of a temporary of `_through_temporary` in derivative
builds: lowering/temporaries.py hoists it out of loops before Enzyme."""

Operand = tuple[ir.Value, int]
"""An array input: its memref and rank."""


def _c(value: int) -> ir.Value:
    return arith.constant(ir.IndexType.get(), value)


def _dims(em: Emitter, array: ir.Value, ndim: int) -> list[ir.Value]:
    return [em.dim(array, k) for k in range(ndim)]


def emit_elem(em: Emitter, e: tir.Elem) -> Any:
    return em.env[ELEMS][e.index]


def _inputs(em: Emitter, m: tir.ArrayMap) -> tuple[list[Any], list[Operand]]:
    """Every input's value (in order: Python evaluates operands left to right) and the
    array inputs with their ranks."""
    values = [em.expr(i) for i in m.inputs]
    arrays = [(v, i.type.ndim) for v, i in zip(values, m.inputs, strict=True)
              if isinstance(i.type, T.Array)]
    return values, arrays


def _broadcast(em: Emitter, arrays: list[Operand], ndim: int,
               site: int | None) -> list[ir.Value]:
    """The broadcast shape of `arrays` (NumPy's rule, at run time), checked against `site`."""
    dims = [_dims(em, v, n) for v, n in arrays]
    shape = []
    for r in range(ndim):
        size = _c(1)
        for sizes, (_, n) in zip(dims, arrays, strict=True):
            k = r - (ndim - n)
            if k >= 0:
                one = arith.cmpi(CI.eq, sizes[k], _c(1))
                size = arith.select(one, size, sizes[k])
        shape.append(size)
    if site is not None:
        bad = _mismatch([(sizes, n) for sizes, (_, n) in zip(dims, arrays, strict=True)],
                        shape)
        raise_if(em, bad, site, [(s, T.i64) for sizes in dims for s in sizes])
    return shape


def _mismatch(dims: list[tuple[list[ir.Value], int]], shape: list[ir.Value]) -> ir.Value:
    """Whether some size is neither 1 nor the shape's size on its (right-aligned) axis."""
    bad = arith.constant(ir.IntegerType.get_signless(1), 0)
    for sizes, n in dims:
        for k, s in enumerate(sizes):
            want = shape[k + len(shape) - n]
            ok = arith.ori(arith.cmpi(CI.eq, s, _c(1)), arith.cmpi(CI.eq, s, want))
            bad = arith.ori(bad, arith.xori(ok, arith.constant(ok.type, 1)))
    return bad


def _unequal(dims: list[tuple[list[ir.Value], int]], shape: list[ir.Value]) -> ir.Value:
    """Whether some size differs from the shape's size on its (right-aligned) axis."""
    bad = arith.constant(ir.IntegerType.get_signless(1), 0)
    for sizes, n in dims:
        for k, s in enumerate(sizes):
            bad = arith.ori(bad, arith.cmpi(CI.ne, s, shape[k + len(shape) - n]))
    return bad


def _spread(array: ir.Value, ndim: int, shape: list[ir.Value], dtype: T.Scalar) -> ir.Value:
    """`array` seen with `shape` (its axes aligned right): stride 0 on its size-1 axes and on
    the new leading ones."""
    meta = memref.ExtractStridedMetadataOp(array)
    sizes, strides = list(meta.sizes)[:ndim], list(meta.strides)[:ndim]
    lead = len(shape) - ndim
    out = [_c(0)] * lead + [arith.select(arith.cmpi(CI.eq, s, _c(1)), _c(0), st)
                            for s, st in zip(sizes, strides, strict=True)]
    dyn = ir.ShapedType.get_dynamic_size()
    dyn_stride = ir.ShapedType.get_dynamic_stride_or_offset()
    n = len(shape)
    return memref.reinterpret_cast(memref_type(T.Array(dtype, n)), meta.base_buffer,
                                   [meta.offset], shape, out, [dyn_stride], [dyn] * n,
                                   [dyn_stride] * n)


def _generic(em: Emitter, m: tir.ArrayMap, values: list[Any], shape: list[ir.Value],
             out: ir.Value, dtype: T.Scalar) -> None:
    """out[...] = m.body for every element of `shape` (out has that shape)."""
    if em.ad:
        _loops(em, m, values, shape, out, dtype)
        return
    spread, kinds = [], []
    for value, e in zip(values, m.inputs, strict=True):
        if isinstance(e.type, T.Array):
            spread.append(_spread(value, e.type.ndim, shape, e.type.dtype))
            kinds.append(e.type.dtype)
    _linalg(em, spread, kinds, out, dtype, len(shape), lambda args: _body(em, m, values, args))


def _loops(em: Emitter, m: tir.ArrayMap, values: list[Any], shape: list[ir.Value],
           out: ir.Value, dtype: T.Scalar) -> None:
    """`_generic` for Enzyme: an scf loop nest of loads and stores (memref linalg gets zero
    reverse gradients, ../shared/TOOLCHAIN-AD.md section 6), broadcasting folded into the
    indices (a size-1 axis is read at 0) instead of a stride-0 `reinterpret_cast`, which
    reverse mode rejects (docs/enzyme-views.md)."""
    ndim = len(shape)
    reads: list[tuple[ir.Value, T.Scalar, list[ir.Value]] | None] = []
    for value, e in zip(values, m.inputs, strict=True):
        if isinstance(e.type, T.Array):
            ones = [arith.cmpi(CI.eq, em.dim(value, k), _c(1)) for k in range(e.type.ndim)]
            reads.append((value, e.type.dtype, ones))
        else:
            reads.append(None)

    def body(ivs: list[ir.Value]) -> None:
        args = []
        for read in reads:
            if read is not None:
                array, kind, ones = read
                lead = ndim - len(ones)
                at = [arith.select(one, _c(0), ivs[lead + k]) for k, one in enumerate(ones)]
                args.append(ops.from_storage(kind, memref.load(array, at)))
        memref.store(ops.to_storage(dtype, _body(em, m, values, args)), out, ivs)
    loop_nest(shape, body)


def _copy(em: Emitter, source: ir.Value, dest: ir.Value, t: T.Array,
          shape: list[ir.Value]) -> None:
    """dest[...] = source[...] (same shape and dtype)."""
    if em.ad:
        loop_nest(shape, lambda ivs: memref.store(memref.load(source, ivs), dest, ivs))
    else:
        _linalg(em, [source], [t.dtype], dest, t.dtype, t.ndim, lambda args: args[0])


def _body(em: Emitter, m: tir.ArrayMap, values: list[Any], args: list[ir.Value]) -> Any:
    elems, it = [], iter(args)
    for value, e in zip(values, m.inputs, strict=True):
        elems.append(next(it) if isinstance(e.type, T.Array) else value)
    saved = em.env.get(ELEMS)
    em.env[ELEMS] = tuple(elems)
    result = em.expr(m.body)
    em.env[ELEMS] = saved
    return result


def _linalg(em: Emitter, inputs: list[ir.Value], kinds: list[T.Scalar], out: ir.Value,
            dtype: T.Scalar, ndim: int, body: Any) -> None:
    identity = ir.AffineMapAttr.get(ir.AffineMap.get_identity(ndim))
    parallel = ir.Attribute.parse("#linalg.iterator_type<parallel>")
    op = linalg.GenericOp([], inputs, [out], ir.ArrayAttr.get([identity] * (len(inputs) + 1)),
                          ir.ArrayAttr.get([parallel] * ndim))
    block = op.regions[0].blocks.append(*[storage_type(k) for k in kinds], storage_type(dtype))
    with ir.InsertionPoint(block):
        args = [ops.from_storage(k, a) for k, a in zip(kinds, block.arguments, strict=False)]
        linalg.YieldOp([ops.to_storage(dtype, body(args))])


def emit_array_map(em: Emitter, e: tir.ArrayMap) -> Any:
    assert isinstance(e.type, T.Array)
    values, arrays = _inputs(em, e)
    shape = _broadcast(em, arrays, e.type.ndim, e.check)
    out = allocate(e.type, shape)
    _generic(em, e, values, shape, out, e.type.dtype)
    return out


def emit_array_store(em: Emitter, s: tir.ArrayStore) -> None:
    values, arrays = _inputs(em, s.value)
    store_values(em, s, values, arrays, em.expr(s.array))


def store_values(em: Emitter, s: tir.ArrayStore, values: list[Any], arrays: list[Operand],
                 dest: ir.Value) -> None:
    """`emit_array_store` with the inputs and the destination evaluated (ir/epilogue.py)."""
    assert isinstance(s.array.type, T.Array)
    t = s.array.type
    m = s.value
    rank = m.type.ndim if isinstance(m.type, T.Array) else 0
    shape = _broadcast(em, arrays, rank, m.check)
    target = _dims(em, dest, t.ndim)
    if s.check is not None:
        bad = (_unequal if s.exact else _mismatch)([(shape, rank)], target)
        raise_if(em, bad, s.check, [(x, T.i64) for x in shape + target])
    others = [v for v, e in zip(values, m.inputs, strict=True)
              if isinstance(e.type, T.Array) and not (e.type.ndim == t.ndim
                                                      and tir.same(e, s.array))]
    if not others:
        _generic(em, m, values, target, dest, t.dtype)
        return
    if em.ad:  # the overlap test reads strided metadata, which Enzyme cannot differentiate
        _through_temporary(em, m, values, target, dest, t)
        return
    overlap = arith.constant(ir.IntegerType.get_signless(1), 0)
    for v in others:
        apart = ops.disjoint(dest, v)
        overlap = arith.ori(overlap, arith.xori(apart, arith.constant(apart.type, 1)))
    branch = scf.IfOp(overlap, [], has_else=True)
    with ir.InsertionPoint(branch.then_block):
        _through_temporary(em, m, values, target, dest, t)
        scf.YieldOp([])
    with ir.InsertionPoint(branch.else_block):
        _generic(em, m, values, target, dest, t.dtype)
        scf.YieldOp([])


def _through_temporary(em: Emitter, m: tir.ArrayMap, values: list[Any], shape: list[ir.Value],
                       dest: ir.Value, t: T.Array) -> None:
    """NumPy's semantics where an input may overlap `dest`: the old elements are read."""
    temp = allocate(T.Array(t.dtype, t.ndim), shape)
    if em.ad:
        alloc = temp.owner  # the memref.alloc, or allocate's full-size subview of it
        alloc = alloc if alloc.name == "memref.alloc" else alloc.operands[0].owner
        alloc.attributes[TEMPORARY] = ir.UnitAttr.get()
    _generic(em, m, values, shape, temp, t.dtype)
    _copy(em, temp, dest, t, shape)
