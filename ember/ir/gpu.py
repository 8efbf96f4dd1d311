"""IR stage for `target="gpu"`: each prange `Nest` of a `GpuPlan` -> one host `func.func`
holding one `scf.parallel`, which the GPU stages (lowering/gpu.py) map to a kernel.

The function of nest `n` with grid loops l_0 (outermost) .. l_{d-1} takes, in this order:
the trip counts of l_0..l_{d-1} (index), then (start, step) of each loop (i64), the captured
values, and one `memref<1xT>` buffer per scalar reduction. The parallel loop runs over the
trip counts with the *innermost* loop first, so that it maps to the x dimension of the grid
(consecutive threads touch consecutive elements). Loop variables are rebuilt as
`start + k * step`. The body is emitted by the ordinary `Emitter`, with two additions: the
frontend's `AtomicAdd` statements become `memref.atomic_rmw`, and each reduction starts at
zero in every iteration and is atomically added to its buffer at the end of the iteration.
`ARG_KINDS` names what each function argument is, for the launcher.
"""

from __future__ import annotations

from typing import Any

from mlir import ir
from mlir.dialects import arith, func, memref, scf

from .. import types as T
from ..frontend import tir
from ..frontend.gpu import AtomicAdd, GpuPlan, Nest
from . import ops, stmts
from .context import location
from .emitter import Emitter
from .exprs import indices
from .types import scalar_type, storage_type, to_mlir_type

_ATOMIC_ADD = {True: 0, False: 1}
"""arith::AtomicRMWKind: addf = 0, addi = 1 (by `is_float`)."""


def emit_gpu_module(plan: GpuPlan) -> tuple[ir.Module, list[list[list]]]:
    """The host module of `plan` (one function per nest) and, per nest, the description of
    each function argument: ["count", d], ["start", d], ["step", d], ["value", name] or
    ["reduction", k], followed by its MLIR type."""
    module = ir.Module.create()
    program = tir.Program(plan.fn.symbol, {plan.fn.symbol: plan.fn})
    emitter = GpuEmitter(module, program)
    return module, [emitter.nest(n) for n in plan.nests]


class GpuEmitter(Emitter):
    """The ordinary emitter plus the device-only statements."""

    def block(self, body: tuple[tir.Stmt, ...]) -> None:
        for s in body:
            with location(s.span):
                if isinstance(s, AtomicAdd):
                    _atomic_add(self, s)
                else:
                    stmts.RULES[type(s)](self, s)

    def nest(self, n: Nest) -> list[list]:
        index, i64 = ir.IndexType.get(), scalar_type(T.i64)
        depth = len(n.loops)
        kinds = [["count", d] for d in range(depth)]
        kinds += [[part, d] for d in range(depth) for part in ("start", "step")]
        kinds += [["value", name] for name, _ in n.captured]
        kinds += [["reduction", k] for k in range(len(n.reductions))]
        inputs = [index] * depth + [i64] * (2 * depth) + [to_mlir_type(t) for _, t in n.captured]
        inputs += [_buffer_type(t) for _, t in n.reductions]
        kinds = [[*kind, str(t)] for kind, t in zip(kinds, inputs, strict=True)]
        with ir.InsertionPoint(self.module.body), location(n.loops[0].span):
            op = func.FuncOp(n.name, ir.FunctionType.get(inputs, []))
        block = op.add_entry_block()
        args = list(block.arguments)
        self.env = {name: args[3 * depth + k] for k, (name, _) in enumerate(n.captured)}
        with ir.InsertionPoint(block), location(n.loops[0].span):
            self._parallel(n, args)
            func.ReturnOp([])
        return kinds

    def _parallel(self, n: Nest, args: list[Any]) -> None:
        depth = len(n.loops)
        index = ir.IndexType.get()
        zero, one = arith.constant(index, 0), arith.constant(index, 1)
        counts = list(reversed(args[:depth]))
        loop = scf.ParallelOp([], [zero] * depth, counts, [one] * depth, [])
        body = loop.regions[0].blocks.append(*[index] * depth)
        buffers = args[len(args) - len(n.reductions):] if n.reductions else []
        with ir.InsertionPoint(body):
            ivs = list(reversed(list(body.arguments)))
            for d, lp in enumerate(n.loops):
                k = arith.index_cast(scalar_type(T.i64), ivs[d])
                start, step = args[depth + 2 * d], args[depth + 2 * d + 1]
                self.env[lp.var] = arith.addi(start, arith.muli(k, step))
            for name, t in n.reductions:
                self.env[name] = ops.const(t, 0)
            self.block(n.body)
            for (name, t), buffer in zip(n.reductions, buffers, strict=True):
                memref.AtomicRMWOp(_kind(t), self.env[name], buffer, [zero])
            scf.ReduceOp([], 0)


def _buffer_type(t: T.Scalar) -> ir.MemRefType:
    return ir.MemRefType.get([1], storage_type(t))


def _kind(t: T.Scalar) -> ir.Attribute:
    return ir.IntegerAttr.get(ir.IntegerType.get_signless(64), _ATOMIC_ADD[t.is_float])


def _atomic_add(em: Emitter, s: AtomicAdd) -> None:
    array = em.expr(s.array)
    t = s.array.type
    assert isinstance(t, T.Array)
    value = em.expr(s.value)
    memref.AtomicRMWOp(_kind(t.dtype), value, array, indices(em, array, s.indices, s.wrap))
