"""IR rules for NumPy reductions and scans: `tir.Reduce` and `tir.Scan` -> scf loop nests.

The source `ArrayMap` is never materialized: its inputs are evaluated once, broadcast to
one shape at run time (ir/arrays.py's rule and error site), and its body is emitted at each
element inside the loops, so `np.sum(a * b)` is one pass over `a` and `b`. The nest runs
over the kept axes outside and the reduced axes inside (in C order), the state (an
accumulator; for argmin/argmax the best value, its index and a counter) carried by
`scf.for` iteration arguments, so each result element is finished in registers. Float sums
and products carry the `reassoc` fast-math flag on their accumulating op only: LLVM then
vectorizes and interleaves them (several partial sums, as NumPy's pairwise summation
does), which is what makes them as fast as NumPy's and as accurate. Float min/max are
llvm.maxnum/minnum under `nnan nsz` (vector max instructions) beside a flag of any NaN seen,
which then makes the result NaN (the sign of a zero result depends on the order, as in
NumPy's SIMD loops); argmin/argmax return the first NaN's index, as NumPy does, and run by
blocks along one axis (a vector max per block, an exact scan only of blocks that improve).
Reductions that keep the last axis (`m.sum(axis=0)`) read the source in C order and
accumulate into their result row by row (contiguous, vectorized) instead of one strided
pass per result element. mean is the sum over the count; var/std a second pass over the
deviations from the mean.

Derivative builds (`em.ad`) emit the same loop nests for Enzyme with broadcasting folded into
the load indices (a size-1 axis is read at 0, as ir/arrays.py does) instead of stride-0
views, sums and products in order without `reassoc`, float min/max as selects (the
derivative flows to the first extreme element; a NaN propagates), and keepdims sizes that do
not fold to a constant 1 (`_one`). argmin/argmax/any/all have no derivative of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from mlir import ir
from mlir.dialects import arith, llvm, math, memref, scf

from .. import types as T
from ..frontend import tir
from . import ops
from .arrays import ELEMS, _broadcast, _inputs, _spread
from .loops import allocate, loop_nest
from .protocols import Emitter
from .raising import raise_if

CI = arith.CmpIPredicate
State = list[ir.Value]
Reader = Callable[[list[ir.Value]], ir.Value]
"""The source's element at full indices."""


def _c(value: int) -> ir.Value:
    return arith.constant(ir.IndexType.get(), value)


def _reassoc() -> ir.Attribute:
    return ir.Attribute.parse("#arith.fastmath<reassoc>")


# --- the source's elements ---------------------------------------------------------------------
def _reader(em: Emitter, m: tir.ArrayMap) -> tuple[Reader, list[ir.Value]]:
    """How to read `m`'s body at an element, and the broadcast shape."""
    read, shape, _ = reader_views(em, m)
    return read, shape


def reader_views(em: Emitter, m: tir.ArrayMap) -> tuple[Reader, list[ir.Value], list[Any]]:
    """`_reader`, and each input's broadcast view (None for a scalar; in derivative builds
    a list of size-1 flags) for callers that pick a loop order from the views' strides."""
    assert isinstance(m.type, T.Array)
    values, arrays = _inputs(em, m)
    shape = _broadcast(em, arrays, m.type.ndim, m.check)
    ndim = len(shape)
    views: list[Any] = []
    for value, e in zip(values, m.inputs, strict=True):
        if not isinstance(e.type, T.Array):
            views.append(None)
        elif em.ad:  # broadcasting folded into the indices: a size-1 axis is read at 0
            views.append([arith.cmpi(CI.eq, em.dim(value, k), _c(1))
                          for k in range(e.type.ndim)])
        else:
            views.append(_spread(value, e.type.ndim, shape, e.type.dtype))

    def load(value: ir.Value, view: Any, ivs: list[ir.Value]) -> ir.Value:
        if not isinstance(view, list):
            return memref.load(view, ivs)
        lead = ndim - len(view)
        return memref.load(value, [arith.select(one, _c(0), ivs[lead + k])
                                   for k, one in enumerate(view)])

    def read(ivs: list[ir.Value]) -> ir.Value:
        elems = []
        for value, view, e in zip(values, views, m.inputs, strict=True):
            if view is None:
                elems.append(value)
            else:
                assert isinstance(e.type, T.Array)
                elems.append(ops.from_storage(e.type.dtype, load(value, view, ivs)))
        saved = em.env.get(ELEMS)
        em.env[ELEMS] = tuple(elems)
        result = em.expr(m.body)
        em.env[ELEMS] = saved
        return result

    return read, shape, views


