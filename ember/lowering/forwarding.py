"""Forward stored values to the loads that read them, before Enzyme (opt_level 2-3).

A kernel that fills a local work array and reads it back (`xc[j] = x[i, j] - mu[k, j]` for
every `j`, then `... xc[i] ...` in a later loop) makes Enzyme save every element it reads,
because the array is overwritten in the next iteration of an enclosing loop. When the value
read is known, as an expression of values that do not change in between, the load is
replaced by that expression: Enzyme then saves at most the expression's result, which
lowering/remat.py recomputes in the reverse pass from the unchanged arrays. Two forms:

* same block: `B[idx] = v` followed by `... = B[idx]` (the same index values) with no write to
  `B` in between: the load is `v`;
* covering loop: `for j in range(lo, hi): ... B[j] = e(j)` (one unconditional store in the
  body, the only write to `B` in the loop) followed, later in the same block, by an op whose
  nest loads `B[i]` where `i` runs over a loop with the same `lo`, `hi` and step 1, with no
  write to `B` from the first loop to the load: the load is `e(i)`, recomputed where it is
  read, when `e` is arithmetic on values defined outside the first loop, its index `j`, and
  loads of arrays nothing writes from the first loop to the load.

`B` is a local array (an allocation of the function: arguments may be the same array). The
values are equal bit for bit (the same operations on the same inputs).
"""

from __future__ import annotations

from typing import Final

from mlir import ir

from ..ir.context import ops_where
from .irquery import VIEWS, constant, defining, inside, is_iv, nested, op_of, writes

MAX_OPS: Final = 24
"""At most this many ops are copied to recompute one load."""


_WRITTEN: dict[ir.Operation, frozenset[object] | None] = {}
"""Per op (with its regions): the buffers it may write (None: one of unknown origin). Only
valid during one `forward_stores`, which adds no writes: it erases loads and adds loads and
arithmetic, so an entry of an erased op that a new op inherits (by address) is still right."""


def forward_stores(module: ir.Module) -> int:
    """Replace the loads described in the module docstring; returns how many."""
    done = 0
    try:
        for func in ops_where(module.operation, lambda op: op.name == "func.func"):
            for load in ops_where(func, lambda op: op.name == "memref.load"):
                done += _forward(load)
    finally:
        _WRITTEN.clear()
    return done


def _root(value: ir.Value) -> ir.Operation | None | str:
    """The alloc `value` views, 'argument' for a function argument, None if unknown."""
    op = defining(value)
    if op is None:
        parent = op_of(value.owner.owner)
        return "argument" if parent is not None and parent.name == "func.func" else None
    if op.name == "memref.alloc":
        return op
    if op.name in VIEWS and op.name != "arith.select":
        return _root(op.operands[0])
    return None


def _writes(op: ir.Operation, buffer: ir.Operation | str) -> bool:
    """Whether `op` (with its regions) may write `buffer` (an alloc, or 'argument': any
    function argument)."""
    if op not in _WRITTEN:
        _WRITTEN[op] = _written(op)
    roots = _WRITTEN[op]
    return roots is None or buffer in roots


def _written(op: ir.Operation) -> frozenset[object] | None:
    roots: set[object] = set()
    for inner in (op, *nested(op)):
        for k, operand in enumerate(inner.operands):
            if isinstance(operand.type, ir.MemRefType) and writes(inner, k):
                root = _root(operand)
                if root is None:
                    return None
                roots.add(root)
    return frozenset(roots)


def _forward(load: ir.Operation) -> int:
    buffer = _root(load.operands[0])
    if not isinstance(buffer, ir.Operation):
        return 0
    found = _same_block(load, buffer)
    if found is not None:
        load.results[0].replace_all_uses_with(found)
        load.erase()
        return 1
    return _covering(load, buffer)


def _same_block(load: ir.Operation, buffer: ir.Operation) -> ir.Value | None:
    """The value of a store to the same element earlier in the load's block."""
    index = list(load.operands)[1:]
    for previous in _before(load):
        if previous.name == "memref.store" and previous.operands[1] == load.operands[0] and \
                list(previous.operands)[2:] == index:
            return _unguarded(previous.operands[0])
        if _writes(previous, buffer):
            return None
    return None


def _before(op: ir.Operation) -> list[ir.Operation]:
    """The ops before `op` in its block, nearest first."""
    ops = [view.operation for view in op.block.operations]
    return ops[:ops.index(op)][::-1]


