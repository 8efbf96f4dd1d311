"""The one place Ember types become MLIR types (`to_mlir_type`), and their flat forms.

Scalars map to signless integers (`i1` for bool) and floats. Every array, parameter or local,
is a fully dynamic strided memref, so any numpy view (negative or non-unit strides, Fortran
order) is accepted without copies and callers never need layout casts between kernels.
Code for Enzyme (`for_enzyme`) uses the same types; only its entry takes identity layouts.
Tuples have no MLIR type: they travel as several values (`flat_types`).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from mlir import ir

from .. import types as T


def scalar_type(t: T.Scalar) -> ir.Type:
    if t.is_complex:  # complex<f32> / complex<f64>: numpy's layout in memrefs too
        return ir.ComplexType.get(ir.F32Type.get() if t.bits == 64 else ir.F64Type.get())
    if t.is_float:
        return ir.F32Type.get() if t.bits == 32 else ir.F64Type.get()
    return ir.IntegerType.get_signless(t.bits)


def storage_type(t: T.Scalar) -> ir.Type:
    """Element type in memory: bool arrays hold one byte per element (numpy's layout; MLIR's
    memref lowering cannot store i1)."""
    return ir.IntegerType.get_signless(8) if t.is_bool else scalar_type(t)


_for_enzyme = contextvars.ContextVar("ember_for_enzyme", default=False)


@contextlib.contextmanager
def for_enzyme() -> Iterator[None]:
    """Within this block code is emitted for Enzyme, which has no derivative for `memref.cast`
    or `memref.reinterpret_cast`: the entry takes identity-layout (C-contiguous) arrays and
    views them, like every local array, through the strided type by a full-size
    `memref.subview` (`strided_view`); see docs/enzyme-views.md."""
    token = _for_enzyme.set(True)
    try:
        yield
    finally:
        _for_enzyme.reset(token)


def emitting_for_enzyme() -> bool:
    return _for_enzyme.get()


def strided_layout(rank: int) -> ir.Attribute:
    """`strided<[?, ...], offset: ?>`: the layout of every array value."""
    stride = ir.ShapedType.get_dynamic_stride_or_offset()
    return ir.StridedLayoutAttr.get(stride, [stride] * rank)


def memref_type(t: T.Array) -> ir.MemRefType:
    dyn = ir.ShapedType.get_dynamic_size()
    return ir.MemRefType.get([dyn] * t.ndim, storage_type(t.dtype), layout=strided_layout(t.ndim))


def contiguous_memref_type(t: T.Array) -> ir.MemRefType:
    dyn = ir.ShapedType.get_dynamic_size()
    return ir.MemRefType.get([dyn] * t.ndim, storage_type(t.dtype))


def to_mlir_type(t: T.Type) -> ir.Type:
    """The MLIR type of a scalar or array (tuples: see `flat_types`)."""
    if isinstance(t, T.Scalar):
        return scalar_type(t)
    if isinstance(t, T.Array):
        return memref_type(t)
    raise TypeError(f"{t} has no single MLIR type")


def flat_types(t: T.Type) -> list[ir.Type]:
    """The MLIR types a value of type `t` travels as (none for None, several for tuples)."""
    if isinstance(t, T.NoneType):
        return []
    if isinstance(t, T.Tuple):
        return [to_mlir_type(i) for i in t.items]
    return [to_mlir_type(t)]
