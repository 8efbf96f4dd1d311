"""Tabulate loop counters that do not depend on the enclosing loops (before Enzyme).

A packed index advanced by an inner loop (`p = d; for i in range(d): for j in range(i + 1,
d): ... icf[k, p] ...; p += 1`) is carried by the `i` loop from one iteration to the next:
preopt.py's `counters` cannot write it as `init + n * step` (its step is the inner trip count),
so Enzyme saves it in every iteration of every enclosing loop (a buffer of n * K * d integers
for the GMM objective: as large as the trajectory it indexes) and reads it back in the reverse
pass. Yet its values are the same in every iteration of the enclosing loops: they depend only
on the loop's bounds and values defined before the loop nest.

`tabulate_counters` finds such a counter, an integer iteration argument of an `scf.for` nested
in a top-level op O, whose next value is computed by integer arithmetic and inner `scf.for`
loops from the loop's index, the counter itself and values defined before O. Before O it
builds the table: a copy of the loop reduced to that computation (the other iteration
arguments pass through, every other op goes) that stores the counter of iteration n at
`table[n]` (only where the loops around the loop all run: a nest that never reaches the loop
does not pay for it). In the loop, every use of the counter except the computation of its
next value reads `table[iv - lb]` instead (step 1); the loop still carries the counter for
its result.
The table is written before O and never after, so lowering/remat.py reloads it in the reverse
pass instead of keeping Enzyme's cache: one row of integers instead of one per iteration of
the loop nest. The same integers: derivatives are bitwise unchanged.
"""

from __future__ import annotations

from typing import Final

from mlir import ir
from mlir.dialects import arith, memref, scf

from ..ir.context import ops_where
from .irquery import constant, defining, inside, op_of

_DIVISIONS: Final = frozenset({"arith.divsi", "arith.divui", "arith.remsi", "arith.remui",
                               "arith.ceildivsi", "arith.ceildivui", "arith.floordivsi"})
_KEEP: Final = "ember.counter_slice"
_Slice = list[tuple[ir.Operation, int]]
"""Ops computing a counter's next value, each with the result a nested loop contributes (-1:
another op). A list searched with `==`: Python handles of one op need not hash alike."""


def tabulate_counters(module: ir.Module) -> int:
    """Rewrite `module` in place as the module docstring says; returns how many counters."""
    done = 0
    for loop in ops_where(module.operation, lambda op: op.name == "scf.for"):
        top = _top(loop)
        if top is None or top == loop or constant(loop.operands[2]) != 1:
            continue
        for k in range(len(loop.results)):
            done += _tabulate(loop, k, top)
    return done


def _chain(loop: ir.Operation, top: ir.Operation) -> list[ir.Operation] | None:
    """The `scf.for` loops around `loop` up to `top`, if only such loops lie between them and
    their bounds are defined before `top` (the table is built only where they all run)."""
    chain: list[ir.Operation] = []
    op = op_of(loop.parent)
    while op is not None and op.name == "scf.for" and \
            not any(inside(v, top) for v in list(op.operands)[:2]):
        chain.append(op)
        if op == top:
            return chain
        op = op_of(op.parent)
    return None


def _top(op: ir.Operation) -> ir.Operation | None:
    """The op of the function body that holds `op` (None outside a function)."""
    while True:
        parent = op_of(op.parent)
        if parent is None:
            return None
        if parent.name == "func.func":
            return op
        op = parent


def _tabulate(loop: ir.Operation, k: int, top: ir.Operation) -> int:
    counter = loop.regions[0].blocks[0].arguments[k + 1]
    if not _is_integer(counter.type):
        return 0
    ops: _Slice = []
    external = _collect(loop, k, ops)
    chain = _chain(loop, top)
    if external is None or any(inside(v, top) for v in external) or chain is None or \
            not _zeroable(loop, ops):
        return 0
    _mark(ops)
    others = [u for u in counter.uses if _KEEP not in _owner(u.owner).attributes]
    _unmark(loop)
    if not others:
        return 0
    with loop.location, ir.InsertionPoint(top):
        table = _build_table(loop, k, chain)
    with loop.location, ir.InsertionPoint(list(loop.regions[0].blocks[0].operations)[0]):
        value = memref.load(table, [_iteration(loop)])
    for use in others:
        op_of(use.owner).operands[use.operand_number] = value
    return 1


def _collect(loop: ir.Operation, k: int, ops: _Slice) -> list[ir.Value] | None:
    """Add to `ops` the ops of `loop`'s body that compute the yielded value `k`; return the
    values from outside `loop` they use (with the loop's bounds and initial value `k`), or None
    where that takes anything but integer arithmetic, inner `scf.for` loops, the loop's index
    and its iteration argument `k`."""
    body = loop.regions[0].blocks[0]
    external = [*list(loop.operands)[:3], loop.operands[3 + k]]
    work = [list(body.operations)[-1].operands[k]]
    while work:
        value = work.pop()
        if not inside(value, loop):
            external.append(value)
            continue
        op = defining(value)
        if op is None:
            if value.owner != body or value.arg_number not in (0, k + 1):
                return None
            continue
        wanted = value.result_number if op.name == "scf.for" else -1
        seen = [r for other, r in ops if other == op]
        if seen:
            if seen[0] != wanted:
                return None
            continue
        ops.append((op, wanted))
        inner = _collect(op, wanted, ops) if wanted >= 0 else \
            list(op.operands) if _pure_integer(op) else None
        if inner is None:
            return None
        work += inner
    return external


