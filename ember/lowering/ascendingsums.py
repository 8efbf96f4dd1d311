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
  be the same array (arrays are told apart as allocations or shadow parameters, through
  views and selects: gather.buffer_roots) uses the very same memref and index values as the
  store. With the index
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
from .gather import buffer_roots
from .irquery import constant, defining, derivative_functions, inside, op_of

BODY: Final = ("arith.", "math.", "memref.load", "memref.store", "scf.yield")
"""Ops a loop's body may hold (prefixes)."""
SLOPES: Final = {"arith.addi": (1, 1), "arith.subi": (1, -1)}
"""Index ops -> the signs of their operands in the result."""
CASTS: Final = frozenset({"arith.index_cast", "arith.index_castui"})


def ascend_sums(module: ir.Module, spec: ADSpec) -> int:
    """Make the qualifying reverse sum loops of `spec`'s derivative ascend (module
    docstring); returns how many were rewritten."""
    done = 0
    for func in derivative_functions(module, spec.fn):
        for loop in ops_where(func, lambda op: op.name == "scf.for"):
            if not sums_only(loop):
                continue
            body = [op.operation for op in loop.regions[0].blocks[0].operations]
            found = accesses(body, loop)
            if found is not None and found[0] == -1 and independent(found[1], spec.shadows()):
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


Access = tuple[str, ir.Value, list[ir.Value]]
"""A load or store of a loop body: the op's name, its memref and its indices."""


def accesses(ops: list[ir.Operation], loop: ir.Operation) -> tuple[int, list[Access]] | None:
    """(the slope, +1 or -1, that every load and store of `ops` has along its last axis in
    `loop`'s index, those accesses); None if there are none, or if some access has another
    slope or indexes another axis by a value that changes in the loop."""
    iv = loop.regions[0].blocks[0].arguments[0]
    slopes, found = set(), []
    for op in ops:
        if op.name in ("memref.load", "memref.store"):
            at = 1 if op.name == "memref.store" else 0
            memref, index = op.operands[at], list(op.operands)[at + 1:]
            if not index or any(inside(i, loop) for i in index[:-1]):
                return None
            slopes.add(slope(index[-1], iv, loop))
            found.append((op.name, memref, index))
    if len(slopes) != 1 or not slopes <= {1, -1}:
        return None  # (no access: nothing to gain, a sum keeps its order)
    return slopes.pop(), found


def independent(found: list[Access], shadows: frozenset[int]) -> bool:
    """Whether every stored buffer is accessed at the store's own element only (with an
    index injective in the loop's, no iteration touches an element another one writes)."""
    return not any(kind == "memref.store" and any(
        (other != memref or idx != index) and may_alias(other, memref, shadows)
        for _, other, idx in found) for kind, memref, index in found)


def may_alias(a: ir.Value, b: ir.Value, shadows: frozenset[int]) -> bool:
    """Whether two memrefs may be the same array (gather.buffer_roots: allocations and the
    shadow parameters are distinct from every other array)."""
    ra, rb = buffer_roots(a, shadows), buffer_roots(b, shadows)
    return ra is None or rb is None or bool(ra & rb)


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


def mirror_top(loop: ir.Operation) -> ir.Value:
    """`lb + ub - 1` of `loop`, made before it (`top - iv` runs its iterations backwards)."""
    with ir.InsertionPoint(loop), loop.location:
        one = arith.ConstantOp(ir.IndexType.get(), 1)
        return arith.SubIOp(arith.AddIOp(loop.operands[0], loop.operands[1]).result,
                            one.result).result


def _reverse(loop: ir.Operation) -> None:
    """Substitute `lb + ub - 1 - iv` for the induction variable `iv`."""
    body = loop.regions[0].blocks[0]
    iv = body.arguments[0]
    top = mirror_top(loop)
    with ir.InsertionPoint.at_block_begin(body), loop.location:
        mirrored = arith.SubIOp(top, iv)
    iv.replace_all_uses_except(mirrored.result, mirrored.operation)
