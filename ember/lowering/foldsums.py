"""Adjoint sums folded into the gather loops of gather.py (after Enzyme, opt_level >= 2).

`fold_sums` (run after gather.py and adjointsums.py, which marks the reassociable adjoint
sums) moves the sums `acc + e` of the loop that `gather_scatter` left (the heat equation's `dk += dun[i] * dt * lap_i`; all
of them, each marked `reassoc`, and only when the rewrite made one group of gather loops)
into those gather loops: each adds e of iteration t + d (d: the member delta whose
ops share most with e's, so LLVM computes them once; guarded loops only for iterations in
range), from -0.0, and the carried sum takes their total once per run (a term that is a
weight times a linear stencil of one saved row, heat's, is added by parts: byparts.py).
When the loop is then
left storing only loop-invariant values (Enzyme's zeroing of the adjoints it read, and stores
of values just loaded back to their element), those stores move into the gather loops too,
each after the last read of its element (iteration t + z; the loops run t monotonically, so z = dmin ascending and dmax descending), and the
loop disappears (no per-step loop left for LLVM to turn into a `memset` call). The sums
change by rounding only (a reordered sum, as adjointsums.py allows); every element is
written with the same value as before.
"""

from __future__ import annotations

from mlir import ir
from mlir.dialects import arith, scf

from . import byparts
from .enzyme import ADSpec
from .gather import (
    FOLD_GATHER,
    FOLD_SUMS,
    NEUTRAL,
    PURE,
    clone_ops,
    index_const,
    nsw,
    shifted,
    sum_add,
    use_count,
    walk_ops,
)
from .irquery import defining, derivative_functions, inside, op_of


def fold_sums(module: ir.Module, spec: ADSpec) -> int:
    """Move the reassociable sums of the loops `gather_scatter` rewrote into their gather
    loops (module docstring); returns how many sums moved."""
    done = 0
    for op in derivative_functions(module, spec.fn):
        loops = [loop for loop in walk_ops(op) if FOLD_SUMS in loop.attributes]
        done += sum(_fold(loop) for loop in loops)
        for tagged in walk_ops(op):  # (_fold may erase a loop)
            for name in (FOLD_SUMS, FOLD_GATHER):
                if name in tagged.attributes:
                    del tagged.attributes[name]
    return done


def _fold(loop: ir.Operation) -> int:
    """Fold the marked sums of the loop `loop` into the gather loops that carry them."""
    body = loop.regions[0].blocks[0]
    ops = [o.operation for o in body.operations]
    sums = list(ir.DenseI64ArrayAttr(loop.attributes[FOLD_SUMS]))
    chain: list[ir.Operation] = []
    value = loop.operands[3 + sums[0]]
    for _ in range(3):  # tail, main, head
        g = defining(value)
        if g is None or g.name != "scf.for" or FOLD_GATHER not in g.attributes:
            return 0
        chain.insert(0, g)
        value = g.operands[3]
    plan = []
    for k, r in enumerate(sums):
        acc = body.arguments[1 + r]
        add = sum_add(acc, ops[-1], r)
        if add is None or op_of(add.parent) != loop or "fastmath" not in add.attributes or \
                "reassoc" not in str(add.attributes["fastmath"]) or \
                not _threads(chain, loop, k, 3 + r):
            return 0
        ops_e = _pure_slice(add.operands[1 if add.operands[0] == acc else 0], loop, ops)
        if ops_e is None:
            return 0
        plan.append((k, r, add, acc, ops_e))
    if not all(list(ir.DenseI64ArrayAttr(g.attributes[FOLD_GATHER]))[4] for g in chain):
        return 0  # (all sums and one group: else the loop may be left zeroing alone)
    for k, r, add, acc, ops_e in plan:
        for g in chain:
            _add_term(g, k, add, acc, ops_e, loop)
        _partial(chain, loop, k, 3 + r, add)
        add.results[0].replace_all_uses_with(acc)
        add.erase()
    _fold_stores(chain, loop)
    return len(plan)