def _pure_integer(op: ir.Operation) -> bool:
    if not op.name.startswith("arith.") or len(op.regions) or not op.results:
        return False
    if op.name in _DIVISIONS and constant(op.operands[1]) in (None, 0):
        return False  # the table runs even where the loop nest does not: no division by 0
    return all(_is_integer(v.type) for v in (*op.operands, *op.results))


def _is_integer(t: ir.Type) -> bool:
    return isinstance(t, ir.IntegerType | ir.IndexType)


def _zeroable(loop: ir.Operation, ops: _Slice) -> bool:
    """Whether the iteration arguments the table's copy drops can start from a zero."""
    loops = [loop, *(op for op, r in ops if r >= 0)]
    return all(isinstance(v.type, ir.IntegerType | ir.IndexType | ir.FloatType)
               for op in loops for v in op.results)


def _owner(owner: object) -> ir.Operation:
    op = op_of(owner)
    assert op is not None
    return op


def _mark(ops: _Slice) -> None:
    """Tag the ops of a slice (Python handles of ops are no stable dictionary keys while
    the IR changes)."""
    for op, wanted in ops:
        op.attributes[_KEEP] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), wanted)


def _unmark(root: ir.Operation) -> None:
    for op in ops_where(root, lambda op: _KEEP in op.attributes):
        del op.attributes[_KEEP]


def _build_table(loop: ir.Operation, k: int, chain: list[ir.Operation]) -> ir.Value:
    """Before the insertion point: the table of the counter `k` of `loop` and the copy of
    `loop` that fills it (step 1: the module docstring's `table[iv - lb]`), run only where
    every loop of `chain` (around `loop`) runs: the loop nest may never reach `loop`."""
    lb, ub = loop.operands[0], loop.operands[1]
    zero = arith.constant(ir.IndexType.get(), 0)
    runs = None
    for outer in chain:
        ok = arith.cmpi(arith.CmpIPredicate.slt, outer.operands[0], outer.operands[1])
        runs = ok if runs is None else arith.andi(runs, ok)
    assert runs is not None
    size = arith.select(runs, arith.maxsi(arith.subi(ub, lb), zero), zero)
    counter_type = loop.results[k].type
    table = memref.alloc(ir.MemRefType.get([ir.ShapedType.get_dynamic_size()], counter_type),
                         [size], [])
    guard = scf.IfOp(runs)
    with ir.InsertionPoint(guard.then_block):
        end = scf.YieldOp([])
    with ir.InsertionPoint(end):
        copy = loop.clone()
    ops: _Slice = []
    _collect(copy, k, ops)
    _mark(ops)
    for op, kept in [(copy, k), *((op, r) for op, r in ops if r >= 0)]:
        with ir.InsertionPoint(copy):  # outside the copy: _strip keeps no new op inside
            _pass_through(op, kept)
    _strip(copy.regions[0].blocks[0])
    _unmark(copy)
    body = copy.regions[0].blocks[0]
    with ir.InsertionPoint(list(body.operations)[0]):
        memref.store(body.arguments[k + 1], table, [_iteration(copy)])
    return table


def _pass_through(loop: ir.Operation, kept: int) -> None:
    """Make every iteration argument of `loop` but `kept` start from zero and stay there."""
    body = loop.regions[0].blocks[0]
    terminator = list(body.operations)[-1]
    for j, result in enumerate(loop.results):
        if j != kept:
            loop.operands[3 + j] = _zero(result.type)
            terminator.operands[j] = body.arguments[j + 1]


def _zero(t: ir.Type) -> ir.Value:
    attr = ir.FloatAttr.get(t, 0.0) if isinstance(t, ir.FloatType) else ir.IntegerAttr.get(t, 0)
    return arith.constant(t, attr)


def _strip(block: ir.Block) -> None:
    """Erase the ops of `block` (and of the kept loops in it) that are not marked; later
    ops first, so an op goes after its users."""
    for view in reversed(list(block.operations)[:-1]):
        op = view.operation
        if _KEEP not in op.attributes:
            op.erase()
        elif op.name == "scf.for":
            _strip(op.regions[0].blocks[0])


def _iteration(loop: ir.Operation) -> ir.Value:
    """`iv - lb`: the number of the current iteration of `loop` (step 1), from 0."""
    return arith.subi(loop.regions[0].blocks[0].arguments[0], loop.operands[0])
