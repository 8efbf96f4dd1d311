"""Before Enzyme: hoist the arrays allocated inside loops out of them.

Input: a module emitted for Enzyme, callees inlined. Output: each `memref.alloc` inside a loop
whose buffer does not outlive an iteration (no loop carries it) moved before the outermost
loop around it, with the pure index arithmetic, dims and subviews its sizes are computed from
cloned there; ir/arrays.py's `TEMPORARY` marks are removed. `hoist_allocations` returns the
locations of the allocations it could not hoist (sizes that change from one iteration to the
next): reverse mode refuses those. An allocation in an `scf.if` outside loops moves before
it, its size zero where the branch does not run.

Why: Enzyme 0.0.16 keeps the shadow of an array allocated inside a loop in a per-iteration
cache that it never zeroes (`flatten-enzyme-caches` drops the zero fill), so the reverse sweep
accumulates into uninitialized memory (wrong or NaN gradients from the third iteration on;
`t = np.zeros_like(u)` in a time loop was silently wrong). An array that does not outlive its
iteration can use one buffer for all iterations (its contents are set anew in each: a fill
stays where it was, and `np.empty` promises nothing), and its shadow, allocated and zeroed
once, is reset to zero by the reverse sweep as it is consumed.
"""

from __future__ import annotations

from mlir import ir
from mlir.dialects import arith

from ..ir.arrays import TEMPORARY
from ..ir.context import ops_where

_LOOPS = frozenset({"scf.for", "scf.while", "scf.parallel"})
_PURE = frozenset({"memref.dim", "memref.subview"})


def hoist_allocations(module: ir.Module) -> list[ir.Location]:
    """Hoist every allocation inside a loop that no loop carries; the locations of those whose
    sizes cannot be computed before the loop."""
    stuck = []
    for op in ops_where(module.operation, lambda o: o.name == "memref.alloc"):
        if TEMPORARY in op.attributes:
            del op.attributes[TEMPORARY]
        loop = _outermost_loop(op)
        if loop is None:
            _out_of_branches(op)
            continue
        if _carried(op.result):
            continue  # carried arrays: rewrites.select_carried_arrays, or Ember's refusal
        mapped: dict[ir.Value, ir.Value] = {}
        sizes = [_outside(v, loop, mapped) for v in op.operands]
        if any(s is None for s in sizes):
            stuck.append(op.location)
            continue
        for k, size in enumerate(sizes):
            op.operands[k] = size
        op.move_before(loop)
        _out_of_branches(op)
    return stuck


def _out_of_branches(op: ir.Operation) -> None:
    """Move an allocation that no loop holds before the `scf.if`s around it, its size zero
    where the branch does not run: Enzyme 0.0.16 cannot differentiate (reverse) an alloc in
    an `scf.if` ('memref.alloc' op symbol operand count does not equal memref symbol count),
    and code after an `if c: raise` is such a branch."""
    while (branch := op.parent) is not None and branch.name == "scf.if":
        mapped: dict[ir.Value, ir.Value] = {}
        sizes = [_outside(v, branch.operation, mapped) for v in op.operands]
        if any(size is None for size in sizes):
            return
        then = op.operation.block.region == branch.regions[0]
        with ir.InsertionPoint(branch), op.location:
            zero = arith.ConstantOp(ir.IndexType.get(), 0).result
            cond = branch.operands[0]
            for k, size in enumerate(sizes):
                op.operands[k] = arith.select(cond, size, zero) if then \
                    else arith.select(cond, zero, size)
        op.move_before(branch)


_VIEWS = frozenset({"memref.subview", "memref.cast", "memref.reinterpret_cast",
                    "memref.expand_shape", "memref.collapse_shape", "memref.transpose"})


def _carried(value: ir.Value) -> bool:
    """Whether the buffer of `value` reaches a loop's yield (directly, through views or through
    the results of `scf.if`s): it then outlives its iteration."""
    seen, todo = set(), [value]
    while todo:
        v = todo.pop()
        if v in seen:
            continue
        seen.add(v)
        for use in v.uses:
            user = use.owner
            if user.name in _VIEWS:
                todo.extend(user.results)
            elif user.name in ("scf.yield", "scf.condition"):
                parent = user.parent
                if parent is None or parent.name != "scf.if":
                    return True
                todo.extend(parent.results)
    return False


def _outermost_loop(op: ir.Operation) -> ir.Operation | None:
    found, parent = None, op.parent
    while parent is not None and parent.name != "func.func":
        if parent.name in _LOOPS:
            found = parent.operation
        parent = parent.parent
    return found


def _inside(op: ir.Operation, loop: ir.Operation) -> bool:
    parent: ir.Operation | None = op.operation
    while parent is not None:
        if parent == loop:
            return True
        parent = parent.parent.operation if parent.parent is not None else None
    return False


def _owner_op(value: ir.Value) -> ir.Operation | None:
    """The op defining `value`, or the op whose region holds the block argument `value`."""
    owner = value.owner
    op = owner.owner if isinstance(owner, ir.Block) else owner
    return op.operation if op is not None else None


def _outside(value: ir.Value, loop: ir.Operation,
             mapped: dict[ir.Value, ir.Value]) -> ir.Value | None:
    """`value`, available before `loop` (cloning its pure definition there), or None."""
    if value in mapped:
        return mapped[value]
    owner = _owner_op(value)
    if owner is None or not _inside(owner, loop):
        return value
    if isinstance(value.owner, ir.Block):
        return None  # a loop's induction variable or iteration argument
    size = _view_size(owner) if owner.name == "memref.dim" else None
    if size is not None:  # the size of a view made in the loop (a row `x[i]`)
        return _outside(size, loop, mapped)
    if not (owner.name.startswith("arith.") or owner.name in _PURE):
        return None
    operands = [_outside(v, loop, mapped) for v in owner.operands]
    if any(o is None for o in operands):
        return None
    clone = owner.clone(ip=ir.InsertionPoint(loop))
    for k, operand in enumerate(operands):
        clone.operands[k] = operand
    for old, new in zip(owner.results, clone.results, strict=True):
        mapped[old] = new
    return mapped[value]


def _view_size(dim: ir.Operation) -> ir.Value | None:
    """The size operand of the `memref.subview` that `dim` measures (the sizes of a view do
    not depend on its offsets), or None: another source, a static size, a non-constant axis
    or a rank reduction whose dropped axes are ambiguous."""
    source, index = dim.operands
    view, axis = _owner_op(source), _constant(index)
    if view is None or view.name != "memref.subview" or axis is None:
        return None
    static = list(ir.DenseI64ArrayAttr(view.attributes["static_sizes"]))
    dropped = len(static) - ir.MemRefType(source.type).rank
    units = [k for k, size in enumerate(static) if size == 1]
    if dropped and len(units) != dropped:
        return None
    kept = [k for k in range(len(static)) if not (dropped and k in units)]
    k = kept[axis]
    dynamic = ir.ShapedType.get_dynamic_size()
    if static[k] != dynamic:
        return None
    segments = list(ir.DenseI32ArrayAttr(view.attributes["operandSegmentSizes"]))
    first = segments[0] + segments[1]  # source, then the dynamic offsets
    return view.operands[first + sum(1 for size in static[:k] if size == dynamic)]


def _constant(value: ir.Value) -> int | None:
    owner = _owner_op(value)
    if owner is None or owner.name != "arith.constant" or isinstance(value.owner, ir.Block):
        return None
    return int(ir.IntegerAttr(owner.attributes["value"]).value)
