"""IR stage for `target="gpu"`: each prange `Nest` of a `GpuPlan` -> one host `func.func`
holding one `scf.parallel`, which the GPU stages (lowering/gpu.py) map to a kernel.

The function of nest `n` with grid loops l_0 (outermost) .. l_{d-1} takes, in this order:
the trip counts of l_0..l_{d-1} (index), then (start, step) of each loop (i64), the captured
values, and one `memref<1xT>` buffer per scalar reduction. The parallel loop runs over the
trip counts with the *innermost* loop first, so that it maps to the x dimension of the grid
(consecutive threads touch consecutive elements). Loop variables are rebuilt as
`start + k * step`. The body is emitted by the ordinary `Emitter`, with the frontend's
`AtomicAdd` statements as `memref.atomic_rmw`, array code through ir/gpu_arrays.py's rules
(its loops marked not to unroll) and run-time checks as device assertions (`cf.assert`).

A nest with scalar reductions is *strided* instead: its function takes one more index
argument, the number of threads T (a multiple of the warp size, chosen by the launcher), and
runs a 1-D parallel loop over T in which thread t walks the linearized iteration space
t, t + T, t + 2T, ... (innermost loop fastest), accumulating each reduction in a register.
A nest with element sums (frontend/gpu.py: `total[0] += v`) runs strided too, each sum
accumulated like a reduction and finally added to its element. On the device
(`device=True`) the 32 lanes of a warp combine their partial sums with `gpu.shuffle xor`
and lane 0 adds the warp's sum to the reduction buffer or element atomically: one atomic
per warp instead of one per iteration. For the CPU stand-in of the tests
(`device=False`) each thread adds its own partial sum.
"""

from __future__ import annotations

from typing import Any

from mlir import ir
from mlir.dialects import arith, func, gpu, memref, scf

from .. import types as T
from ..frontend import tir
from ..frontend.gpu import AtomicAdd, GpuPlan, Nest
from . import exprs, gpu_arrays, ops, stmts
from .context import location, ops_where
from .emitter import Emitter
from .exprs import indices
from .loops import cold_loop
from .types import scalar_type, storage_type, to_mlir_type

_ATOMIC_ADD = {True: 0, False: 1}
"""arith::AtomicRMWKind: addf = 0, addi = 1 (by `is_float`)."""


def emit_gpu_module(plan: GpuPlan, device: bool = True) -> tuple[ir.Module, list[list[list]]]:
    """The host module of `plan` (one function per nest) and, per nest, the description of
    each function argument: ["count", d], ["start", d], ["step", d], ["value", name],
    ["reduction", k] or ["threads", 0], followed by its MLIR type. `device=False` leaves out
    the warp-level combination of reductions (for running the module on the CPU)."""
    module = ir.Module.create()
    program = tir.Program(plan.fn.symbol, {plan.fn.symbol: plan.fn}, plan.sites)
    emitter = GpuEmitter(module, program, device)
    return module, [emitter.nest(n) for n in plan.nests]


def is_strided(n: Nest) -> bool:
    """Whether nest `n` is launched as a strided 1-D grid (see the module docstring)."""
    return bool(n.reductions or n.sums)


