"""Opt-in checkpointing of a reverse-mode derivative's time loops (`grad(..., checkpoint=...)`).

Input: the module prepared for Enzyme (lowering/enzyme.prepare_for_enzyme: callees inlined,
guards applied) and a kind with a snapshot count. Output: the same module with Enzyme 0.0.16's
loop attributes on its *time loops*, the extra passes Enzyme's pipeline needs for the kind
(`pipeline`), and, after Enzyme, its schedule's `enzyme.binomial_progress` ops as calls of an
MLIR function (`lower_progress`) and the `memref.copy` of its snapshots as loops
(`lower_copies`).

A time loop is an outermost `scf.for` of the differentiated function (no loop around it) that
carries a value from one iteration to the next: a float iteration argument or, through
memory, an array it both reads and writes. Its tape (every value the adjoint of each iteration
reads) grows with its trip count; binomial checkpointing (Griewank's revolve) keeps
`snapshots` copies of the loop's state instead and recomputes the iterations in between (about
log_snapshots(n) extra forward sweeps). Inner loops are left alone: they are replayed inside
the recomputed iterations, and their tape is one outer iteration's.

Each snapshot copies the state the loop touches, scalars and arrays (Enzyme copies every
array the loop uses), so the memory is `snapshots` times the loop's state: small for a time
loop over a small state, large for an outermost loop over a large array, which is why loops
that carry nothing (an elementwise loop) are never marked.

Enzyme 0.0.16's periodic scheme (`enable_checkpointing` without `binomial_checkpointing`)
fails on loops that write arrays ('scf.yield' op must be the last operation) and leaves loops
with a run-time trip count unchanged, so only the binomial scheme is offered. Every build is
checked (`verify`): a marked loop that Enzyme fails on or does not checkpoint is refused with a
CompileError at the loop (`refusal`), never silently left with its whole tape.
"""

from __future__ import annotations

import re
from typing import Final

from mlir import ir

from ..errors import CompileError, Span
from ..ir.context import ops_where
from .rewrites import copy_elements

BEFORE: Final = (
    # a snapshot is a new buffer of the type of each array the loop uses: a strided view
    # (Ember's arrays to Enzyme, lowering/views.py) cannot be allocated, so views made
    # before the loop are remade inside it and the snapshots copy their identity-layout bases
    "sink-checkpoint-views",
)
AFTER: Final[dict[str, tuple[str, ...]]] = {
    # binomial checkpointing leaves `enzyme.binomial_progress` ops (the revolve schedule);
    # `lower_progress` lowers them instead of `lower-enzyme-binomial-progress`
    "binomial": (),
}

_PROGRESS: Final = re.compile(r"enzyme\.binomial_progress (%[\w#]+), (%[\w#]+) : index")
PROGRESS: Final = "__ember_binomial_progress"
# Enzyme 0.0.16's `binomialProgress(n, s)` (the steps to advance before the next snapshot,
# with `s` slots left for `n` steps), as `lower-enzyme-binomial-progress` writes it, plus a
# fast path: with s + 1 >= n (n >= 2, s >= 2) its formula gives 1 (t = 1, beta = s + 1, so
# lo <= 1 and hi = 1), which is the case of ~93% of the calls (about one per step in the
# reverse sweep), each otherwise costing a loop of 64-bit divisions.
_PROGRESS_FUNC: Final = """
  func.func private @__ember_binomial_progress(%n: index, %s: index) -> index {
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %sp1 = arith.addi %s, %c1 : index
    %few = arith.cmpi sle, %n, %c1 : index
    %one = arith.cmpi sle, %s, %c1 : index
    %trivial = arith.ori %few, %one : i1
    %plenty = arith.cmpi sle, %n, %sp1 : index
    %r = scf.if %trivial -> (index) {
      scf.yield %n : index
    } else {
      %r1 = scf.if %plenty -> (index) {
        scf.yield %c1 : index
      } else {
        %c0 = arith.constant 0 : index
        %tb:2 = scf.while (%t = %c0, %beta = %c1) : (index, index) -> (index, index) {
          %go = arith.cmpi slt, %beta, %n : index
          scf.condition(%go) %t, %beta : index, index
        } do {
        ^bb0(%t: index, %beta: index):
          %t1 = arith.addi %t, %c1 : index
          %st1 = arith.addi %s, %t1 : index
          %b1 = arith.muli %beta, %st1 : index
          %b2 = arith.divui %b1, %t1 : index
          scf.yield %t1, %b2 : index, index
        }
        %st = arith.addi %s, %tb#0 : index
        %bs = arith.muli %tb#1, %s : index
        %q1 = arith.divui %bs, %st : index
        %lo0 = arith.subi %n, %q1 : index
        %bt = arith.muli %tb#1, %tb#0 : index
        %hi0 = arith.divui %bt, %st : index
        %nm1 = arith.subi %n, %c1 : index
        %lo = arith.maxsi %lo0, %c1 : index
        %hi = arith.minsi %hi0, %nm1 : index
        %sum = arith.addi %lo, %hi : index
        %m0 = arith.divui %sum, %c2 : index
        %sm1 = arith.subi %s, %c1 : index
        %cap = arith.subi %n, %sm1 : index
        %m1 = arith.minsi %m0, %cap : index
        %m2 = arith.maxsi %m1, %c1 : index
        scf.yield %m2 : index
      }
      scf.yield %r1 : index
    }
    return %r : index
  }"""