# --- loop nests ---------------------------------------------------------------------------------
def _carry(sizes: list[ir.Value], init: State,
           step: Callable[[list[ir.Value], State], State]) -> State:
    """`step` at every point of `sizes` (C order), its state carried through the loops."""
    if not sizes:
        return step([], init)
    loop = scf.ForOp(_c(0), sizes[0], _c(1), init)
    with ir.InsertionPoint(loop.body):
        iv = loop.induction_variable
        state = _carry(sizes[1:], list(loop.inner_iter_args),
                       lambda ivs, st: step([iv, *ivs], st))
        scf.YieldOp(state)
    return list(loop.results)


def _merge(axes: tuple[int, ...], ndim: int, kept: list[ir.Value],
           reduced: list[ir.Value]) -> list[ir.Value]:
    """Full indices from the kept axes' and the reduced axes' indices."""
    k, r = iter(kept), iter(reduced)
    return [next(r) if a in axes else next(k) for a in range(ndim)]


def _count(shape: list[ir.Value], axes: tuple[int, ...]) -> ir.Value:
    """The number of elements each result element reduces (an index)."""
    n = _c(1)
    for a in axes:
        n = arith.muli(n, shape[a])
    return n


def _nest(shape: list[ir.Value], axes: tuple[int, ...], init: Callable[[], State],
          step: Callable[[list[ir.Value], State], State],
          finish: Callable[[list[ir.Value], State], None]) -> None:
    """For each kept index: `step` over the reduced axes from `init()`, then `finish`."""
    ndim = len(shape)
    kept = [shape[a] for a in range(ndim) if a not in axes]
    reduced = [shape[a] for a in axes]

    def outer(kivs: list[ir.Value]) -> None:
        state = _carry(reduced, init(),
                       lambda rivs, st: step(_merge(axes, ndim, kivs, rivs), st))
        finish(kivs, state)

    loop_nest(kept, outer)


# --- reductions --------------------------------------------------------------------------------
def _identity(kind: str, t: T.Scalar) -> ir.Value:
    if kind in ("min", "max", "argmin", "argmax"):
        low = kind.endswith("max")
        if t.is_float:
            value: bool | int | float = -np.inf if low else np.inf
        elif t.is_bool:
            value = not low
        else:
            info = np.iinfo(t.np_dtype)
            value = int(info.min if low else info.max)
        return ops.const(t, value)
    start = {"sum": 0, "mean": 0, "var": 0, "std": 0, "prod": 1, "any": False, "all": True}
    return ops.const(t, start[kind])


def _combine(em: Emitter, kind: str, t: T.Scalar, acc: ir.Value, x: ir.Value) -> ir.Value:
    if kind in ("min", "max"):
        if em.ad and t.is_float:
            return _pick(kind == "max", t, acc, x)
        return _extreme(em, kind == "max", t, acc, x)
    if kind == "any":
        return arith.ori(acc, x)
    if kind == "all":
        return arith.andi(acc, x)
    if t.is_float:
        if em.ad:  # in order, one accumulator: the loop Enzyme differentiates
            return arith.mulf(acc, x) if kind == "prod" else arith.addf(acc, x)
        if kind == "prod":
            return arith.mulf(acc, x, fastmath=_reassoc())
        return arith.addf(acc, x, fastmath=_reassoc())
    return ops.BINARY["mul" if kind == "prod" else "add"](t, acc, x)


def _extreme(em: Emitter, larger: bool, t: T.Scalar, acc: ir.Value, x: ir.Value) -> ir.Value:
    """NaN-propagating max/min of two values (`_rows`' element updates). Floats use
    llvm.maximum/minimum: arith.maximumf would be expanded by arith-expand into a
    compare-select chain; loop-carried reductions use `_extreme_step` instead."""
    if not t.is_float:
        return ops.call("maximum" if larger else "minimum", t, [acc, x], em.libm)
    return llvm.intr_maximum(acc, x) if larger else llvm.intr_minimum(acc, x)


def _extreme_init(kind: str, t: T.Scalar) -> State:
    return [_identity(kind, t), arith.constant(ir.IntegerType.get_signless(1), 0)]


def _extreme_step(larger: bool, st: State, x: ir.Value) -> State:
    """One step of a float max/min that vectorizes fully: llvm.maxnum under `nnan nsz` (one
    vector max instruction; a NaN only makes the value meaningless) beside a flag of whether
    a NaN was seen, which then decides the result (`_extreme_value`)."""
    flags = ir.Attribute.parse("#llvm.fastmath<nnan, nsz>")
    op = llvm.intr_maxnum if larger else llvm.intr_minnum
    return [op(st[0], x, fastmath_flags=flags),
            arith.ori(st[1], arith.cmpf(arith.CmpFPredicate.UNO, x, x))]


