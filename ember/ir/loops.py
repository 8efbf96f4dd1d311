"""Loops, loop attributes and new arrays shared by the statement and expression rules (and
the rewrites of lowering/)."""

from __future__ import annotations

from collections.abc import Callable

from mlir import ir
from mlir.dialects import arith, memref, scf

from .. import types as T
from .types import contiguous_memref_type, emitting_for_enzyme, memref_type, strided_layout


def cold_loop() -> ir.Attribute:
    """LLVM loop metadata for a rarely run loop: no vectorization, no unrolling (its code
    stays small and compiles fast). Survives scf-to-cf as the latch's `llvm.loop`."""
    return ir.Attribute.parse(
        "#llvm.loop_annotation<vectorize = <disable = true>, unroll = <disable = true>>")


def allocate(t: T.Array, sizes: list[ir.Value]) -> ir.Value:
    """A new contiguous array, seen through the generic strided memref type."""
    raw = memref.alloc(contiguous_memref_type(t), sizes, [])
    want = memref_type(t)
    if raw.type == want:
        return raw
    return strided_view(raw, sizes) if emitting_for_enzyme() else memref.cast(want, raw)


def subview(result: ir.Type, source: ir.Value, offsets: list[ir.Value],
            sizes: list[ir.Value | int], strides: list[ir.Value]) -> ir.Value:
    """`memref.subview` with dynamic offsets and strides; a size given as the int 1 is static
    (an axis a rank-reducing subview drops), any other is dynamic."""
    dyn, dyn_stride = ir.ShapedType.get_dynamic_size(), ir.ShapedType.get_dynamic_stride_or_offset()
    static = [s if isinstance(s, int) else dyn for s in sizes]
    return memref.SubViewOp(result, source, offsets, [s for s in sizes if not isinstance(s, int)],
                            strides, [dyn_stride] * len(offsets), static,
                            [dyn_stride] * len(strides)).result


def strided_view(array: ir.Value, sizes: list[ir.Value]) -> ir.Value:
    """`array` (identity layout) as the generic strided type by a full-size subview: the cast
    Enzyme can differentiate (it has no rule for `memref.cast`)."""
    index = ir.IndexType.get()
    zero, one = arith.constant(index, 0), arith.constant(index, 1)
    rank = len(sizes)
    want = ir.MemRefType.get(ir.MemRefType(array.type).shape,
                             ir.MemRefType(array.type).element_type,
                             layout=strided_layout(rank))
    return subview(want, array, [zero] * rank, list(sizes), [one] * rank)


def loop_nest(sizes: list[ir.Value], body: Callable[[list[ir.Value]], None]) -> None:
    """`body(indices)` inside scf.for loops over [0, size) for each size (a plain nest)."""
    index = ir.IndexType.get()
    zero, one = arith.constant(index, 0), arith.constant(index, 1)
    ivs: list[ir.Value] = []
    points: list[ir.InsertionPoint] = []
    for size in sizes:
        loop = scf.ForOp(zero, size, one)
        ivs.append(loop.induction_variable)
        point = ir.InsertionPoint(loop.body)
        point.__enter__()
        points.append(point)
    body(ivs)
    for point in reversed(points):
        scf.YieldOp([])
        point.__exit__(None, None, None)


def fill(array: ir.Value, sizes: list[ir.Value], value: ir.Value) -> None:
    """Store `value` (already in storage form) into every element."""
    loop_nest(sizes, lambda ivs: memref.store(value, array, ivs))
