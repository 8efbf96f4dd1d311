"""A reverse loop fused into the forward loop it mirrors (after Enzyme, opt_level >= 2).

The derivative of a map-reduce, `s += f(x[i])`, is two loops over one range in `diffe<fn>`:
the forward sweep (the sum, for the value) and the reverse sweep (`dx[i] += ds * f'(x[i])`,
descending), each loading `x[i]` and computing what f and f' share (`t = x[i] * x[i]`; `sin(t)`
and `cos(t)`; `exp(t)` twice). `fuse_sweeps` moves the reverse loop's body into the forward
loop, so `x[i]` is loaded once, the common values merge, and LLVM computes `sin(t)` and
`cos(t)` with one `sincos` call (glibc's `sincos` gives exactly the bits of `sin` and `cos`:
compared on 2e8 inputs). Conditions:
* both are `scf.for` ops of one block of `diffe<fn>`, the forward loop first, with the same
  bounds and step 1, and bodies of arithmetic, math, loads and stores only (no regions),
  each calling a math function (sin, exp, ...: the shared work is what pays; a reverse loop
  of plain arithmetic is faster alone, vectorized, next to a forward sum that cannot be);
* the forward loop stores nothing; the reverse loop carries only sums that adjointsums.py
  marked reassociable (the adjoint of a scalar parameter), and its iterations are
  independent: every access indexes its last axis by `c +- iv` (one slope for all) and its
  other axes by loop-invariant values, and every stored buffer is accessed at the store's own
  index only (buffers are told apart as allocations or as shadow parameters, which are
  distinct from every other argument: adattrs.py);
* the forward loop loads no buffer that may be one the reverse loop stores;
* the ops between the two are pure (index arithmetic, views); the reverse loop uses no result
  of the forward loop, and what it uses from between the two moves above the forward loop.
One loop carrying the values of both runs the forward body, then the reverse body with its
index mirrored (its elements ascending): every value and array derivative is computed by the
same operations from the same operands, bit for bit; a carried sum adds its terms in
ascending order (as ascendingsums.py would), a change by rounding only.
"""

from __future__ import annotations

from typing import Final

from mlir import ir
from mlir.dialects import arith, scf

from .ascendingsums import BODY, accesses, independent, may_alias, mirror_top, sums_only
from .enzyme import ADSpec
from .irquery import constant, defining, derivative_functions, nested

PURE: Final = ("arith.", "index.", "memref.dim", "memref.subview", "memref.cast",
               "memref.reinterpret_cast")
"""Ops that may sit between the two loops and move above the forward one (prefixes)."""
CHEAP: Final = frozenset({"math.absf", "math.absi", "math.fma", "math.copysign", "math.sqrt",
                          "math.rsqrt", "math.floor", "math.ceil", "math.round",
                          "math.roundeven", "math.trunc", "math.fpowi", "math.ipowi"})
"""Math ops that are instructions, not calls: alone they are no reason to fuse."""


def fuse_sweeps(module: ir.Module, spec: ADSpec) -> int:
    """Fuse the qualifying reverse loops of `spec`'s derivative into their forward loops
    (module docstring); returns how many were fused."""
    done = 0
    for func in derivative_functions(module, spec.fn):
        entry = func.regions[0].blocks[0]
        shadows = spec.shadows()
        fused = True
        while fused:  # (the blocks listed anew after a fusion: the fused loops' are gone)
            fused = False
            for block in [entry, *(b for op in nested(func) for r in op.regions
                                   for b in r.blocks)]:
                if (pair := _pair(block, shadows)) is not None:
                    _fuse(*pair)
                    done += 1
                    fused = True
                    break
    return done


def _pair(block: ir.Block, shadows: frozenset[int]
          ) -> tuple[ir.Operation, ir.Operation, list[ir.Operation], int] | None:
    """(forward loop, reverse loop, ops to move above the forward loop, the reverse loop's
    direction: +-1) for the first pair in `block` that may be fused."""
    ops = [op.operation for op in block.operations]
    for k, second in enumerate(ops):
        if second.name != "scf.for":
            continue
        first = next((o for o in reversed(ops[:k]) if o.regions), None)
        if first is None or first.name != "scf.for":
            continue
        between = ops[ops.index(first) + 1:k]
        if any(not op.name.startswith(PURE) for op in between):
            continue  # (a load or store there could see the reverse loop's stores)
        moved = _moved(first, second, between)
        direction = _fits(first, second, shadows)
        if moved is not None and direction is not None:
            return first, second, moved, direction
    return None