def _extreme_value(t: T.Scalar, st: State) -> ir.Value:
    return arith.select(st[1], ops.const(t, float("nan")), st[0])


def _pick(larger: bool, t: T.Scalar, acc: ir.Value, x: ir.Value) -> ir.Value:
    """max/min for derivative builds: a select, so the derivative flows to the first extreme
    element (the first NaN, which then stays: NaN propagates as with arith.maximumf)."""
    better = ops.compare("gt" if larger else "lt", t, x, acc)
    nan = arith.cmpf(arith.CmpFPredicate.UNO, x, x)
    first_nan = arith.andi(nan, arith.cmpf(arith.CmpFPredicate.ORD, acc, acc))
    return arith.select(arith.ori(better, first_nan), x, acc)


def _check_empty(em: Emitter, e: tir.Reduce, shape: list[ir.Value]) -> None:
    if e.check is not None:
        raise_if(em, arith.cmpi(CI.eq, _count(shape, e.axes), _c(0)), e.check)


def _one(em: Emitter, size: ir.Value) -> ir.Value:
    """A kept axis' size, 1. Derivative builds compute it from the run-time `size`: a
    constant 1 makes canonicalization give the alloc a static shape and a `memref.cast`
    that the reverse-mode output cannot lower (np.zeros((1, n)) shows it too)."""
    if not em.ad:
        return _c(1)
    return arith.maxui(arith.minui(size, _c(1)), _c(1))


class _Out:
    """Where result elements go: a scalar (every axis reduced, no keepdims) or a new array."""

    def __init__(self, em: Emitter, e: tir.Reduce, shape: list[ir.Value]) -> None:
        self.e = e
        self.scalar: ir.Value | None = None
        self.array: ir.Value | None = None
        if isinstance(e.type, T.Array):
            sizes = [_one(em, s) if a in e.axes else s for a, s in enumerate(shape)] \
                if e.keepdims else [s for a, s in enumerate(shape) if a not in e.axes]
            self.array = allocate(e.type, sizes)

    def _at(self, kivs: list[ir.Value]) -> list[ir.Value]:
        t = self.e.type
        assert isinstance(t, T.Array)
        return _merge(self.e.axes, t.ndim, kivs, [_c(0)] * len(self.e.axes)) \
            if self.e.keepdims else kivs

    def put(self, kivs: list[ir.Value], value: ir.Value) -> None:
        if self.array is None:
            self.scalar = value
            return
        assert isinstance(self.e.type, T.Array)
        memref.store(ops.to_storage(self.e.type.dtype, value), self.array, self._at(kivs))

    def get(self, kivs: list[ir.Value]) -> ir.Value:
        """The result element at `kivs` (an array result only)."""
        assert self.array is not None and isinstance(self.e.type, T.Array)
        return ops.from_storage(self.e.type.dtype, memref.load(self.array, self._at(kivs)))

    def result(self) -> ir.Value:
        value = self.array if self.array is not None else self.scalar
        assert value is not None
        return value


def _fold(em: Emitter, kind: str, t: T.Scalar, read: Reader, shape: list[ir.Value],
          axes: tuple[int, ...], finish: Callable[[list[ir.Value], ir.Value], None]) -> None:
    """`finish(kept indices, reduction of read over axes)` for each result element."""
    if kind in ("min", "max") and t.is_float and not em.ad:
        _nest(shape, axes, lambda: _extreme_init(kind, t),
              lambda ivs, st: _extreme_step(kind == "max", st, read(ivs)),
              lambda kivs, st: finish(kivs, _extreme_value(t, st)))
        return
    _nest(shape, axes, lambda: [_identity(kind, t)],
          lambda ivs, st: [_combine(em, kind, t, st[0], read(ivs))],
          lambda kivs, st: finish(kivs, st[0]))


ROW_KINDS = ("sum", "prod", "min", "max", "any", "all", "mean")
"""Reductions `_rows` can accumulate element by element into their output."""


def _by_rows(em: Emitter, e: tir.Reduce, ndim: int, out: _Out) -> bool:
    """Whether `e` keeps the last axis (contiguous in the source): then `_rows` reads the
    source in C order instead of one strided pass per result element."""
    return (not em.ad and out.array is not None and e.kind in ROW_KINDS
            and ndim - 1 not in e.axes)