def _covering(load: ir.Operation, buffer: ir.Operation) -> int:
    """The covering-loop form (module docstring)."""
    indices = [_uncast(v) for v in list(load.operands)[1:]]
    if len(indices) != 1 or not is_iv(indices[0]):
        return 0
    reader = op_of(indices[0].owner.owner)  # the loop `i` runs over
    assert reader is not None
    op = load  # climb from the load; at each level look for an earlier covering loop
    while True:
        if op != load and _writes(op, buffer):  # also after the load, in a loop
            return 0
        for previous in _before(op):
            if previous.name == "scf.for" and _same_range(previous, reader):
                store = _covering_store(previous, buffer, load.operands[0])
                if store is not None:
                    return _replace(load, store, previous, op, buffer)
            if _writes(previous, buffer):
                return 0
        parent = op_of(op.parent)
        if parent is None or parent.name == "func.func":
            return 0
        op = parent


def _unguarded(value: ir.Value) -> ir.Value:
    """The value a store guard `select(false, old, v)` (lowering/rewrites.activate_stores)
    stores: `v`."""
    op = defining(value)
    if op is None or op.name != "arith.select":
        return value
    if constant(op.operands[0]) is not False:
        return value
    return _unguarded(op.operands[2])


def _uncast(value: ir.Value) -> ir.Value:
    """`value` without an index -> integer -> index round trip (the frontend's loop indices
    are i64 values cast back to index where they index an array)."""
    op = defining(value)
    if op is None or op.name != "arith.index_cast":
        return value
    inner = defining(op.operands[0])
    if inner is None or inner.name != "arith.index_cast" or \
            inner.operands[0].type != value.type or \
            ir.IntegerType(op.operands[0].type).width != 64:
        return value
    return inner.operands[0]


def _same_range(a: ir.Operation, b: ir.Operation) -> bool:
    return a.operands[0] == b.operands[0] and a.operands[1] == b.operands[1] and \
        constant(a.operands[2]) == 1 and constant(b.operands[2]) == 1


def _covering_store(loop: ir.Operation, buffer: ir.Operation,
                    view: ir.Value) -> ir.Operation | None:
    """The one store `view[j] = e` directly in `loop`'s body, if it is the loop's only write
    to `buffer`."""
    body = loop.regions[0].blocks[0]
    iv = body.arguments[0]
    stores = [v.operation for v in body.operations if v.operation.name == "memref.store"
              and v.operation.operands[1] == view
              and [_uncast(i) for i in list(v.operation.operands)[2:]] == [iv]]
    if len(stores) != 1:
        return None
    others = [v.operation for v in body.operations if v.operation != stores[0]]
    if any(_writes(op, buffer) for op in others):
        return None
    return stores[0]


def _replace(load: ir.Operation, store: ir.Operation, loop: ir.Operation,
             reader_top: ir.Operation, buffer: ir.Operation) -> int:
    """Recompute the stored value at the load, if its inputs do not change in between."""
    iv = loop.regions[0].blocks[0].arguments[0]
    plan: list[ir.Operation] = []
    stored = _unguarded(store.operands[0])
    if not _plan(stored, loop, iv, plan, reader_top, buffer):
        return 0
    memo = {iv: _uncast(load.operands[1])}
    with ir.InsertionPoint(load), load.location:
        for op in plan:
            operands = [memo.get(v, v) for v in op.operands]
            copy = op.clone()
            for k, v in enumerate(operands):
                copy.operands[k] = v
            for old, new in zip(op.results, copy.results, strict=True):
                memo[old] = new
    load.results[0].replace_all_uses_with(memo.get(stored, stored))
    load.erase()
    return 1


def _plan(value: ir.Value, loop: ir.Operation, iv: ir.Value, plan: list[ir.Operation],
          reader_top: ir.Operation, buffer: ir.Operation) -> bool:
    """Append to `plan` (operands first) the ops of `loop`'s body that compute `value`; False
    if one is not pure arithmetic or a load of an array written in between."""
    if value == iv:
        return True
    op = defining(value)
    if op is None:
        return not inside(value, loop)
    if not inside(value, loop):
        return True
    if op in plan:
        return True
    if len(plan) >= MAX_OPS or len(op.regions):
        return False
    if op.name == "memref.load":
        root = _root(op.operands[0])
        if root is None or inside(op.operands[0], loop) or _written_between(
                root, loop, reader_top):
            return False
    elif not op.name.startswith("arith."):
        return False
    if not all(_plan(v, loop, iv, plan, reader_top, buffer) for v in op.operands):
        return False
    plan.append(op)
    return True


def _written_between(root: ir.Operation | str, loop: ir.Operation,
                     reader_top: ir.Operation) -> bool:
    """Whether `root` may be written by `loop`, by the ops after it up to `reader_top`, or
    inside `reader_top` (conservative)."""
    ops = [view.operation for view in loop.block.operations]
    span = ops[ops.index(loop):]
    if reader_top not in span:
        return True
    return any(_writes(op, root) for op in span[:span.index(reader_top) + 1])