class GpuEmitter(Emitter):
    """The ordinary emitter plus the device-only statements."""

    def __init__(self, module: ir.Module, program: tir.Program, device: bool) -> None:
        super().__init__(module, program)
        self.device = device

    def block(self, body: tuple[tir.Stmt, ...]) -> None:
        for s in body:
            with location(s.span):
                if isinstance(s, AtomicAdd):
                    _atomic_add(self, s)
                elif type(s) in gpu_arrays.RULES:
                    self.plain(lambda s=s: gpu_arrays.RULES[type(s)](self, s))
                elif isinstance(s, tir.Fill):
                    self.plain(lambda s=s: stmts.RULES[type(s)](self, s))
                else:
                    stmts.RULES[type(s)](self, s)

    def expr(self, e: tir.Expr) -> Any:
        rule = gpu_arrays.EXPR_RULES.get(type(e))
        if rule is None and not isinstance(e, tir.Reduce):
            return super().expr(e)
        with location(e.span):
            return self.plain(lambda: (rule or exprs.RULES[type(e)])(self, e))

    def plain(self, emit: Any) -> Any:
        """`emit()`, with the loops it creates (array code: one thread's loops over a view)
        neither unrolled nor vectorized: the unrolled reductions of a strided nest made
        ptxas spill registers."""
        fn = self.function.operation
        before = set(ops_where(fn, _is_loop))
        out = emit()
        for loop in ops_where(fn, _is_loop):
            if loop not in before and "loop_annotation" not in loop.attributes:
                loop.attributes["loop_annotation"] = cold_loop()
        return out

    def assert_message(self, site: int) -> str:
        """Run-time checks are device assertions (ir/raising.py: device code cannot raise):
        the message of check `site` (its exception and text, values left out)."""
        return gpu_arrays.assert_message(self.program.sites, site)

    def nest(self, n: Nest) -> list[list]:
        index, i64 = ir.IndexType.get(), scalar_type(T.i64)
        depth = len(n.loops)
        kinds = [["count", d] for d in range(depth)]
        kinds += [[part, d] for d in range(depth) for part in ("start", "step")]
        kinds += [["value", name] for name, _ in n.captured]
        kinds += [["reduction", k] for k in range(len(n.reductions))]
        inputs = [index] * depth + [i64] * (2 * depth) + [to_mlir_type(t) for _, t in n.captured]
        inputs += [_buffer_type(t) for _, t in n.reductions]
        if is_strided(n):
            kinds.append(["threads", 0])
            inputs.append(index)
        kinds = [[*kind, str(t)] for kind, t in zip(kinds, inputs, strict=True)]
        with ir.InsertionPoint(self.module.body), location(n.loops[0].span):
            op = func.FuncOp(n.name, ir.FunctionType.get(inputs, []))
        self.function = op
        block = op.add_entry_block()
        args = list(block.arguments)
        self.env = {name: args[3 * depth + k] for k, (name, _) in enumerate(n.captured)}
        with ir.InsertionPoint(block), location(n.loops[0].span):
            if is_strided(n):
                self._strided(n, args)
            else:
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
        with ir.InsertionPoint(body):
            self._loop_vars(n, args, list(reversed(list(body.arguments))))
            self.block(n.body)
            scf.ReduceOp([], 0)

    def _loop_vars(self, n: Nest, args: list[Any], ks: list[Any]) -> None:
        """Bind each grid loop's variable to start + k * step (k: its index trip number)."""
        depth = len(n.loops)
        for d, lp in enumerate(n.loops):
            k = arith.index_cast(scalar_type(T.i64), ks[d])
            start, step = args[depth + 2 * d], args[depth + 2 * d + 1]
            self.env[lp.var] = arith.addi(start, arith.muli(k, step))

    def _strided(self, n: Nest, args: list[Any]) -> None:
        index = ir.IndexType.get()
        zero, one = arith.constant(index, 0), arith.constant(index, 1)
        counts, threads = args[:len(n.loops)], args[-1]
        buffers = args[-1 - len(n.reductions):-1]
        loop = scf.ParallelOp([], [zero], [threads], [one], [])
        body = loop.regions[0].blocks.append(index)
        with ir.InsertionPoint(body):
            total = counts[0]  # computed in the kernel: launch operands are arguments
            for c in counts[1:]:
                total = arith.muli(total, c)
            sums = _sums(n)
            walk = scf.ForOp(body.arguments[0], total, threads, [ops.const(t, 0) for _, t in sums])
            with ir.InsertionPoint(walk.body):
                self._loop_vars(n, args, _unflatten(walk.induction_variable, counts))
                for (name, _), value in zip(sums, walk.inner_iter_args, strict=True):
                    self.env[name] = value
                self.block(n.body)
                scf.YieldOp([self.env[name] for name, _ in sums])
            self._accumulate(n, list(walk.results), buffers)
            scf.ReduceOp([], 0)

    def _accumulate(self, n: Nest, partials: list[Any], buffers: list[Any]) -> None:
        """Add each thread's partial sums to the reduction buffers and summed elements (per
        warp on the device)."""
        if self.device:
            partials = [_warp_sum(v, t) for v, (_, t) in zip(partials, _sums(n), strict=True)]
            lane = gpu.LaneIdOp().result
            first = arith.cmpi(arith.CmpIPredicate.eq, lane, arith.constant(lane.type, 0))
            guard = scf.IfOp(first)
            with ir.InsertionPoint(guard.then_block):
                self._atomic_adds(n, partials, buffers)
                scf.YieldOp([])
        else:
            self._atomic_adds(n, partials, buffers)

    def _atomic_adds(self, n: Nest, partials: list[Any], buffers: list[Any]) -> None:
        zero = arith.constant(ir.IndexType.get(), 0)
        scalars, elements = partials[:len(n.reductions)], partials[len(n.reductions):]
        for (_, t), value, buffer in zip(n.reductions, scalars, buffers, strict=True):
            memref.AtomicRMWOp(_kind(t), value, buffer, [zero])
        for g, value in zip(n.sums, elements, strict=True):
            array = self.expr(g.array)
            memref.AtomicRMWOp(_kind(g.dtype), value, array,
                               indices(self, array, g.indices, g.wrap))


def _is_loop(op: ir.Operation) -> bool:
    return op.name in ("scf.for", "scf.while")


def _unflatten(linear: Any, counts: list[Any]) -> list[Any]:
    """The per-loop trip numbers of position `linear` in the iteration space (innermost loop
    fastest), outermost first."""
    ks = []
    for c in reversed(counts[1:]):
        ks.append(arith.remui(linear, c))
        linear = arith.divui(linear, c)
    return [linear, *reversed(ks)]


WARP = 32


def _warp_sum(value: Any, t: T.Scalar) -> Any:
    """The sum of `value` over the 32 lanes of the warp (butterfly: every lane gets it)."""
    i32 = ir.IntegerType.get_signless(32)
    width = arith.constant(i32, WARP)
    add = arith.addf if t.is_float else arith.addi
    offset = WARP // 2
    while offset:
        other = gpu.ShuffleOp(value, arith.constant(i32, offset), width,
                              gpu.ShuffleMode.XOR).shuffleResult
        value = add(value, other)
        offset //= 2
    return value


def _sums(n: Nest) -> list[tuple[str, T.Scalar]]:
    """The register accumulators of a strided nest: its scalar reductions, then its element
    sums."""
    return [*n.reductions, *((g.name, g.dtype) for g in n.sums)]


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