def _fold_stores(chain: list[ir.Operation], loop: ir.Operation) -> None:
    """When `loop` (its sums gone) only stores loop-invariant values (Enzyme's zeroing of
    the adjoints it read) and stores back values it just loaded, store those values in the
    gather loops instead, each after the last read of its element (iteration t + z in the
    gather iteration t), and erase `loop`."""
    block = loop.regions[0].blocks[0]
    moved = _movable_stores(loop)
    outer = [v for store, ops in moved for op in (store, *ops) for v in op.operands
             if not inside(v, loop)]
    if not moved or not all(_precedes(v, chain[0]) for v in outer):
        return
    iv = block.arguments[0]
    lo, hi = loop.operands[0], loop.operands[1]
    for g in chain:
        s, _, guarded, z = list(ir.DenseI64ArrayAttr(g.attributes[FOLD_GATHER]))[:4]
        gblock = g.regions[0].blocks[0]
        yield_op = list(gblock.operations)[-1].operation
        with ir.InsertionPoint(yield_op), g.location:
            u = gblock.arguments[0]
            t = nsw(arith.SubIOp(index_const(0), u).operation).results[0] if s < 0 else u
            at = shifted(t, z)
            if guarded:
                ok = arith.AndIOp(arith.CmpIOp(arith.CmpIPredicate.sge, at, lo).result,
                                  arith.CmpIOp(arith.CmpIPredicate.slt, at, hi).result).result
                branch = scf.IfOp(ok)
                with ir.InsertionPoint(branch.then_block):
                    _clone_stores(moved, iv, at)
                    scf.YieldOp([])
            else:
                _clone_stores(moved, iv, at)
    for r, result in enumerate(loop.results):
        result.replace_all_uses_with(loop.operands[3 + r])
    loop.erase()


def _precedes(value: ir.Value, anchor: ir.Operation) -> bool:
    """Whether `value` is defined before `anchor`: in an enclosing block, or in `anchor`'s
    block ahead of it."""
    op = defining(value)
    if op is None or op.block != anchor.block:
        return op is None or not inside(value, op_of(anchor.block.owner))
    ops = [o.operation for o in anchor.block.operations]
    return ops.index(op) < ops.index(anchor)


def _movable_stores(loop: ir.Operation) -> list[tuple[ir.Operation, list[ir.Operation]]]:
    """The stores of `loop` `_fold_stores` moves, each with the ops of its index; [] unless
    the body (its dead ops erased) holds nothing else but stores that change nothing."""
    block = loop.regions[0].blocks[0]
    for op in reversed([o.operation for o in block.operations][:-1]):
        if not op.regions and (op.name == "memref.load" or op.name.startswith(PURE)) and \
                all(use_count(r) == 0 for r in op.results):
            op.erase()
    body = [o.operation for o in block.operations]
    if any(y != block.arguments[1 + r] for r, y in enumerate(body[-1].operands)):
        return []
    moved = []
    for op in body[:-1]:
        if op.name == "memref.store" and not _reloaded(op, body):
            idx = [_pure_slice(x, loop, body) for x in list(op.operands)[2:]]
            if inside(op.operands[0], loop) or inside(op.operands[1], loop) or \
                    any(i is None or any(o.name == "memref.load" for o in i) for i in idx):
                return []
            moved.append((op, [o for o in body if any(o in i for i in idx if i)]))
        elif op.name == "memref.load":
            if not all(_reloaded(op_of(use.owner), body) for use in op.results[0].uses):
                return []
        elif op.name != "memref.store" and (op.regions or not op.name.startswith(PURE)):
            return []
    return moved


def _reloaded(store: ir.Operation | None, body: list[ir.Operation]) -> bool:
    """`store` (in `body`) puts back, at the same element, a value loaded from it with no
    store in between: it changes nothing."""
    if store is None or store.name != "memref.store" or store not in body:
        return False
    load = defining(store.operands[0])
    if load is None or load.name != "memref.load" or load not in body or \
            list(load.operands) != list(store.operands)[1:]:
        return False
    between = body[body.index(load) + 1:body.index(store)]
    return not any(op.name == "memref.store" for op in between)


def _clone_stores(moved: list[tuple[ir.Operation, list[ir.Operation]]], iv: ir.Value,
                  at: ir.Value) -> None:
    """The stores of `moved` (each with the ops of its index) at iteration `at`."""
    for store, ops in moved:
        clone_ops([*ops, store], {iv: at})


