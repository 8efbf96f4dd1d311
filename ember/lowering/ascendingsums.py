"""Reverse-pass sum loops run ascending (after Enzyme and adjointsums.py, opt_level >= 2).

Enzyme's reverse loops run their iterations backwards: the heat equation's
`dk += dun[i] * dt * lap_i` (also zeroing `dun[i]`) reads `dun[n-2-j]` and the saved row at
`n-3-j` at trip `j`. Once adjointsums.py has marked the loop's sums `fastmath<reassoc>`, LLVM
vectorizes it, but each vector load then needs a lane reversal (`vpermpd`) and the stores
too. `ascend_sums` substitutes `lb + ub - 1 - iv` for the induction variable of such a loop,
so it walks memory upwards, when reordering its iterations cannot change anything but the
order of those sums:
* the loop is an `scf.for` of step 1 in `diffe<fn>` whose body holds only arithmetic, loads
  and stores (no nested regions), and each of its loop-carried values is a sum: used once,
  by an `arith.addf` marked `reassoc` whose result is yielded in its place and used nowhere
  else;
* it loads or stores, and every load and store indexes its last axis by `c - iv` (slope -1,
  so the loop is descending) and its other axes by loop-invariant values;
* every store is the only kind of index touching its buffer: any access to a buffer that may
  be the same array (two arrays are distinct only when both come from allocations, through
  views and selects) uses the very same memref and index values as the store. With the index
  injective in `iv`, no iteration reads or writes an element another one writes.
The values stored are then the same bit for bit; the sums change by rounding only (as
adjointsums.py already allows) and stay deterministic.
"""

from __future__ import annotations

from typing import Final

from mlir import ir
from mlir.dialects import arith

from ..ir.context import ops_where
from .enzyme import ADSpec
from .irquery import VIEWS, constant, defining, inside, op_of

BODY: Final = ("arith.", "math.", "memref.load", "memref.store", "scf.yield")
"""Ops a loop's body may hold (prefixes)."""
FRESH: Final = frozenset({"memref.alloc", "memref.alloca"})
"""Ops whose result is an array no other array is."""
SLOPES: Final = {"arith.addi": (1, 1), "arith.subi": (1, -1)}
"""Index ops -> the signs of their operands in the result."""
CASTS: Final = frozenset({"arith.index_cast", "arith.index_castui"})


def ascend_sums(module: ir.Module, spec: ADSpec) -> int:
    """Make the qualifying reverse sum loops of `spec`'s derivative ascend (module
    docstring); returns how many were rewritten."""
    name = f"diffe{spec.fn}"
    done = 0
    for func in ops_where(module.operation, lambda op: op.name == "func.func"):
        if "sym_name" in func.attributes and ir.StringAttr(func.attributes["sym_name"]).value \
                == name:
            for loop in ops_where(func, lambda op: op.name == "scf.for"):
                if sums_only(loop) and _independent(loop):
                    _reverse(loop)
                    done += 1
    return done


def sums_only(loop: ir.Operation) -> bool:
    """Step 1, a flat body of BODY ops, and every carried value a reassociable sum."""
    body = loop.regions[0].blocks[0]
    ops = [op.operation for op in body.operations]
    if constant(loop.operands[2]) != 1 or len(body.arguments) < 2 or \
            any(op.regions or not op.name.startswith(BODY) for op in ops):
        return False
    yielded = list(ops[-1].operands)
    for r, acc in enumerate(list(body.arguments)[1:]):
        uses = [op_of(use.owner) for use in acc.uses]
        add = uses[0] if len(uses) == 1 else None
        if add is None or add.name != "arith.addf" or "fastmath" not in add.attributes or \
                "reassoc" not in str(add.attributes["fastmath"]):
            return False
        if [op_of(use.owner) for use in add.results[0].uses] != [ops[-1]] or \
                yielded[r] != add.results[0]:
            return False
    return True


def _independent(loop: ir.Operation) -> bool:
    """Every access descending along its last axis, every stored buffer accessed at the
    store's own element only."""
    body = loop.regions[0].blocks[0]
    iv = body.arguments[0]
    accesses = []
    for view in body.operations:
        op = view.operation
        if op.name in ("memref.load", "memref.store"):
            at = 1 if op.name == "memref.store" else 0
            memref, index = op.operands[at], list(op.operands)[at + 1:]
            if not index or slope(index[-1], iv, loop) != -1 or \
                    any(inside(i, loop) for i in index[:-1]):
                return False
            accesses.append((op.name, memref, index))
    if not accesses:  # nothing to gain: keep the sum's order
        return False
    for kind, memref, index in accesses:
        if kind == "memref.store" and any(
                (other != memref or idx != index) and _may_alias(other, memref)
                for _, other, idx in accesses):
            return False
    return True


def slope(value: ir.Value, iv: ir.Value, loop: ir.Operation) -> int | None:
    """d value / d iv for an affine index (None: not one)."""
    if value == iv:
        return 1
    if not inside(value, loop):
        return 0
    op = defining(value)
    if op is None:
        return None
    if op.name in CASTS:
        return slope(op.operands[0], iv, loop)
    if op.name not in SLOPES:
        return None
    parts = [slope(v, iv, loop) for v in op.operands]
    if None in parts:
        return None
    return sum(s * p for s, p in zip(SLOPES[op.name], parts, strict=True) if p is not None)


def _roots(value: ir.Value) -> set[object]:
    """The allocations `value` may view; 'other' for anything else (an argument)."""
    op = defining(value)
    if op is not None and op.name in FRESH:
        return {op}
    if op is not None and op.name in VIEWS:
        sources = op.operands[1:3] if op.name == "arith.select" else op.operands[:1]
        return set().union(*(_roots(v) for v in sources))
    return {"other"}


def _may_alias(a: ir.Value, b: ir.Value) -> bool:
    """Whether two memrefs may be the same array (conservative for non-allocations)."""
    ra, rb = _roots(a), _roots(b)
    return bool(ra & rb) or "other" in ra or "other" in rb


def _reverse(loop: ir.Operation) -> None:
    """Substitute `lb + ub - 1 - iv` for the induction variable `iv`."""
    body = loop.regions[0].blocks[0]
    iv = body.arguments[0]
    lb, ub = loop.operands[0], loop.operands[1]
    with ir.InsertionPoint(loop), loop.location:
        one = arith.ConstantOp(ir.IndexType.get(), 1)
        top = arith.SubIOp(arith.AddIOp(lb, ub).result, one.result)
    with ir.InsertionPoint.at_block_begin(body), loop.location:
        mirrored = arith.SubIOp(top.result, iv)
    iv.replace_all_uses_except(mirrored.result, mirrored.operation)
