"""IR rules for array creation (frontend/creation.py): `tir.Generate` -> a fresh array filled
by a plain `scf.for` nest (each element computed from its coordinates), `tir.Coord` -> the
current coordinate, `tir.ArrayLiteral` -> a fresh array and one store per item, and
`tir.Reshape` -> a `memref.reinterpret_cast` of the array's buffer with the new sizes and
C-order strides when the array is C-contiguous at run time (NumPy's rule: sizes-1 axes and
empty arrays impose nothing), else of a C-ordered copy made first (NumPy copies then too).

Generated arrays are plain loops with loads and stores, so derivative builds take them as
written (Enzyme differentiates a copy like a user's loop); there a reshape is a marked
placeholder that lowering/reshapes.py folds into the indices of its loads and stores.
"""

from __future__ import annotations

from typing import Any

from mlir import ir
from mlir.dialects import arith, memref, scf

from .. import types as T
from ..frontend import tir
from . import ops
from .arrays import ELEMS
from .loops import allocate, loop_nest
from .protocols import Emitter
from .raising import raise_if
from .types import to_mlir_type

CI = arith.CmpIPredicate
RESHAPE = "ember.reshape"
"""On the placeholder `memref.reinterpret_cast` of a reshape in derivative builds."""
COORDS = "\0coords"
"""Environment key of the current coordinates while a Generate body is emitted."""


def _c(value: int) -> ir.Value:
    return arith.constant(ir.IndexType.get(), value)


def _sizes(em: Emitter, shape: tuple[tir.Expr, ...], site: int | None) -> list[ir.Value]:
    sizes = [em.index(em.expr(s)) for s in shape]
    if site is not None:
        bad = arith.constant(ir.IntegerType.get_signless(1), 0)
        for s in sizes:
            bad = arith.ori(bad, arith.cmpi(CI.slt, s, _c(0)))
        raise_if(em, bad, site, [(s, T.i64) for s in sizes])
    return [arith.maxsi(s, _c(0)) for s in sizes]


def emit_generate(em: Emitter, e: tir.Generate) -> Any:
    assert isinstance(e.type, T.Array)
    values = tuple(em.expr(i) for i in e.inputs)
    saved_elems = em.env.get(ELEMS)
    em.env[ELEMS] = values  # the shape may read the inputs' sizes (np.concatenate)
    sizes = _sizes(em, e.shape, e.check)
    em.env[ELEMS] = saved_elems
    out = allocate(e.type, sizes)
    dtype = e.type.dtype

    def body(ivs: list[ir.Value]) -> None:
        saved = em.env.get(ELEMS), em.env.get(COORDS)
        em.env[ELEMS], em.env[COORDS] = values, ivs
        value = em.expr(e.body)
        em.env[ELEMS], em.env[COORDS] = saved
        memref.store(ops.to_storage(dtype, value), out, ivs)

    loop_nest(sizes, body)
    return out


def emit_coord(em: Emitter, e: tir.Coord) -> Any:
    return arith.index_cast(to_mlir_type(T.i64), em.env[COORDS][e.axis])


def emit_array_literal(em: Emitter, e: tir.ArrayLiteral) -> Any:
    assert isinstance(e.type, T.Array)
    values = [ops.to_storage(e.type.dtype, em.expr(i)) for i in e.items]  # left to right
    out = allocate(e.type, [_c(n) for n in e.shape])
    for flat, value in enumerate(values):
        coords, rest = [], flat
        for n in reversed(e.shape):
            coords.append(_c(rest % n))
            rest //= n
        memref.store(value, out, coords[::-1])
    return out


def _product(values: list[ir.Value]) -> ir.Value:
    out = _c(1)
    for v in values:
        out = arith.muli(out, v)
    return out


def _contiguous(sizes: list[ir.Value], strides: list[ir.Value]) -> ir.Value:
    """NumPy's C-contiguity: each axis longer than 1 has the stride of the axes after it
    (any empty array is contiguous)."""
    i1 = ir.IntegerType.get_signless(1)
    ok, empty, expected = arith.constant(i1, 1), arith.constant(i1, 0), _c(1)
    for size, stride in zip(reversed(sizes), reversed(strides), strict=True):
        fits = arith.ori(arith.cmpi(CI.eq, size, _c(1)), arith.cmpi(CI.eq, stride, expected))
        ok = arith.andi(ok, fits)
        empty = arith.ori(empty, arith.cmpi(CI.eq, size, _c(0)))
        expected = arith.muli(expected, size)
    return arith.ori(ok, empty)


