"""Optimization of a kernel's primal before Enzyme differentiates it (opt_level 2-3).

Enzyme 0.0.16 saves, in every loop iteration, each value its reverse pass needs and cannot
recompute from loop indices and values defined outside the loop: loaded elements, products,
loop-carried integers. The tape it builds is the gradient's main cost (memory traffic, and
allocations inside loops whose trip count varies). Before Enzyme runs (after the guards of
lowering/enzyme.py, which this keeps intact), `optimize_for_enzyme` shrinks that tape without
changing a single value:

* `counters`: an integer iteration argument advanced by a loop-invariant step (`p += 1`,
  `k += stride`) is, inside the loop, `init + n * step` with `n = (iv - lb) / step`; its uses
  in the body read that instead, so Enzyme recomputes it in the reverse pass instead of
  saving it in every iteration (two's-complement arithmetic: equal bit for bit). The loop
  still carries it for its result.
* `cse`: one load where the frontend emitted several of the same element (`x[i] * x[i]`,
  `u[j] * u[j]`): one saved value instead of two. MLIR's CSE merges loads only where no write
  can come between them.
* `forward_stores` (forwarding.py): a load of a local work array reads the expression
  stored there (`xc[j] = x[i, j] - mu[k, j]` in an earlier loop), so Enzyme saves no element
  of an array the loops overwrite, and lowering/remat.py recomputes the expression;
  `drop_unread` (deadarrays.py) then erases a work array nothing reads any more.
* `hoist`: integer and index arithmetic (and constants) that does not change in a loop moves
  out of it, so Enzyme neither recomputes nor saves it per iteration. Float values stay where
  they are: MLIR's loop-invariant-code-motion also hoists `x * 0.5` out of a loop, and Enzyme
  0.0.16 then accumulates the adjoint of such a value wrongly when the loop is nested in a
  replayed while loop (tests/grad/test_jvp_loops.py seed 38: a gradient 43% off, no error).
  Divisions move only by a nonzero constant (a zero-trip loop must not divide by zero).
* `tabulate_counters` (countertable.py): a counter carried by a nested loop whose values do
  not depend on the enclosing loops (a packed index advanced by an inner loop's trip count)
  is read from a table filled once before the loop nest, which remat.py reloads instead of
  a cache per iteration of the nest.

No `canonicalize`: it would fold the stop-gradients of ir/adrules.py (bitcast round trips) and
insert `memref.cast` ops, which Enzyme has no rule for.
"""

from __future__ import annotations

from typing import Final

from mlir import ir
from mlir.dialects import arith
from mlir.passmanager import PassManager

from ..ir.context import ops_where
from .countertable import tabulate_counters
from .deadarrays import drop_unread
from .forwarding import forward_stores
from .irquery import constant, inside, op_of

PASSES: Final = "builtin.module(cse)"
DIVISIONS: Final = frozenset({"arith.divsi", "arith.divui", "arith.remsi", "arith.remui",
                              "arith.ceildivsi", "arith.ceildivui", "arith.floordivsi"})


def optimize_for_enzyme(module: ir.Module) -> None:
    """Rewrite `module` (in place) into the equivalent form that gives Enzyme a smaller tape."""
    loops = ops_where(module.operation, lambda op: op.name == "scf.for")  # inner loops first
    for loop in loops:  # first: the frontend emits constants (counter steps) inside loops
        _hoist(loop)
    for loop in loops:
        _counters(loop)
    PassManager.parse(PASSES).run(module.operation)
    if forward_stores(module):  # loop bounds compared after CSE (forwarding.py)
        PassManager.parse(PASSES).run(module.operation)
    for loop in ops_where(module.operation, lambda op: op.name == "scf.for"):  # after CSE
        _hoist(loop)
    drop_unread(module)  # arrays all of whose loads were forwarded (deadarrays.py)
    tabulate_counters(module)  # after `counters`: their uses read the outer counter


def _hoist(loop: ir.Operation) -> None:
    """Move the loop-invariant integer arithmetic of `loop`'s body before `loop`."""
    for view in list(loop.regions[0].blocks[0].operations):
        op = view.operation
        if _integerop_of(op) and not any(inside(v, loop) for v in op.operands):
            op.move_before(loop)


def _integerop_of(op: ir.Operation) -> bool:
    if op.name == "arith.constant":
        return True
    if not (op.name.startswith("arith.") or op.name == "memref.dim") or len(op.regions):
        return False
    if op.name in DIVISIONS and constant(op.operands[1]) in (None, 0):
        return False
    return len(op.results) > 0 and all(_is_integer(r.type) for r in op.results)


def _is_integer(t: ir.Type) -> bool:
    return isinstance(t, ir.IntegerType | ir.IndexType)


def _counters(loop: ir.Operation) -> None:
    """Give the body of `loop` its integer counters as `init + n * step` (module docstring)."""
    body = loop.regions[0].blocks[0]
    args = list(body.arguments)
    terminator = list(body.operations)[-1]
    inits = list(loop.operands)[3:]
    if not isinstance(args[0].type, ir.IndexType):
        return
    first = list(body.operations)[0]  # new ops go before it, in the order they are made
    n: ir.Value | None = None
    for k, arg in enumerate(args[1:]):
        advance = _advance(terminator.operands[k], arg, loop) if _is_integer(arg.type) else None
        if advance is None or _only_use(arg, advance[0]):
            continue
        add, step = advance
        with ir.InsertionPoint(first), loop.location:
            n = n if n is not None else _iteration(loop, args[0])
            count = n if n.type == arg.type else arith.index_cast(arg.type, n)
            value = arith.addi(inits[k], arith.muli(count, step))
        arg.replace_all_uses_except(value, add)


def _advance(yielded: ir.Value, arg: ir.Value,
             loop: ir.Operation) -> tuple[ir.Operation, ir.Value] | None:
    """(the `arith.addi`, the step) when `yielded` is `arg + step` with `step` defined outside
    `loop`, else None."""
    owner = op_of(yielded.owner)
    if owner is None or owner.name != "arith.addi":
        return None
    a, b = owner.operands
    step = b if a == arg else a if b == arg else None
    if step is None or inside(step, loop):
        return None
    return owner, step


def _only_use(value: ir.Value, user: ir.Operation) -> bool:
    return all(use.owner == user for use in value.uses)


def _iteration(loop: ir.Operation, iv: ir.Value) -> ir.Value:
    """`(iv - lb) / step`: the number of the current iteration, from 0 (index)."""
    lb, step = loop.operands[0], loop.operands[2]
    offset = arith.subi(iv, lb)
    if constant(step) == 1:
        return offset
    return arith.divui(offset, step)