_LOC: Final = re.compile(r'loc\("(?P<file>[^"]+)":(?P<line>\d+):(?P<col>\d+)\)')
REFUSED: Final = "cannot checkpoint this loop: Enzyme 0.0.16 fails on it"
_LOOPS: Final = ("scf.for", "scf.while", "scf.parallel", "scf.forall")


def pipeline(base: str, kind: str | None) -> str:
    """Enzyme's pass pipeline `base`, extended for checkpointing `kind` (None: unchanged)."""
    return base if kind is None else ",".join((*BEFORE, base, *AFTER[kind]))


SCALAR_SNAPSHOTS = 2048
"""Default slots of a time loop whose state is scalars only: revolve then runs two forward
sweeps of a loop of up to 2.1e6 steps (C(2050, 2) >= n), 1.7-2.0x the unbounded gradient's
time at 1e6 steps where 64 slots ran five (3.3-3.6x; BENCHMARKS.md, "Checkpointing"), for
16 KiB per float of state."""
ARRAY_SNAPSHOTS = 64
"""Default slots of a time loop that uses arrays: Enzyme copies every array the loop uses
into each slot, and their sizes are unknown here, so the count stays small (64 copies of a
1e5-element array are 51 MB; 2048 would be 1.6 GB, more than most tapes it replaces)."""


def default_snapshots(loop: ir.Operation) -> int:
    """The slots of `loop` when `snapshots=` is not given."""
    arrays = any(True for _ in ops_where(loop, lambda op: op.name in ("memref.load",
                                                                      "memref.store")))
    return ARRAY_SNAPSHOTS if arrays else SCALAR_SNAPSHOTS


def mark_loops(module: ir.Module, kind: str, snapshots: int) -> list[tuple[ir.Location, int]]:
    """Put `kind`'s checkpointing attributes on every time loop of `module` (`snapshots`
    slots each; 0: `default_snapshots`); each marked loop's location and slot count."""
    unguard_fresh_fills(module)
    loops = [op for op in ops_where(module.operation, lambda op: op.name == "scf.for")
             if _outermost(op) and not _over_array(op) and _carries_state(op)]
    i64 = ir.IntegerType.get_signless(64)
    marked = []
    for loop in loops:
        count = snapshots or default_snapshots(loop)
        loop.attributes["enzyme.enable_checkpointing"] = ir.BoolAttr.get(True)
        loop.attributes["enzyme.binomial_checkpointing"] = ir.BoolAttr.get(True)
        loop.attributes["enzyme.checkpoint_period"] = ir.IntegerAttr.get(i64, count)
        marked.append((loop.location, count))
    return marked


def refusal(error: CompileError, loops: list[tuple[ir.Location, int]]) -> CompileError:
    """The error of a checkpointed build that Enzyme failed on, at the first marked loop."""
    if not loops or error.message.startswith(REFUSED):
        return error
    found = _LOC.search(str(loops[0][0]))
    span = None
    if found:
        line, col = int(found["line"]), int(found["col"])
        span = Span(found["file"], line, col - 1, line, col, "")
    lines = error.message.removeprefix("differentiation failed: ").splitlines()
    what = next((ln for ln in lines if ln.strip() and not ln.startswith(
        ("INTERNAL", "Pipeline failed"))), lines[0] if lines else "")
    refused = CompileError(f"{REFUSED} ({what})", span, notes=list(error.notes))
    return refused.with_note(
        "binomial checkpointing works on time loops over scalars, the kernel's array "
        "parameters and local arrays made by np.zeros/np.ones/np.empty "
        "(tests/grad/test_checkpointing.py); a local array the loop uses that is filled from "
        "other arrays before it (`v = u.copy()`) or written outside a loop before it is not "
        "supported yet: differentiate without checkpoint=, or pass the array as a parameter")


def verify(derived: ir.Module, loops: list[tuple[ir.Location, int]]) -> None:
    """Refuse a build in which Enzyme did not checkpoint every marked loop (its schedule
    keeps the step index of each of a loop's slots in a memref<slots x index>):
    checkpointing must never silently not happen."""
    text = str(derived)
    for count in {c for _, c in loops}:
        if text.count(f"memref<{count}xindex>") < sum(c == count for _, c in loops):
            raise refusal(CompileError("it left the loop unchanged"), loops)


def unguard_fresh_fills(module: ir.Module) -> None:
    """Drop the store guard (rewrites.activate_stores) from the loop filling a new array
    (`np.zeros(m)`, `u.copy()`): Enzyme 0.0.16 cannot checkpoint a loop using an array whose
    fill loop before it reads the elements it overwrites ('operand does not dominate this
    use'). The guard is not needed there: the overwritten elements are the allocation's or the
    fill's own, never read, so no adjoint flows into them."""
    for alloc in ops_where(module.operation, lambda op: op.name == "memref.alloc"):
        found = _first_user(alloc)
        store = _guarded_fill(*found) if found is not None else None
        if store is not None:
            select = store.operands[0].owner
            load = select.operands[1].owner
            store.operands[0] = select.operands[2]
            select.erase()
            load.erase()