def _partial(chain: list[ir.Operation], loop: ir.Operation, k: int, at: int,
             add: ir.Operation) -> None:
    """Let the gather loops sum from -0.0 (a partial sum per run of the loops, not a chain
    through all of them) and add that partial sum to the carried one after them."""
    init = chain[0].operands[3 + k]
    with ir.InsertionPoint(chain[0]), chain[0].location:
        chain[0].operands[3 + k] = arith.ConstantOp(init.type, NEUTRAL["arith.addf"]).result
    with ir.InsertionPoint(loop), loop.location:
        total = add.clone()
        total.operands[0] = init
        total.operands[1] = chain[-1].results[k]
    loop.operands[at] = total.results[0]


def _threads(chain: list[ir.Operation], loop: ir.Operation, k: int, at: int) -> bool:
    """Whether the gather loops `chain` carry their k-th value from one to the next and
    into operand `at` of `loop`."""
    ends = [*chain[1:], loop]
    return all(nxt.operands[3 + k if nxt != loop else at] == g.results[k]
               for g, nxt in zip(chain, ends, strict=True))


def _pure_slice(value: ir.Value, loop: ir.Operation,
                body: list[ir.Operation]) -> list[ir.Operation] | None:
    """The loads and arithmetic of `loop`'s body that compute `value`, in body order; None
    if it uses another op or a loop-carried value."""
    iv = loop.regions[0].blocks[0].arguments[0]
    needed: set[ir.Operation] = set()
    stack = [value]
    while stack:
        v = stack.pop()
        if v == iv or not inside(v, loop):
            continue
        op = defining(v)
        if op is None or op_of(op.parent) != loop or op.regions or not (
                op.name == "memref.load" or op.name.startswith(PURE)):
            return None
        if op not in needed:
            needed.add(op)
            stack.extend(op.operands)
    return [op for op in body if op in needed]


def _add_term(g: ir.Operation, k: int, add: ir.Operation, acc: ir.Value,
              ops: list[ir.Operation], loop: ir.Operation) -> None:
    """In the gather loop `g`: its k-th carried value plus the term of iteration t + d (for
    t the gather loop's element; a guarded loop adds only iterations in `loop`'s range)."""
    s, d, guarded, _, _, dmin, dmax = list(ir.DenseI64ArrayAttr(g.attributes[FOLD_GATHER]))
    block = g.regions[0].blocks[0]
    yield_op = list(block.operations)[-1].operation
    e = add.operands[1 if add.operands[0] == acc else 0]
    iv = loop.regions[0].blocks[0].arguments[0]
    lo, hi = loop.operands[0], loop.operands[1]
    first = list(block.operations)[0].operation
    with ir.InsertionPoint(first), g.location:  # before the stores: loads shared (CSE)
        u = block.arguments[0]
        t = nsw(arith.SubIOp(index_const(0), u).operation).results[0] if s < 0 else u
        at = shifted(t, d)
        parts = byparts.split(e, ops, iv)
        shifts = byparts.place(parts, g, d, dmin, dmax) if parts else None
        if shifts is not None:
            term = byparts.emit(parts, shifts, t, d, iv, _in_range(lo, hi) if guarded else None)
        elif guarded:
            branch = scf.IfOp(_in_range(lo, hi)(at), [e.type], has_else=True)
            with ir.InsertionPoint(branch.then_block):
                scf.YieldOp([_clone_term(ops, iv, at, e)])
            with ir.InsertionPoint(branch.else_block):
                scf.YieldOp([arith.ConstantOp(e.type, NEUTRAL["arith.addf"]).result])
            term = branch.results[0]
        else:
            term = _clone_term(ops, iv, at, e)
        new = add.clone()
        pos = 0 if add.operands[0] == acc else 1
        new.operands[pos] = block.arguments[1 + k]
        new.operands[1 - pos] = term
    yield_op.operands[k] = new.results[0]


def _in_range(lo: ir.Value, hi: ir.Value):
    """Iteration -> whether it is in [lo, hi) (an i1 built at the insertion point)."""
    return lambda at: arith.AndIOp(arith.CmpIOp(arith.CmpIPredicate.sge, at, lo).result,
                                   arith.CmpIOp(arith.CmpIPredicate.slt, at, hi).result).result


def _clone_term(ops: list[ir.Operation], iv: ir.Value, at: ir.Value, e: ir.Value) -> ir.Value:
    """Clone `ops` at the insertion point with `iv` replaced by `at`; the copy of `e`."""
    return clone_ops(ops, {iv: at}).get(e, e)
