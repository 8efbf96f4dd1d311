"""Statement rules of the IR emitter: one function per `tir` statement class.

`if` -> `scf.if` yielding the merged variables; `for` -> `scf.for` over an index counter
(negative and run-time steps become a trip count, so the loop stays counted for later affine
raising); `while` -> `scf.while` whose before-region evaluates the condition.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlir import ir
from mlir.dialects import arith, func, memref, scf

from .. import types as T
from ..frontend import tir
from . import ops
from .epilogue import emit_array_store_fused
from .exprs import indices
from .loops import cold_loop
from .matmul import emit_matmul
from .parallelfor import emit_parallel_for
from .protocols import Emitter
from .raising import raise_at
from .types import flat_types, storage_type
from .views import emit_fill


def _assign(em: Emitter, s: tir.Assign) -> None:
    em.env[s.name] = em.expr(s.value)


def _store(em: Emitter, s: tir.Store) -> None:
    array = em.expr(s.array)
    value = ops.to_storage(_dtype(s.array.type), em.expr(s.value))
    memref.store(value, array, indices(em, array, s.indices, s.wrap, s.check))


def _dtype(t: T.Type) -> T.Scalar:
    assert isinstance(t, T.Array)
    return t.dtype


def _expr_stmt(em: Emitter, s: tir.ExprStmt) -> None:
    em.expr(s.value)


def _return(em: Emitter, s: tir.Return) -> None:
    if s.value is None or isinstance(s.value.type, T.NoneType):
        if s.value is not None:
            em.expr(s.value)
        func.ReturnOp([])
        return
    value = em.expr(s.value)
    values = em.conform(list(value) if isinstance(value, tuple) else [value], s.value.type)
    if em.ad:  # Enzyme 0.0.16 crashes when a function returns an scf.if result directly
        values = [_fresh(v) for v in values]
    func.ReturnOp(values)


def _fresh(value: ir.Value) -> ir.Value:
    """`value + (-0.0)`: the same float (signed zeros and NaN included), as a new SSA value."""
    if not isinstance(value.type, ir.FloatType):
        return value
    return arith.addf(value, arith.constant(value.type, ir.FloatAttr.get(value.type, -0.0)))


def _if(em: Emitter, s: tir.If) -> None:
    cond = em.expr(s.cond)
    types = [mt for _, t in s.carried for mt in flat_types(t)]
    has_else = bool(types) or bool(s.orelse)
    op = scf.IfOp(cond, types, has_else=has_else)
    saved = dict(em.env)
    branches = [(op.then_block, s.then)] + ([(op.else_block, s.orelse)] if has_else else [])
    for block, body in branches:
        em.env = dict(saved)
        with ir.InsertionPoint(block):
            em.block(body)
            scf.YieldOp(em.flatten(s.carried))
    em.env = saved
    em.bind(s.carried, op.results)


def _for(em: Emitter, s: tir.For) -> None:
    if s.parallel and em.ad:  # a prange loop kept parallel for Enzyme (frontend/parallelad.py)
        return emit_parallel_for(em, s)
    start, stop, step = em.expr(s.start), em.expr(s.stop), em.expr(s.step)
    index = ir.IndexType.get()
    one = arith.constant(index, 1)
    unit = isinstance(s.step, tir.Const) and s.step.value == 1
    if unit:
        lb, ub = em.index(start), em.index(stop)
    else:
        lb, ub = arith.constant(index, 0), em.index(ops.range_len(start, stop, step))
    loop = scf.ForOp(lb, ub, one, em.flatten(s.carried))
    if s.cold or em.plain_loops:
        loop.operation.attributes["loop_annotation"] = cold_loop()
    saved = dict(em.env)
    with ir.InsertionPoint(loop.body):
        em.bind(s.carried, loop.inner_iter_args)
        iv = arith.index_cast(ir.IntegerType.get_signless(64), loop.induction_variable)
        if not unit:
            iv = arith.addi(start, arith.muli(iv, step))
        em.env[s.var] = iv
        em.block(s.body)
        scf.YieldOp(em.flatten(s.carried))
    em.env = saved
    em.bind(s.carried, loop.results)


def _while(em: Emitter, s: tir.While) -> None:
    types = [mt for _, t in s.carried for mt in flat_types(t)]
    op = scf.WhileOp(types, em.flatten(s.carried))
    before = op.before.blocks.append(*types)
    after = op.after.blocks.append(*types)
    saved = dict(em.env)
    with ir.InsertionPoint(before):
        em.bind(s.carried, before.arguments)
        cond = em.expr(s.cond)
        scf.ConditionOp(cond, list(before.arguments))
    em.env = dict(saved)
    with ir.InsertionPoint(after):
        em.bind(s.carried, after.arguments)
        em.block(s.body)
        scf.YieldOp(em.flatten(s.carried))
    em.env = saved
    em.bind(s.carried, op.results)


def _parallel(em: Emitter, s: tir.ParallelLaunch) -> None:
    """Call the launcher of the outlined worker (runtime/parallel.py), then combine the
    workers' partial reductions in thread order."""
    i32, index = ir.IntegerType.get_signless(32), ir.IndexType.get()
    trips = em.expr(s.trips)
    args = [v for a in s.args for v in em.conform([em.expr(a)], a.type)]
    most = func.call([i32], ir.FlatSymbolRefAttr.get(em.extern("omp_get_max_threads", [], [i32])),
                     [])
    slots = arith.index_cast(index, most)
    buffers = [memref.alloc(ir.MemRefType.get([ir.ShapedType.get_dynamic_size()],
                                              storage_type(_scalar(t))), [slots], [])
               for _, _, t in s.reductions]
    inputs = [v.type for v in [trips, *args, *buffers]]
    launcher = em.extern(f"__ember_par_{s.worker}", inputs, [i32])
    used = func.call([i32], ir.FlatSymbolRefAttr.get(launcher), [trips, *args, *buffers])
    for (name, op, t), buffer in zip(s.reductions, buffers, strict=True):
        em.env[name] = _combine(em, name, op, _scalar(t), buffer, arith.index_cast(index, used))


def _combine(em: Emitter, name: str, op: str, t: T.Scalar, buffer: ir.Value,
             count: ir.Value) -> ir.Value:
    index = ir.IndexType.get()
    start = em.env.get(name)
    start = ops.const(t, 0) if start is None else start
    loop = scf.ForOp(arith.constant(index, 0), count, arith.constant(index, 1), [start])
    with ir.InsertionPoint(loop.body):
        part = ops.from_storage(t, memref.load(buffer, [loop.induction_variable]))
        acc = loop.inner_iter_args[0]
        value = (ops.BINARY[op](t, acc, part) if op in ("add", "mul")
                 else ops.call(op, t, [acc, part], em.libm))
        scf.YieldOp([value])
    return loop.results[0]


def _scalar(t: T.Type) -> T.Scalar:
    assert isinstance(t, T.Scalar)
    return t


def _raise(em: Emitter, s: tir.Raise) -> None:
    raise_at(em, s.site, [(em.expr(a), _scalar(a.type)) for a in s.args])


RULES: dict[type, Callable[[Emitter, Any], None]] = {
    tir.Assign: _assign, tir.Store: _store, tir.ExprStmt: _expr_stmt, tir.Return: _return,
    tir.If: _if, tir.For: _for, tir.While: _while, tir.ParallelLaunch: _parallel,
    tir.MatMul: emit_matmul, tir.Raise: _raise, tir.Fill: emit_fill,
    tir.ArrayStore: emit_array_store_fused,
}