def _new_sizes(em: Emitter, e: tir.Reshape, total: ir.Value) -> list[ir.Value]:
    """The requested sizes with the unknown (negative) one inferred; checked against the
    array's size (ValueError at the node's site)."""
    wanted = [em.index(em.expr(s)) for s in e.shape]
    negative = [arith.cmpi(CI.slt, w, _c(0)) for w in wanted]
    known = _product([arith.select(n, _c(1), w) for n, w in zip(negative, wanted, strict=True)])
    unknown = _c(0)
    for n in negative:
        unknown = arith.addi(unknown, arith.select(n, _c(1), _c(0)))
    divisor = arith.select(arith.cmpi(CI.eq, known, _c(0)), _c(1), known)
    inferred = arith.divsi(total, divisor)
    exact = arith.cmpi(CI.eq, known, total)
    fits = arith.andi(arith.cmpi(CI.ne, known, _c(0)),
                      arith.cmpi(CI.eq, arith.remsi(total, divisor), _c(0)))
    ok = arith.select(arith.cmpi(CI.eq, unknown, _c(0)), exact,
                      arith.andi(arith.cmpi(CI.eq, unknown, _c(1)), fits))
    if e.check is not None:
        bad = arith.xori(ok, arith.constant(ok.type, 1))
        raise_if(em, bad, e.check, [(v, T.i64) for v in [total, *wanted]])
    return [arith.select(n, inferred, w) for n, w in zip(negative, wanted, strict=True)]


def _reshape_marker(e: tir.Reshape, array: ir.Value, new: list[ir.Value]) -> ir.Value:
    """Derivative builds: a placeholder view with the new sizes, marked `RESHAPE`, that
    lowering/reshapes.py folds into the indices of its loads and stores before Enzyme (which
    has no rule for the metadata ops); reading it reads the array in C order."""
    dyn, dyn_stride = ir.ShapedType.get_dynamic_size(), ir.ShapedType.get_dynamic_stride_or_offset()
    n = len(new)
    view = memref.reinterpret_cast(to_mlir_type(e.type), array, [_c(0)], new, [_c(1)] * n,
                                   [dyn_stride], [dyn] * n, [dyn_stride] * n)
    view.owner.attributes[RESHAPE] = ir.UnitAttr.get()
    return view


def _copy(array: ir.Value, t: T.Array, sizes: list[ir.Value]) -> ir.Value:
    """A C-contiguous copy of `array`."""
    out = allocate(t, sizes)
    loop_nest(sizes, lambda ivs: memref.store(memref.load(array, ivs), out, ivs))
    return out


def emit_reshape(em: Emitter, e: tir.Reshape) -> Any:
    assert isinstance(e.array.type, T.Array)
    array = em.expr(e.array)
    rank = e.array.type.ndim
    if em.ad:  # no strided metadata: remove-dead-values erases it when some results are dead
        return _reshape_marker(e, array, _new_sizes(
            em, e, _product([em.dim(array, k) for k in range(rank)])))
    meta = memref.ExtractStridedMetadataOp(array)
    sizes, strides = list(meta.sizes)[:rank], list(meta.strides)[:rank]
    new = _new_sizes(em, e, _product(sizes))
    # yield the buffer and offset, not the memref: the contiguous variant retypes `array`
    branch = scf.IfOp(_contiguous(sizes, strides), [meta.base_buffer.type, meta.offset.type],
                      has_else=True)
    with ir.InsertionPoint(branch.then_block):
        scf.YieldOp([meta.base_buffer, meta.offset])
    with ir.InsertionPoint(branch.else_block):
        copied = memref.ExtractStridedMetadataOp(_copy(array, e.array.type, sizes))
        scf.YieldOp([copied.base_buffer, copied.offset])
    base, offset = branch.results
    out_strides, step = [], _c(1)
    for size in reversed(new):
        out_strides.append(step)
        step = arith.muli(step, size)
    dyn, dyn_stride = ir.ShapedType.get_dynamic_size(), ir.ShapedType.get_dynamic_stride_or_offset()
    n = len(new)
    return memref.reinterpret_cast(to_mlir_type(e.type), base, [offset],
                                   new, out_strides[::-1], [dyn_stride], [dyn] * n,
                                   [dyn_stride] * n)
