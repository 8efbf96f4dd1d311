"""Loop forms for parallel derivatives (lowering/paralleladjoint.py): queries and rewrites
between `scf.parallel` and `scf.for`.

Before Enzyme, `serialize_allocating` makes the parallel loops that allocate serial (the
allocation hoisting of temporaries.py would share their buffers between threads). After it,
`to_for` makes a loop that will not run on threads serial (its sums carried), and
`independent_loops`/`to_parallel` find Enzyme's serial loops whose iterations are independent
(the reverse of a sum's loop, `dterms[n-1-k] += seed`: stores only into arrays the function
allocated, at an index `injective` in the loop's, where the loop also reads them) and make
them parallel. `injective` and `root` are the index and view facts both modules use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from mlir import ir
from mlir.dialects import arith, memref, scf

from .irquery import constant, defining, inside, nested, op_of


def serialize_allocating(module: ir.Module) -> None:
    """Parallel loops that allocate (inlined callees' or the body's local arrays) become
    `scf.for`: allocation hoisting would share their buffers between threads."""
    for loop in loops(module, outermost=False):
        if any(op.name in ("memref.alloc", "memref.alloca") for op in nested(loop)):
            to_for(loop)


def to_for(loop: ir.Operation) -> None:
    """`loop` as the serial `scf.for` of the same iterations (its sums carried)."""
    par = loop.opview
    with ir.InsertionPoint(loop), loop.location:
        new = scf.ForOp(par.lowerBound[0], par.upperBound[0], par.step[0], list(par.initVals))
    body = loop.regions[0].blocks[0]
    body.arguments[0].replace_all_uses_with(new.induction_variable)
    reduce = reduce_op(loop)
    for op in list(body.operations)[:-1]:
        new.body.append(op)
    with ir.InsertionPoint(new.body), loop.location:
        scf.YieldOp([add(acc, v) for acc, v in zip(new.inner_iter_args, reduce.operands,
                                                    strict=True)])
    for old, result in zip(loop.results, new.results, strict=True):
        old.replace_all_uses_with(result)
    loop.erase()


def add(a: ir.Value, b: ir.Value) -> ir.Value:
    return (arith.addf if isinstance(a.type, ir.FloatType) else arith.addi)(a, b)


def loops(module: ir.Module, outermost: bool = True) -> list[ir.Operation]:
    found = [op for f in module.body.operations for op in nested(f.operation)
             if op.name == "scf.parallel"]
    if not outermost:
        return found
    return [op for op in found if not _under_parallel(op)]


def _under_parallel(op: ir.Operation) -> bool:
    parent = op_of(op.parent)
    while parent is not None and parent.name != "func.func":
        if parent.name == "scf.parallel":
            return True
        parent = op_of(parent.parent)
    return False


def independent_loops(module: ir.Module) -> list[ir.Operation]:
    """The top-level `scf.for` loops of functions with parallel loops whose iterations are
    independent: no carried values, only arithmetic, loads and stores, and every store into
    an array allocated in the function at a first index injective in the loop's index, where
    the loop also reads it (Enzyme's reverse of a sum's loop, `dterms[n-1-k] += seed`); the
    zero fills of allocated arrays there become such loops first."""
    found = []
    for f in module.body.operations:
        if f.operation.name != "func.func" or not f.operation.regions[0].blocks or not any(
                op.name == "scf.parallel" for op in nested(f.operation)):
            continue
        block = f.operation.regions[0].blocks[0]
        fills = [op.operation for op in block.operations if op.operation.name ==
                 "ember.zero_fill" and _allocated(root(op.operands[0])) and _plain_zero(op)]
        found += [_zero_loop(op) for op in fills]
        found += [op.operation for op in block.operations
                  if op.operation.name == "scf.for" and _independent(op.operation)
                  and not any(op.operation == z for z in found)]
    return found


def _plain_zero(fill: ir.Operation) -> bool:
    """A zero fill of an array of floats or integers, of rank 1 or more."""
    t = ir.MemRefType(fill.operands[0].type)
    return t.rank >= 1 and isinstance(t.element_type, ir.FloatType | ir.IntegerType)


def _zero_loop(fill: ir.Operation) -> ir.Operation:
    """`ember.zero_fill` of an allocated array as an `scf.for` nest, its first axis outermost."""
    target = fill.operands[0]
    t = ir.MemRefType(target.type)
    index = ir.IndexType.get()
    with ir.InsertionPoint(fill), fill.location:
        zero = (arith.constant(t.element_type, ir.FloatAttr.get(t.element_type, 0.0))
                if isinstance(t.element_type, ir.FloatType)
                else arith.constant(t.element_type, ir.IntegerAttr.get(t.element_type, 0)))
        sizes = [memref.dim(target, arith.constant(index, k)) for k in range(t.rank)]
        loop = _fill_nest(target, zero, sizes, [])
    fill.erase()
    return loop


def _fill_nest(target: ir.Value, zero: ir.Value, sizes: list[ir.Value],
               ivs: list[ir.Value]) -> ir.Operation:
    index = ir.IndexType.get()
    loop = scf.ForOp(arith.constant(index, 0), sizes[0], arith.constant(index, 1))
    with ir.InsertionPoint(loop.body):
        point = [*ivs, loop.induction_variable]
        if len(sizes) == 1:
            memref.store(zero, target, point)
        else:
            _fill_nest(target, zero, sizes[1:], point)
        scf.YieldOp([])
    return loop.operation


def _independent(loop: ir.Operation) -> bool:
    inner = list(nested(loop))
    if list(loop.results) or any(not op.name.startswith("arith.") and op.name not in
                                 ("memref.load", "memref.store", "scf.yield") for op in inner):
        return False
    iv = loop.regions[0].blocks[0].arguments[0]
    accesses = [(op, op.operands[0 if op.name == "memref.load" else 1],
                 list(op.operands)[1 if op.name == "memref.load" else 2:])
                for op in inner if op.name in ("memref.load", "memref.store")]
    written = [root(m) for op, m, _ in accesses if op.name == "memref.store"]
    if not written or not all(_allocated(r) for r in written) or not all(
            _allocated(root(m)) or defining(root(m)) is None for _, m, _ in accesses):
        return False  # (a memref chosen by a select or loaded could be any of them)
    mine = [(m, idx) for _, m, idx in accesses if find(written, root(m)) is not None]
    return all(idx and m == mine[0][0] and idx[0] == mine[0][1][0] for m, idx in mine) \
        and injective(mine[0][1][0], iv, loop)


def _allocated(m: ir.Value) -> bool:
    op = defining(m)
    return op is not None and op.name == "memref.alloc"


def to_parallel(loop: ir.Operation) -> None:
    """A loop of independent iterations as the `scf.parallel` of the same iterations."""
    old = loop.opview
    with ir.InsertionPoint(loop), loop.location:
        par = scf.ParallelOp([], [old.lowerBound], [old.upperBound], [old.step], [])
        body = par.regions[0].blocks.append(ir.IndexType.get())
    block = loop.regions[0].blocks[0]
    block.arguments[0].replace_all_uses_with(body.arguments[0])
    for op in list(block.operations)[:-1]:
        body.append(op)
    with ir.InsertionPoint(body), loop.location:
        scf.ReduceOp([], 0)
    loop.erase()


def reduce_op(loop: ir.Operation) -> ir.Operation:
    return list(loop.regions[0].blocks[0].operations)[-1].operation


def is_sum(region: ir.Region) -> bool:
    ops = list(region.blocks[0].operations)
    args = list(region.blocks[0].arguments)
    return (len(ops) == 2 and ops[0].name in ("arith.addf", "arith.addi")
            and all(find(args, v) is not None for v in ops[0].operands))


def find(values: list[ir.Value], v: ir.Value) -> int | None:
    return next((k for k, c in enumerate(values) if c == v), None)


_VIEW_OPS: Final = ("memref.subview", "memref.cast", "memref.reinterpret_cast",
                    "memref.expand_shape", "memref.collapse_shape", "memref.transpose")


def root(m: ir.Value) -> ir.Value:
    op = defining(m)
    while op is not None and op.name in _VIEW_OPS:
        m = op.operands[0]
        op = defining(m)
    return m


_STEP: Final[dict[str, Callable[[ir.Operation], list[int]]]] = {
    "arith.index_cast": lambda op: [0], "arith.index_castui": lambda op: [0],
    "arith.addi": lambda op: [0, 1], "arith.subi": lambda op: [0, 1],
}


def injective(v: ir.Value, iv: ir.Value, loop: ir.Operation) -> bool:
    """Whether `v` is iv, or iv through casts, additions of loop-invariant values,
    multiplications by non-zero constants and Python's wrap-around of negative indices."""
    if v == iv:
        return True
    op = defining(v)
    if op is None or not inside(v, loop):
        return False
    if op.name == "arith.select":
        return _wrapped(op, iv, loop)
    if op.name == "arith.muli":
        a, b = op.operands
        return any(constant(c) not in (None, 0) and injective(d, iv, loop)
                   for c, d in ((a, b), (b, a)))
    if op.name not in _STEP:
        return False
    varying = [op.operands[k] for k in _STEP[op.name](op) if inside(op.operands[k], loop)]
    return len(varying) == 1 and injective(varying[0], iv, loop)


_SLT: Final = 2
"""arith.cmpi's `slt` predicate."""


def _wrapped(select: ir.Operation, iv: ir.Value, loop: ir.Operation) -> bool:
    """`select(iv < 0, iv + n, iv)` where iv, the index of a parallel loop from a non-negative
    constant, never is negative: iv itself."""
    cond, _, value = select.operands
    test = defining(cond)
    lower = loop.opview.lowerBound
    start = constant(lower[0] if isinstance(lower, ir.OpOperandList | list) else lower)
    return (value == iv and test is not None and test.name == "arith.cmpi"
            and ir.IntegerAttr(test.attributes["predicate"]).value == _SLT
            and test.operands[0] == iv and constant(test.operands[1]) == 0
            and isinstance(start, int) and start >= 0)
