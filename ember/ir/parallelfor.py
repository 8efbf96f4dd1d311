"""IR rule of derivative builds: a `prange` loop the frontend kept parallel -> `scf.parallel`.

Input: a `tir.For(parallel=True)` of a kernel emitted with `ad=True` (frontend/parallelad.py
chose it: independent iterations, carried variables only `+=` sums). Output: one
`scf.parallel` over the trip count. Enzyme 0.0.16 cannot reverse its `scf.reduce` ("parallel
reductions not yet implemented"), so each sum becomes a buffer of one term per iteration
(each iteration starts its sums at zero), added after the loop in iteration order: the serial
loop's sum, bitwise, whatever the thread count. Enzyme reverses the loop as a whole;
lowering/paralleladjoint.py then runs both sweeps on libgomp threads.
"""

from __future__ import annotations

from mlir import ir
from mlir.dialects import arith, memref, scf

from .. import types as T
from ..frontend import tir
from . import ops
from .protocols import Emitter
from .types import storage_type


def emit_parallel_for(em: Emitter, s: tir.For) -> None:
    start, stop, step = em.expr(s.start), em.expr(s.stop), em.expr(s.step)
    index = ir.IndexType.get()
    zero, one = arith.constant(index, 0), arith.constant(index, 1)
    trips = em.index(ops.range_len(start, stop, step))
    sums = [(name, _scalar(t)) for name, t in s.carried]
    terms = [memref.alloc(ir.MemRefType.get([ir.ShapedType.get_dynamic_size()],
                                            storage_type(t)), [trips], []) for _, t in sums]
    loop = scf.ParallelOp([], [zero], [trips], [one], [])
    body = loop.regions[0].blocks.append(index)
    saved = dict(em.env)
    with ir.InsertionPoint(body):
        k = body.arguments[0]
        em.env[s.var] = arith.addi(start, arith.muli(arith.index_cast(_I64(), k), step))
        for name, t in sums:
            em.env[name] = ops.const(t, 0)
        em.block(s.body)
        for (name, t), buffer in zip(sums, terms, strict=True):
            memref.store(ops.to_storage(t, em.env[name]), buffer, [k])
        scf.ReduceOp([], 0)
    em.env = saved
    for (name, t), buffer in zip(sums, terms, strict=True):
        em.env[name] = _add_terms(em.env[name], t, buffer, trips)


def _add_terms(total: ir.Value, t: T.Scalar, buffer: ir.Value, trips: ir.Value) -> ir.Value:
    """`total` plus every iteration's term, in iteration order (the serial loop's sum)."""
    index = ir.IndexType.get()
    loop = scf.ForOp(arith.constant(index, 0), trips, arith.constant(index, 1), [total])
    with ir.InsertionPoint(loop.body):
        term = ops.from_storage(t, memref.load(buffer, [loop.induction_variable]))
        scf.YieldOp([ops.BINARY["add"](t, loop.inner_iter_args[0], term)])
    return loop.results[0]


def _I64() -> ir.Type:
    return ir.IntegerType.get_signless(64)


def _scalar(t: T.Type) -> T.Scalar:
    assert isinstance(t, T.Scalar)
    return t