def _flat(loop: ir.Operation) -> list[ir.Operation] | None:
    """The ops of a step-1 loop's body if they are all BODY ops without regions."""
    ops = [op.operation for op in loop.regions[0].blocks[0].operations]
    if constant(loop.operands[2]) != 1 or any(op.regions or not op.name.startswith(BODY)
                                              for op in ops):
        return None
    return ops


def _fits(first: ir.Operation, second: ir.Operation, shadows: frozenset[int]) -> int | None:
    """The reverse loop's direction (the slope of its accesses) if the two loops satisfy
    the module docstring's conditions on bounds, bodies and memory."""
    a, b = _flat(first), _flat(second)
    body = second.regions[0].blocks[0]
    if a is None or b is None or any(first.operands[k] != second.operands[k] for k in (0, 1)):
        return None
    if len(body.arguments) > 1 and not sums_only(second):
        return None
    if any(op.name == "memref.store" for op in a) or not (_calls(a) and _calls(b)):
        return None
    found = accesses(b, second)
    if found is None or not independent(found[1], shadows):
        return None
    stored = [m for kind, m, _ in found[1] if kind == "memref.store"]
    loads = [op.operands[0] for op in a if op.name == "memref.load"]
    if any(may_alias(x, y, shadows) for x in loads for y in stored):
        return None
    return found[0]


def _calls(ops: list[ir.Operation]) -> bool:
    """Whether `ops` compute a math function that is a library call (not CHEAP)."""
    return any(op.name.startswith("math.") and op.name not in CHEAP for op in ops)


def _moved(first: ir.Operation, second: ir.Operation,
           between: list[ir.Operation]) -> list[ir.Operation] | None:
    """The ops between the loops that the reverse loop needs (in order); None if it needs a
    result of the forward loop."""
    needed: set[ir.Operation] = set()
    work = [v for op in nested(second) for v in op.operands] + list(second.operands)
    while work:
        op = defining(work.pop())
        if op is None or op in needed:
            continue
        if op == first:
            return None
        if op in between:
            needed.add(op)
            work += list(op.operands)
    return [op for op in between if op in needed]


def _fuse(first: ir.Operation, second: ir.Operation, moved: list[ir.Operation],
          direction: int) -> None:
    """Move `moved` above `first`, then replace both loops by one that carries the values of
    both and runs `first`'s body, then `second`'s, its index mirrored where it descends."""
    for op in moved:
        op.move_before(first)
    a, b = first.regions[0].blocks[0], second.regions[0].blocks[0]
    carried = len(first.results)
    top = mirror_top(first) if direction == -1 else None
    with ir.InsertionPoint(first), first.location:
        loop = scf.ForOp(*first.operands[:3], [*first.operands[3:], *second.operands[3:]])
    for name in (attr.name for attr in first.attributes):
        loop.operation.attributes[name] = first.attributes[name]
    with ir.InsertionPoint(loop.body), first.location:
        anchor = arith.ConstantOp(ir.IndexType.get(), 0).operation
    iv, args = loop.induction_variable, list(loop.inner_iter_args)
    tails = []
    for block, into in ((a, args[:carried]), (b, args[carried:])):
        if block == b and direction == -1:
            with ir.InsertionPoint(anchor), first.location:
                iv = arith.SubIOp(top, loop.induction_variable).result
        for old, new in zip(block.arguments, [iv, *into], strict=True):
            old.replace_all_uses_with(new)
        ops = [o.operation for o in block.operations]
        tails += list(ops[-1].operands)
        for op in ops[:-1]:
            op.move_before(anchor)
    with ir.InsertionPoint(loop.body), first.location:
        scf.YieldOp(tails)
    anchor.erase()
    results = list(loop.results)
    for old, new in zip([*first.results, *second.results], results, strict=True):
        old.replace_all_uses_with(new)
    first.erase()
    second.erase()