def _rows(em: Emitter, e: tir.Reduce, t: T.Scalar, read: Reader, shape: list[ir.Value],
          out: _Out) -> None:
    """Every source element, in C order, combined into its result element: the inner loop
    runs along a kept, contiguous axis and vectorizes (NumPy's order for axis=0 too)."""
    kind = "sum" if e.kind == "mean" else e.kind
    kept = [s for a, s in enumerate(shape) if a not in e.axes]

    def keep(ivs: list[ir.Value]) -> list[ir.Value]:
        return [iv for a, iv in enumerate(ivs) if a not in e.axes]

    loop_nest(kept, lambda kivs: out.put(kivs, _identity(kind, t)))
    loop_nest(shape, lambda ivs: out.put(
        keep(ivs), _combine(em, kind, t, out.get(keep(ivs)), read(ivs))))
    if e.kind == "mean":
        n = _as_float(t, _count(shape, e.axes))
        loop_nest(kept, lambda kivs: out.put(kivs, ops.BINARY["truediv"](t, out.get(kivs), n)))


ARG_BLOCK = 256
"""Elements per block of `_arg_blocks`."""


def _better(larger: bool, t: T.Scalar, x: ir.Value, best: ir.Value) -> ir.Value:
    """Whether `x` replaces `best` as argmax/argmin's extreme (a first NaN always does)."""
    better = ops.compare("gt" if larger else "lt", t, x, best)
    if t.is_float:
        nan = arith.cmpf(arith.CmpFPredicate.UNO, x, x)
        old_nan = arith.cmpf(arith.CmpFPredicate.UNO, best, best)
        better = arith.ori(better, arith.andi(nan, arith.xori(old_nan, _true())))
    return better


def _arg_blocks(em: Emitter, e: tir.Reduce, t: T.Scalar, read: Reader,
                shape: list[ir.Value], out: _Out) -> None:
    """argmin/argmax of floats along one axis, by blocks: a block's extreme is a vectorized
    max/min reduction, and only a block whose extreme beats the best so far (or holds the
    first NaN) is scanned again element by element for its first extreme's index."""
    larger = e.kind == "argmax"
    ndim, n = len(shape), shape[e.axes[0]]
    kept = [s for a, s in enumerate(shape) if a not in e.axes]
    i64 = ir.IntegerType.get_signless(64)

    def outer(kivs: list[ir.Value]) -> None:
        def at(r: ir.Value) -> ir.Value:
            return read(_merge(e.axes, ndim, kivs, [r]))

        def scan(lo: ir.Value, hi: ir.Value, st: State) -> State:
            loop = scf.ForOp(lo, hi, _c(1), st)
            with ir.InsertionPoint(loop.body):
                r = loop.induction_variable
                best, where = loop.inner_iter_args
                x = at(r)
                better = _better(larger, t, x, best)
                scf.YieldOp([arith.select(better, x, best),
                             arith.select(better, arith.index_cast(i64, r), where)])
            return list(loop.results)

        def extreme(lo: ir.Value) -> ir.Value:
            loop = scf.ForOp(lo, arith.addi(lo, _c(ARG_BLOCK)), _c(1),
                             _extreme_init(e.kind, t))
            with ir.InsertionPoint(loop.body):
                scf.YieldOp(_extreme_step(larger, list(loop.inner_iter_args),
                                          at(loop.induction_variable)))
            return _extreme_value(t, list(loop.results))

        full = arith.muli(arith.divui(n, _c(ARG_BLOCK)), _c(ARG_BLOCK))
        blocks = scf.ForOp(_c(0), full, _c(ARG_BLOCK),
                           [_identity(e.kind, t), ops.const(T.i64, 0)])
        with ir.InsertionPoint(blocks.body):
            lo = blocks.induction_variable
            st = list(blocks.inner_iter_args)
            branch = scf.IfOp(_better(larger, t, extreme(lo), st[0]), [v.type for v in st],
                              has_else=True)
            with ir.InsertionPoint(branch.then_block):
                scf.YieldOp(scan(lo, arith.addi(lo, _c(ARG_BLOCK)), st))
            with ir.InsertionPoint(branch.else_block):
                scf.YieldOp(st)
            scf.YieldOp(list(branch.results))
        out.put(kivs, scan(full, n, list(blocks.results))[1])

    loop_nest(kept, outer)


def _arg(em: Emitter, e: tir.Reduce, t: T.Scalar, read: Reader, shape: list[ir.Value],
         out: _Out) -> None:
    """argmin/argmax: the first index of the extreme (of the first NaN, if any)."""
    i64 = T.i64
    larger = e.kind == "argmax"

    def step(ivs: list[ir.Value], st: State) -> State:
        best, where, n = st
        x = read(ivs)
        better = _better(larger, t, x, best)
        return [arith.select(better, x, best), arith.select(better, n, where),
                arith.addi(n, ops.const(i64, 1))]

    _nest(shape, e.axes,
          lambda: [_identity(e.kind, t), ops.const(i64, 0), ops.const(i64, 0)],
          step, lambda kivs, st: out.put(kivs, st[1]))


