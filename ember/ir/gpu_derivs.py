"""IR for derivatives of `target="gpu"` kernels: per-iteration body functions and the
derivative nests that call their Enzyme derivatives.

`emit_bodies` writes, per prange `Nest` of a `GpuPlan`, `@__body<k>(loop variables (i64),
captured values) -> (float sums)`: one iteration of the nest, its scalar `+=` reductions and
element sums starting at zero and returned (the nest adds them up). Enzyme differentiates each
body (lowering/gpu_adjoint.py: forward mode, or reverse mode per iteration with atomic shadow
updates). `emit_nest` then writes the derivative nest, `@<nest>_<mode>`: an `scf.parallel` over
the trip counts (innermost loop first, as ir/gpu.py) calling the body's derivative `@__body<k>_d`
and adding what it returns with `memref.atomic_rmw`:
* forward: the sums and their tangents into one-element buffers (reductions) or into the summed
  element and its shadow;
* reverse: the adjoints of the active scalars into one-element shadow buffers; the seeds of the
  sums are arguments (reductions) or the summed element's shadow (element sums).
A nest that sums into buffers or fixed elements runs strided (ir/gpu.py's reductions: threads
walk the iterations, sum in registers, combine per warp, one atomic add per warp); one
that does not runs one thread per iteration. Each returns the description of its arguments: [tag, key, MLIR type] with tag 'count', 'start',
'step' (key: the loop), 'primal', 'shadow' (key: the captured name), 'buffer', 'dbuffer' (key:
the sum or scalar whose value / derivative it holds), 'seed' (key: the sum) or 'threads'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlir import ir
from mlir.dialects import arith, func, gpu, memref, scf

from .. import types as T
from ..frontend import tir
from ..frontend.gpu import ElementSum, GpuPlan, Nest
from . import ops
from .context import location
from .exprs import indices
from .gpu import GpuEmitter, _buffer_type, _kind, _unflatten, _warp_sum
from .types import for_enzyme, scalar_type, to_mlir_type


@dataclass(frozen=True)
class Activity:
    """How one captured value of a nest is differentiated: 'dup' (an array with a shadow),
    'active' (a float scalar: a tangent in forward mode, an adjoint in reverse mode) or
    'const'."""

    name: str
    type: T.Type
    activity: str


def float_sums(n: Nest) -> list[tuple[str, T.Scalar, ElementSum | None]]:
    """The float sums of nest `n` (reductions, then element sums) with their element sum."""
    out: list[tuple[str, T.Scalar, ElementSum | None]] = [
        (name, t, None) for name, t in n.reductions if t.is_float]
    out += [(g.name, g.dtype, g) for g in n.sums if g.dtype.is_float]
    return out


def body_name(k: int) -> str:
    return f"__body{k}"


def emit_bodies(plan: GpuPlan) -> ir.Module:
    """The module of the body functions of every nest of `plan` (for Enzyme)."""
    module = ir.Module.create()
    program = tir.Program(plan.fn.symbol, {plan.fn.symbol: plan.fn}, plan.sites)
    em = GpuEmitter(module, program, device=False)
    em.ad = True
    with for_enzyme():
        for k, n in enumerate(plan.nests):
            _body(em, n, body_name(k))
    return module


def _body(em: GpuEmitter, n: Nest, name: str) -> None:
    i64 = scalar_type(T.i64)
    depth = len(n.loops)
    inputs = [i64] * depth + [to_mlir_type(t) for _, t in n.captured]
    sums = float_sums(n)
    results = [scalar_type(t) for _, t, _ in sums]
    with ir.InsertionPoint(em.module.body), location(n.loops[0].span):
        op = func.FuncOp(name, ir.FunctionType.get(inputs, results))
    em.function = op
    block = op.add_entry_block()
    args = list(block.arguments)
    em.env = {lp.var: args[d] for d, lp in enumerate(n.loops)}
    em.env.update({c: args[depth + k] for k, (c, _) in enumerate(n.captured)})
    with ir.InsertionPoint(block), location(n.loops[0].span):
        for s, t in [*n.reductions, *((g.name, g.dtype) for g in n.sums)]:
            em.env[s] = ops.const(t, 0)
        em.block(n.body)
        func.ReturnOp([em.env[s] for s, _, _ in sums])


@dataclass(frozen=True)
class _Nest:
    """What the derivative nest of one nest is emitted from."""

    em: GpuEmitter
    n: Nest
    k: int
    mode: str
    acts: list[Activity]
    args: dict


def emit_nest(module: ir.Module, plan: GpuPlan, k: int, mode: str, acts: list[Activity],
              name: str, device: bool = True) -> list[list]:
    """Add the derivative nest of nest `k` (`mode` 'forward' or 'reverse'; `acts`: one per
    captured value) to `module`; the description of its arguments (module docstring).
    A nest that sums into buffers or elements runs strided, as ir/gpu.py's reductions (per
    thread, then per warp where `device`)."""
    n = plan.nests[k]
    program = tir.Program(plan.fn.symbol, {plan.fn.symbol: plan.fn}, plan.sites)
    em = GpuEmitter(module, program, device)
    kinds = _arguments(n, mode, acts)
    if _sums_into(n, mode, acts):
        kinds.append(("threads", 0, ir.IndexType.get()))
    with ir.InsertionPoint(module.body), location(n.loops[0].span):
        op = func.FuncOp(name, ir.FunctionType.get([t for _, _, t in kinds], []))
    em.function = op
    block = op.add_entry_block()
    args = dict(zip(((tag, key) for tag, key, _ in kinds), block.arguments, strict=True))
    em.env = {c: args[("primal", c)] for c, _ in n.captured}
    nest = _Nest(em, n, k, mode, acts, args)
    with ir.InsertionPoint(block), location(n.loops[0].span):
        if ("threads", 0) in args:
            _strided(nest)
        else:
            _grid(nest)
        func.ReturnOp([])
    return [[tag, key, str(t)] for tag, key, t in kinds]


def _sums_into(n: Nest, mode: str, acts: list[Activity]) -> bool:
    if mode == "forward":
        return bool(float_sums(n))
    return any(a.activity == "active" for a in acts)


def _loop_vars(nest: _Nest, ks: list[Any]) -> list[Any]:
    """The loop variables start + k * step from the trip numbers `ks` (outermost first)."""
    args = nest.args
    return [arith.addi(args[("start", d)], arith.muli(
        arith.index_cast(scalar_type(T.i64), k), args[("step", d)])) for d, k in enumerate(ks)]


def _grid(nest: _Nest) -> None:
    """One thread per iteration (the innermost loop on x), no sums."""
    index = ir.IndexType.get()
    zero, one = arith.constant(index, 0), arith.constant(index, 1)
    depth = len(nest.n.loops)
    counts = [nest.args[("count", d)] for d in reversed(range(depth))]
    loop = scf.ParallelOp([], [zero] * depth, counts, [one] * depth, [])
    body = loop.regions[0].blocks.append(*[index] * depth)
    with ir.InsertionPoint(body):
        _contributions(nest, _loop_vars(nest, list(reversed(list(body.arguments)))))
        scf.ReduceOp([], 0)


def _strided(nest: _Nest) -> None:
    """Threads walking the iterations with their stride, summing in registers, then one
    atomic add per warp (per thread off the device) into each target."""
    index = ir.IndexType.get()
    zero, one = arith.constant(index, 0), arith.constant(index, 1)
    depth, threads = len(nest.n.loops), nest.args[("threads", 0)]
    counts = [nest.args[("count", d)] for d in range(depth)]
    loop = scf.ParallelOp([], [zero], [threads], [one], [])
    body = loop.regions[0].blocks.append(index)
    with ir.InsertionPoint(body):
        total = counts[0]
        for c in counts[1:]:
            total = arith.muli(total, c)
        targets = _targets(nest)
        walk = scf.ForOp(body.arguments[0], total, threads,
                         [ops.const(t, 0) for t, _, _ in targets])
        with ir.InsertionPoint(walk.body):
            values = _contributions(nest, _loop_vars(nest, _unflatten(walk.induction_variable,
                                                                      counts)))
            scf.YieldOp([arith.addf(a, v) for a, v in zip(walk.inner_iter_args, values,
                                                          strict=True)])
        _add(nest.em, targets, list(walk.results))
        scf.ReduceOp([], 0)


def _add(em: GpuEmitter, targets: list[tuple[T.Scalar, Any, list[Any]]],
         partials: list[Any]) -> None:
    if em.device:
        partials = [_warp_sum(v, t) for v, (t, _, _) in zip(partials, targets, strict=True)]
        lane = gpu.LaneIdOp().result
        first = arith.cmpi(arith.CmpIPredicate.eq, lane, arith.constant(lane.type, 0))
        guard = scf.IfOp(first)
        with ir.InsertionPoint(guard.then_block):
            for (t, buffer, where), value in zip(targets, partials, strict=True):
                memref.AtomicRMWOp(_kind(t), value, buffer, where)
            scf.YieldOp([])
        return
    for (t, buffer, where), value in zip(targets, partials, strict=True):
        memref.AtomicRMWOp(_kind(t), value, buffer, where)


def _targets(nest: _Nest) -> list[tuple[T.Scalar, Any, list[Any]]]:
    """Where each summed value goes: (type, buffer or array, indices), in the order of
    `_contributions`."""
    em, args = nest.em, nest.args
    zero = arith.constant(ir.IndexType.get(), 0)
    out: list[tuple[T.Scalar, Any, list[Any]]] = []
    if nest.mode == "reverse":
        return [(a.type, args[("dbuffer", a.name)], [zero]) for a in nest.acts  # type: ignore[misc]
                if a.activity == "active"]
    for s, t, g in float_sums(nest.n):
        if g is None:
            out += [(t, args[("buffer", s)], [zero]), (t, args[("dbuffer", s)], [zero])]
            continue
        array = em.expr(g.array)
        where = indices(em, array, g.indices, g.wrap)
        out.append((t, array, where))
        if ("shadow", g.array.name) in args:
            out.append((t, args[("shadow", g.array.name)], where))
    return out


def _arguments(n: Nest, mode: str, acts: list[Activity]) -> list[tuple[str, Any, Any]]:
    index, i64 = ir.IndexType.get(), scalar_type(T.i64)
    depth = len(n.loops)
    kinds: list[tuple[str, Any, Any]] = [("count", d, index) for d in range(depth)]
    kinds += [(part, d, i64) for d in range(depth) for part in ("start", "step")]
    for a in acts:
        kinds.append(("primal", a.name, to_mlir_type(a.type)))
        if a.activity == "dup" or (a.activity == "active" and mode == "forward"):
            kinds.append(("shadow", a.name, to_mlir_type(a.type)))
    reductions = [(s, t) for s, t, g in float_sums(n) if g is None]
    if mode == "forward":
        for s, t in reductions:
            kinds += [("buffer", s, _buffer_type(t)), ("dbuffer", s, _buffer_type(t))]
        return kinds
    kinds += [("seed", s, scalar_type(t)) for s, t in reductions]
    kinds += [("dbuffer", a.name, _buffer_type(a.type)) for a in acts  # type: ignore[arg-type]
              if a.activity == "active"]
    return kinds


def _call_operands(nest: _Nest, lvars: list[Any]) -> list[Any]:
    operands = list(lvars)
    for a in nest.acts:
        operands.append(nest.args[("primal", a.name)])
        if ("shadow", a.name) in nest.args:
            operands.append(nest.args[("shadow", a.name)])
    return operands


def _contributions(nest: _Nest, lvars: list[Any]) -> list[Any]:
    """One iteration: the call of the body's derivative; the values it sums (`_targets`)."""
    if nest.mode == "reverse":
        return _reverse(nest, lvars)
    sums = float_sums(nest.n)
    types = [scalar_type(t) for _, t, _ in sums for _ in (0, 1)]
    call = func.CallOp(types, ir.FlatSymbolRefAttr.get(body_name(nest.k) + "_d"),
                       _call_operands(nest, lvars))
    values = list(call.results)
    out = []
    for j, (_, _, g) in enumerate(sums):
        out.append(values[2 * j])
        if g is None or ("shadow", g.array.name) in nest.args:
            out.append(values[2 * j + 1])
    return out


def _reverse(nest: _Nest, lvars: list[Any]) -> list[Any]:
    em, args = nest.em, nest.args
    seeds = []
    for s, t, g in float_sums(nest.n):
        if g is None:
            seeds.append(args[("seed", s)])
        elif ("shadow", g.array.name) in args:
            shadow = args[("shadow", g.array.name)]
            seeds.append(memref.load(shadow, indices(em, shadow, g.indices, g.wrap)))
        else:
            seeds.append(ops.const(t, 0))
    active = [a for a in nest.acts if a.activity == "active"]
    call = func.CallOp([to_mlir_type(a.type) for a in active],
                       ir.FlatSymbolRefAttr.get(body_name(nest.k) + "_d"),
                       _call_operands(nest, lvars) + seeds)
    return list(call.results)
