"""Before Enzyme: fold transposed views into the indices that read and write them.

Input: a module emitted for Enzyme (ir/views.py: a transpose is a `memref.transpose`, any
other view a `memref.subview`), callees inlined. Output: the same module in which every
`memref.transpose` whose users are loads, stores, dims and subviews is gone: a load or store
addresses the source with permuted indices, a dim asks the source's permuted axis, and a
subview of a transpose becomes a transpose of the source's subview (rank-reducing ones
included), itself folded in turn. Enzyme 0.0.16 has no reverse rule for `memref.transpose`
(docs/enzyme-views.md); a transpose with another user (a view yielded by an `if` or carried
by a loop) stays, and reverse mode then rejects it with a CompileError at its line.
"""

from __future__ import annotations

from typing import TypeAlias

from mlir import ir
from mlir.dialects import arith, memref

from ..ir.context import ops_where
from ..ir.types import strided_layout

Item: TypeAlias = ir.Value | int
"""A subview offset, size or stride: an SSA value, or an int where static."""


def fold_transposes(module: ir.Module) -> None:
    """Fold every foldable `memref.transpose` (see the module docstring), to a fixpoint."""
    changed = True
    while changed:
        changed = False
        for op in ops_where(module.operation, lambda o: o.name == "memref.transpose"):
            changed |= _fold(op)


def unfolded_transposes(module: ir.Module) -> list[ir.Location]:
    """Where transposes are left that `fold_transposes` could not fold."""
    return [op.location for op in
            ops_where(module.operation, lambda o: o.name == "memref.transpose")]


def _permutation(op: ir.Operation) -> list[int]:
    """Result axis k of the transpose is source axis `perm[k]`."""
    perm = ir.AffineMapAttr(op.attributes["permutation"]).value
    return [ir.AffineDimExpr(e).position for e in perm.results]


def _fold(op: ir.Operation) -> bool:
    perm, source, changed = _permutation(op), op.operands[0], False
    for use in list(op.result.uses):
        user = use.owner
        rule = _RULES.get(user.name)
        if rule is not None:
            with ir.InsertionPoint(user), user.location:
                changed |= rule(user, source, perm)
    if not list(op.result.uses):
        op.erase()
        changed = True
    return changed


def _source_order(indices: list[Item], perm: list[int]) -> list[Item]:
    """Indices (or subview operands) along the transpose's axes -> along its source's."""
    out = list(indices)
    for k, axis in enumerate(perm):
        out[axis] = indices[k]
    return out


def _load(user: ir.Operation, source: ir.Value, perm: list[int]) -> bool:
    new = memref.load(source, _source_order(list(user.operands[1:]), perm))
    user.result.replace_all_uses_with(new)
    user.erase()
    return True


def _store(user: ir.Operation, source: ir.Value, perm: list[int]) -> bool:
    memref.store(user.operands[0], source, _source_order(list(user.operands[2:]), perm))
    user.erase()
    return True


def _dim(user: ir.Operation, source: ir.Value, perm: list[int]) -> bool:
    index = user.operands[1].owner
    if getattr(index, "name", None) != "arith.constant":
        return False
    axis = ir.IntegerAttr(index.attributes["value"]).value
    new = memref.dim(source, arith.constant(ir.IndexType.get(), perm[axis]))
    user.result.replace_all_uses_with(new)
    user.erase()
    return True


def _mixed(values: list[ir.Value], static: list[int], marker: int) -> list[Item]:
    """A subview's offsets, sizes or strides as one list (ints where static)."""
    it = iter(values)
    return [next(it) if s == marker else s for s in static]


def _subview(user: ir.Operation, source: ir.Value, perm: list[int]) -> bool:
    view = user if isinstance(user, memref.SubViewOp) else user.opview
    assert isinstance(view, memref.SubViewOp)
    dynamic = ir.ShapedType.get_dynamic_size()
    dyn_stride = ir.ShapedType.get_dynamic_stride_or_offset()
    parts = [_mixed(list(view.offsets), list(view.static_offsets), dyn_stride),
             _mixed(list(view.sizes), list(view.static_sizes), dynamic),
             _mixed(list(view.strides), list(view.static_strides), dyn_stride)]
    rank = len(perm)
    result = ir.MemRefType(view.result.type)
    dropped = [k for k in range(rank) if isinstance(parts[1][k], int) and parts[1][k] == 1]
    if len(dropped) != rank - result.rank:
        return False  # unit axes kept and dropped: not a form ir/views.py emits
    moved = [_source_order(p, perm) for p in parts]
    kept = [perm[k] for k in range(rank) if k not in dropped]  # source axes, result order
    inner_type = ir.MemRefType.get(result.shape, result.element_type,
                                   layout=strided_layout(result.rank))
    inner = _new_subview(inner_type, source, moved)
    order = sorted(kept)
    inner_perm = [order.index(a) for a in kept]
    value = inner if inner_perm == sorted(inner_perm) else memref.transpose(
        result, inner, ir.AffineMapAttr.get(ir.AffineMap.get_permutation(inner_perm)))
    view.result.replace_all_uses_with(value)
    user.erase()
    return True


def _new_subview(result: ir.Type, source: ir.Value, parts: list[list[Item]]) -> ir.Value:
    dynamic = ir.ShapedType.get_dynamic_size()
    dyn_stride = ir.ShapedType.get_dynamic_stride_or_offset()
    values = [[v for v in p if not isinstance(v, int)] for p in parts]
    static = [[v if isinstance(v, int) else marker for v in p]
              for p, marker in zip(parts, (dyn_stride, dynamic, dyn_stride), strict=True)]
    return memref.SubViewOp(result, source, *values, *static).result


_RULES = {"memref.load": _load, "memref.store": _store, "memref.dim": _dim,
          "memref.subview": _subview}