def _true() -> ir.Value:
    return arith.constant(ir.IntegerType.get_signless(1), 1)


def _as_float(t: T.Scalar, n: ir.Value) -> ir.Value:
    return ops.convert(T.i64, t, arith.index_cast(ir.IntegerType.get_signless(64), n))


def _moments(em: Emitter, e: tir.Reduce, t: T.Scalar, read: Reader, shape: list[ir.Value],
             out: _Out) -> None:
    """mean, var, std: sum / n; then the sum of squared deviations / max(n - ddof, 0)."""
    n = _as_float(t, _count(shape, e.axes))
    if e.kind == "mean":
        _fold(em, "sum", t, read, shape, e.axes,
              lambda kivs, s: out.put(kivs, ops.BINARY["truediv"](t, s, n)))
        return
    ddof = ops.const(T.f64, 0.0) if e.ddof is None else em.expr(e.ddof)
    ddof = ops.convert(T.f64, t, ddof)
    zero = ops.const(t, 0.0)
    diff = arith.subf(n, ddof)
    # max(n - ddof, 0), NaN propagating, as a select (Enzyme's rules cover it)
    dof = arith.select(arith.cmpf(arith.CmpFPredicate.UGT, diff, zero), diff, zero)
    ndim = len(shape)

    def finish(kivs: list[ir.Value], s: ir.Value) -> None:
        mean = arith.divf(s, n)

        def deviation(ivs: list[ir.Value]) -> ir.Value:
            d = arith.subf(read(ivs), mean)
            return arith.mulf(d, d)

        reduced = [shape[a] for a in e.axes]
        ss = _carry(reduced, [zero], lambda rivs, st: [
            _combine(em, "sum", t, st[0], deviation(_merge(e.axes, ndim, kivs, rivs)))])[0]
        var = arith.divf(ss, dof)
        out.put(kivs, math.sqrt(var) if e.kind == "std" else var)

    _fold(em, "sum", t, read, shape, e.axes, finish)


def emit_reduce(em: Emitter, e: tir.Reduce) -> Any:
    read, shape = _reader(em, e.source)
    _check_empty(em, e, shape)
    out = _Out(em, e, shape)
    src = e.source.type
    assert isinstance(src, T.Array)
    t = src.dtype
    if e.kind in ("argmin", "argmax") and t.is_float and len(e.axes) == 1 and not em.ad:
        _arg_blocks(em, e, t, read, shape, out)
    elif e.kind in ("argmin", "argmax"):
        _arg(em, e, t, read, shape, out)
    elif _by_rows(em, e, len(shape), out):
        _rows(em, e, t, read, shape, out)
    elif e.kind in ("mean", "var", "std"):
        _moments(em, e, t, read, shape, out)
    else:
        _fold(em, e.kind, t, read, shape, e.axes, out.put)
    return out.result()


# --- scans -------------------------------------------------------------------------------------
def emit_scan(em: Emitter, e: tir.Scan) -> Any:
    """cumsum/cumprod: the running sum (product) along the axis, or over all elements in C
    order into a 1-D result."""
    read, shape = _reader(em, e.source)
    assert isinstance(e.type, T.Array)
    t = e.type.dtype
    ndim = len(shape)
    if e.axis is None:
        total = _count(shape, tuple(range(ndim)))
        result = allocate(e.type, [total])

        def flat(ivs: list[ir.Value], st: State) -> State:
            acc = _running(e.kind, t, st[0], read(ivs))
            memref.store(ops.to_storage(t, acc), result, [st[1]])
            return [acc, arith.addi(st[1], _c(1))]

        _carry(shape, [_identity(e.kind, t), _c(0)], flat)
        return result
    result = allocate(e.type, shape)

    def along(ivs: list[ir.Value], st: State) -> State:
        acc = _running(e.kind, t, st[0], read(ivs))
        memref.store(ops.to_storage(t, acc), result, ivs)
        return [acc]

    _nest(shape, (e.axis,), lambda: [_identity(e.kind, t)], along, lambda kivs, st: None)
    return result


def _running(kind: str, t: T.Scalar, acc: ir.Value, x: ir.Value) -> ir.Value:
    """The next running value (in order: a scan is not reassociated)."""
    if t.is_float:
        return arith.mulf(acc, x) if kind == "prod" else arith.addf(acc, x)
    return ops.BINARY["mul" if kind == "prod" else "add"](t, acc, x)