def _first_user(alloc: ir.Operation) -> tuple[ir.Operation, set[ir.Value]] | None:
    """The first op after `alloc` in its block using the array other than through views and
    sizes, if it is an `scf.for`, with the array's views."""
    views = {alloc.results[0]}
    after = False
    for view in alloc.block.operations:
        op = view.operation
        if not after:
            after = op == alloc
        elif op.name in ("memref.subview", "memref.cast") and op.operands[0] in views:
            views.add(op.results[0])
        elif op.name != "memref.dim" and any(
                operand in views for nested in ops_where(op, lambda _: True)
                for operand in nested.operands):
            return (op, views) if op.name == "scf.for" else None
    return None


def _guarded_fill(loop: ir.Operation, views: set[ir.Value]) -> ir.Operation | None:
    """The one store of `loop` into `views` if it is guarded (`load a[i]; select(false, that,
    v); store a[i]`) and that guard is the loop's only read of them, else None."""
    uses = [op for op in ops_where(loop, lambda _: True)
            if any(operand in views for operand in op.operands)]
    stores = [op for op in uses if op.name == "memref.store" and op.operands[1] in views]
    if len(stores) != 1 or len(uses) != 2:
        return None
    store = stores[0]
    select = store.operands[0].owner if isinstance(store.operands[0], ir.OpResult) else None
    if (select is None or select.name != "arith.select" or not _is_false(select.operands[0])
            or not isinstance(select.operands[1], ir.OpResult)):
        return None
    load = select.operands[1].owner
    if load.name != "memref.load" or load not in uses or len(list(load.results[0].uses)) != 1:
        return None
    return store


def _outermost(loop: ir.Operation) -> bool:
    parent = loop.parent
    while parent is not None and parent.name != "func.func":
        if parent.name in _LOOPS:
            return False
        parent = parent.parent
    return True


def _over_array(loop: ir.Operation) -> bool:
    """Whether the loop's trip count depends on an array's size (`range(len(x))`, array
    expressions, reductions): a loop over space, not time, whose tape is at most proportional
    to the arrays it runs over, as large as one snapshot of them."""
    seen: set[ir.Value] = set()
    todo = [loop.operands[1]]  # the upper bound
    while todo:
        value = todo.pop()
        if not isinstance(value, ir.OpResult) or value in seen:
            continue
        seen.add(value)
        if value.owner.name == "memref.dim":
            return True
        todo.extend(value.owner.operands)
    return False


def _carries_state(loop: ir.Operation) -> bool:
    """A float iteration argument, or an array (base) both read and written in the body."""
    if any(isinstance(r.type, ir.FloatType) for r in loop.results):
        return True
    reads: set[ir.Value] = set()
    writes: set[ir.Value] = set()
    for op in ops_where(loop, lambda op: op.name in ("memref.load", "memref.store")):
        if op.name == "memref.store":
            writes.add(_base(op.operands[1]))
        elif not _only_never_selected(op.results[0]):
            reads.add(_base(op.operands[0]))
    return bool(reads & writes)


def _only_never_selected(value: ir.Value) -> bool:
    """Whether `value` is only read by the guards' never-selects, `select(false, value, w)`
    (lowering/rewrites.py: `np.zeros`' fill loop reads the elements it overwrites only so)."""
    users = [use.owner for use in value.uses]
    return bool(users) and all(
        user.name == "arith.select" and user.operands[1] == value
        and _is_false(user.operands[0]) for user in users)


def _is_false(value: ir.Value) -> bool:
    return (isinstance(value, ir.OpResult) and value.owner.name == "arith.constant"
            and str(value.owner.attributes["value"]) == "false")


def _base(array: ir.Value) -> ir.Value:
    """The array `array` views (through subviews and casts)."""
    while isinstance(array, ir.OpResult) and array.owner.name in (
            "memref.subview", "memref.cast", "memref.reinterpret_cast"):
        array = array.owner.operands[0]
    return array


def lower_progress(text: str) -> str:
    """Enzyme's output text with its `enzyme.binomial_progress` ops as calls of
    `_PROGRESS_FUNC` (added to the module)."""
    lowered = _PROGRESS.sub(rf"func.call @{PROGRESS}(\1, \2) : (index, index) -> index", text)
    if lowered == text:
        return text
    end = lowered.rindex("\n}")  # the module's closing brace (location aliases follow)
    return lowered[:end] + _PROGRESS_FUNC + lowered[end:]


def lower_copies(module: ir.Module) -> None:
    """Each `memref.copy` (Enzyme's snapshots) as a loop nest of loads and stores
    (rewrites.copy_elements)."""
    for op in ops_where(module.operation, lambda op: op.name == "memref.copy"):
        with ir.InsertionPoint(op), op.location:
            copy_elements(op.operands[0], op.operands[1])
        op.erase()
