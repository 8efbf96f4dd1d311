"""Folded stencil sums summed by parts (after Enzyme, opt_level >= 2; used by foldsums.py).

`fold_sums` adds a reassociable sum's term `e(i)` of the rewritten loop at gather iteration
`t` (i = t + d). When the term is `a(i) * (w_1 * r[V(i) + c_1] + ... + w_m * r[V(i) + c_m])`
(the heat equation's `dk += dun[i] * dt * (u[i-1] - 2 u[i] + u[i+1])`: loads of one row at
constant offsets from one index V of slope +-1 in i, with constant weights), its sum is also
`sum_t r[j(t)] * (w_1 * a(t + d + delta_1) + ... + w_m * a(t + d + delta_m))`, the pieces moved
so that they all read the row at `j(t) = V(t + d) + c_ref` (delta_k = slope * (c_ref - c_k)):
each `a(i)` (already computed by the gather loop for its adjoint updates) enters once per
weight and the row is read once, not m times with m - 1 adds for the stencil. The pieces stay
in the gather loops' range (`d + delta_k` within their deltas [dmin, dmax], whose union of
loops covers every iteration once for each such shift); the guarded loops add each piece
only for iterations in range, the main loop needs no guard. A term reading a buffer the
gather loop stores into keeps foldsums.py's form. The sum changes by rounding only (about
1e-15 relative on `heat`), as foldsums.py already allows for a reassociable sum; fastgather.py
then marks the new ops too, and LLVM's contractions of the adjoint updates sharing values
with them may round those updates differently (1e-18 relative on `heat`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from mlir import ir
from mlir.dialects import arith, scf

from .gather import NEUTRAL, buffer_roots, clone_ops, shifted
from .irquery import constant, defining, nested

SLOPES: Final = {"arith.addi": (1, 1), "arith.subi": (1, -1), "arith.index_cast": (1,)}
"""Index ops -> the signs of their operands in the result."""


@dataclass(frozen=True)
class Parts:
    """A term `a * sum(w_k * load_k)`: the ops computing `a`, and per load its weight,
    offset c_k and the ops computing it (index and load)."""
    a: ir.Value
    a_ops: list[ir.Operation]
    loads: list[tuple[float, int, list[ir.Operation]]]
    slope: int


def split(e: ir.Value, ops: list[ir.Operation], iv: ir.Value) -> Parts | None:
    """`e` (computed by `ops`, body order, from the loop's induction variable `iv`) as Parts,
    or None."""
    op = defining(e)
    if op is None or op.name != "arith.mulf" or op not in ops:
        return None
    for a, lin in (tuple(op.operands), tuple(op.operands)[::-1]):
        weights = _linear(lin, ops)
        found = _row(weights, iv, ops) if weights and len(weights) >= 2 else None
        if found is None:
            continue
        a_ops = _needed(a, ops)
        if any(load in a_ops for load in weights):
            continue
        base, slope, offsets = found
        loads = [(w, offsets[load], _needed(load.results[0], ops)) for load, w in weights.items()]
        return Parts(a, a_ops, loads, slope)
    return None


def place(parts: Parts, g: ir.Operation, d: int, dmin: int, dmax: int) -> list[int] | None:
    """The shifts delta_k of the pieces (all reading the row where the load of offset c_ref
    reads at iteration t + d), the first c_ref with every d + delta_k in [dmin, dmax]; None
    also when the gather loop `g` may store into a buffer the term loads (an argument may be
    any other: then the pieces' other iterations could read other values)."""
    stored = [buffer_roots(op.operands[1], frozenset()) for op in nested(g)
              if op.name == "memref.store"]
    read = [buffer_roots(op.operands[0], frozenset())
            for op in parts.a_ops + [x for _, _, ops in parts.loads for x in ops]
            if op.name == "memref.load"]
    if any(r is None for r in stored + read) or any(r & w for r in read for w in stored):
        return None
    for _, c_ref, _ in parts.loads:
        shifts = [parts.slope * (c_ref - c) for _, c, _ in parts.loads]
        if all(dmin <= d + s <= dmax for s in shifts) and 0 in shifts:
            return shifts
    return None


def emit(parts: Parts, shifts: list[int], t: ir.Value, d: int, iv: ir.Value,
         guard) -> ir.Value:
    """The term at gather iteration `t`, at the insertion point: unguarded,
    `row * sum(w_k * a(t + d + delta_k))`; with `guard` (iteration -> i1 in range), the sum of
    the pieces `w_k * a * load_k` each at its iteration where in range."""
    f64 = parts.a.type
    terms = []
    for (w, _, load_ops), delta in zip(parts.loads, shifts, strict=True):
        at = shifted(t, d + delta)
        if guard is None:
            a = _clone(parts.a_ops, iv, at, parts.a)
            terms.append(arith.MulFOp(_const(f64, w), a).result)
            continue
        branch = scf.IfOp(guard(at), [f64], has_else=True)
        with ir.InsertionPoint(branch.then_block):
            piece = arith.MulFOp(_clone(parts.a_ops, iv, at, parts.a),
                                 _clone(load_ops, iv, at, load_ops[-1].results[0])).result
            scf.YieldOp([arith.MulFOp(_const(f64, w), piece).result])
        with ir.InsertionPoint(branch.else_block):
            scf.YieldOp([_const(f64, NEUTRAL["arith.addf"])])
        terms.append(branch.results[0])
    total = terms[0]
    for x in terms[1:]:
        total = arith.AddFOp(total, x).result
    if guard is not None:
        return total
    ref = parts.loads[shifts.index(0)][2]
    row = _clone(ref, iv, shifted(t, d), ref[-1].results[0])
    return arith.MulFOp(row, total).result


def _const(f64: ir.Type, w: float) -> ir.Value:
    return arith.ConstantOp(f64, w).result


def _clone(ops: list[ir.Operation], iv: ir.Value, at: ir.Value, value: ir.Value) -> ir.Value:
    return clone_ops(ops, {iv: at}).get(value, value)


def _needed(value: ir.Value, ops: list[ir.Operation]) -> list[ir.Operation]:
    """The ops of `ops` computing `value`, in body order."""
    among = set(ops)
    needed: set[ir.Operation] = set()
    stack = [value]
    while stack:
        op = defining(stack.pop())
        if op is not None and op in among and op not in needed:
            needed.add(op)
            stack.extend(op.operands)
    return [op for op in ops if op in needed]


def _linear(value: ir.Value, ops: list[ir.Operation]) -> dict[ir.Operation, float] | None:
    """`value` as a weighted sum of loads of `ops` (through addf, subf, negf and mulf by a
    constant), or None."""
    op = defining(value)
    if op is None or op not in ops:
        return None
    if op.name == "memref.load":
        return {op: 1.0}
    args = list(op.operands)
    if op.name in ("arith.addf", "arith.subf"):
        x, y = _linear(args[0], ops), _linear(args[1], ops)
        if x is None or y is None:
            return None
        sign = 1.0 if op.name == "arith.addf" else -1.0
        for load, w in y.items():
            x[load] = x.get(load, 0.0) + sign * w
        return x
    if op.name == "arith.negf":
        x = _linear(args[0], ops)
        return None if x is None else {load: -w for load, w in x.items()}
    if op.name == "arith.mulf":
        for k in (0, 1):
            c = _float(args[k])
            x = _linear(args[1 - k], ops) if c is not None else None
            if x is not None:
                return {load: c * w for load, w in x.items()}
    return None


def _float(value: ir.Value) -> float | None:
    op = defining(value)
    if op is None or op.name != "arith.constant" or \
            not isinstance(op.attributes["value"], ir.FloatAttr):
        return None
    return ir.FloatAttr(op.attributes["value"]).value


def _row(weights: dict[ir.Operation, float], iv: ir.Value, ops: list[ir.Operation]):
    """(V, slope, {load: c}) when the loads read one memref at the same leading indices and
    at V + c (distinct constants c) on the last axis, V of slope +-1 in `iv`; else None."""
    loads = list(weights)
    first = list(loads[0].operands)
    offsets: dict[ir.Operation, int] = {}
    base = None
    for load in loads:
        args = list(load.operands)
        if len(args) != len(first) or len(args) < 2 or args[0] != first[0] or \
                any(x != y for x, y in zip(args[1:-1], first[1:-1], strict=True)):
            return None
        v, c = _offset(args[-1])
        if base is None:
            base = v
        if v != base:
            return None
        offsets[load] = c
    if len(set(offsets.values())) != len(loads) or any(w == 0.0 for w in weights.values()):
        return None
    slope = _slope(base, iv, ops)
    return (base, slope, offsets) if slope in (1, -1) else None


def _offset(index: ir.Value) -> tuple[ir.Value, int]:
    """`index` as V + c (c a constant added by `arith.addi`)."""
    op = defining(index)
    if op is not None and op.name == "arith.addi":
        for k in (0, 1):
            c = constant(op.operands[k])
            if isinstance(c, int) and not isinstance(c, bool):
                return op.operands[1 - k], c
    return index, 0


def _slope(value: ir.Value, iv: ir.Value, ops: list[ir.Operation]) -> int | None:
    """d value / d iv for index arithmetic of `ops` (addi, subi, index_cast) over `iv` and
    values from outside `ops`; None for anything else."""
    if value == iv:
        return 1
    op = defining(value)
    if op is None or op not in ops:  # (a pure slice: invariant)
        return 0
    signs = SLOPES.get(op.name)
    if signs is None:
        return 0 if op.name == "arith.constant" else None
    total = 0
    for sign, x in zip(signs, op.operands, strict=True):
        s = _slope(x, iv, ops)
        if s is None:
            return None
        total += sign * s
    return total
