"""Before Enzyme: fold transposed views and new axes into the indices that read and write them.

Input: a module emitted for Enzyme (ir/views.py: a transpose is a `memref.transpose`, any
other view a `memref.subview`), callees inlined. Output: the same module in which every
`memref.transpose` whose users are loads, stores, dims and subviews is gone: a load or store
addresses the source with permuted indices, a dim asks the source's permuted axis, and a
subview of a transpose becomes a transpose of the source's subview (rank-reducing ones
included), itself folded in turn. Enzyme 0.0.16 has no reverse rule for `memref.transpose`
(docs/enzyme-views.md); a transpose with another user (a view yielded by an `if` or carried
by a loop) stays, and reverse mode then rejects it with a CompileError at its line.
New axes (`a[:, None]`) are a `memref.expand_shape` inserting unit axes; `fold_new_axes`
drops their indices from loads and stores and answers their dims (1, or the source's),
which is all an array expression or an element access asks of them.
"""

from __future__ import annotations

from typing import TypeAlias

from mlir import ir
from mlir.dialects import arith, memref

from ..ir.context import ops_where
from ..ir.types import strided_layout
from ..ir.views import NEW_AXES

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


def mixed(values: list[ir.Value], static: list[int], marker: int) -> list[Item]:
    """A subview's offsets, sizes or strides as one list (ints where static)."""
    it = iter(values)
    return [next(it) if s == marker else s for s in static]


def _subview(user: ir.Operation, source: ir.Value, perm: list[int]) -> bool:
    view = user if isinstance(user, memref.SubViewOp) else user.opview
    assert isinstance(view, memref.SubViewOp)
    dynamic = ir.ShapedType.get_dynamic_size()
    dyn_stride = ir.ShapedType.get_dynamic_stride_or_offset()
    parts = [mixed(list(view.offsets), list(view.static_offsets), dyn_stride),
             mixed(list(view.sizes), list(view.static_sizes), dynamic),
             mixed(list(view.strides), list(view.static_strides), dyn_stride)]
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




def fold_new_axes(module: ir.Module) -> None:
    """Fold the loads, stores, dims and subviews of every `memref.expand_shape` that only
    inserts new axes (ir/views.py) into its source, to a fixpoint; an op goes when nothing
    else uses it. A subview becomes a subview of the source, with new axes it keeps added
    back by an expand_shape of their (0 or 1) sizes, itself folded in turn."""
    changed = True
    while changed:
        changed = False
        # last first: an expand_shape of an expand_shape (a[None][None]) folds into its source
        for op in reversed(ops_where(module.operation,
                                     lambda o: o.name == "memref.expand_shape")):
            new = _inserted_axes(op)
            if new is None:
                continue
            for use in list(op.result.uses):
                user = use.owner
                rule = _AXIS_RULES.get(user.name)
                if rule is not None:
                    with ir.InsertionPoint(user), user.location:
                        changed |= rule(user, op, new)
            if not list(op.result.uses):
                source = op.operands[0]
                op.erase()
                _erase_unused_views(source)
                changed = True


def _erase_unused_views(value: ir.Value) -> None:
    """Erase the chain of views ending in `value` that nothing uses any more (Enzyme's
    reverse mode fails on a dead view of a folded new axis: 'does not dominate this use')."""
    owner = value.owner
    while (isinstance(owner, ir.OpView | ir.Operation) and not list(value.uses)
           and owner.name in ("memref.subview", "memref.expand_shape")):
        value = owner.operands[0]
        owner.erase()
        owner = value.owner


def static_new_axes(module: ir.Module) -> None:
    """Give the new axes that `fold_new_axes` left (views picked by an `if`, which forward
    mode differentiates) their static size 1, then cast to Ember's array type: MLIR lowers
    no expand_shape with two dynamic sizes in one group."""
    for op in ops_where(module.operation, lambda o: o.name == "memref.expand_shape"):
        new = _inserted_axes(op)
        if new is None:
            continue
        dynamic = ir.ShapedType.get_dynamic_size()
        result = ir.MemRefType(op.result.type)
        static = [1 if n else dynamic for n in new]
        with ir.InsertionPoint(op), op.location:
            shape = ir.MemRefType.get(static, result.element_type, layout=result.layout)
            sizes = _drop(list(op.opview.output_shape), new)
            expanded = memref.expand_shape(shape, op.operands[0], op.attributes["reassociation"],
                                           sizes, static)
            expanded.owner.attributes[NEW_AXES] = op.attributes[NEW_AXES]
            op.result.replace_all_uses_with(memref.cast(result, expanded))
        op.erase()


def unfolded_new_axes(module: ir.Module) -> list[ir.Location]:
    """Where new axes are left that `fold_new_axes` could not fold."""
    return [op.location for op in
            ops_where(module.operation, lambda o: o.name == "memref.expand_shape")]


def _inserted_axes(op: ir.Operation) -> list[bool] | None:
    """Per result axis, whether it is a new axis (None for expand_shapes not made for new
    axes by ir/views.py or `_expand`)."""
    if NEW_AXES not in op.attributes:
        return None
    return [ir.BoolAttr(a).value for a in ir.ArrayAttr(op.attributes[NEW_AXES])]


def _drop(indices: list[Item], new: list[bool]) -> list[Item]:
    return [i for i, is_new in zip(indices, new, strict=True) if not is_new]


def _axis_load(user: ir.Operation, op: ir.Operation, new: list[bool]) -> bool:
    value = memref.load(op.operands[0], _drop(list(user.operands[1:]), new))
    user.result.replace_all_uses_with(value)
    user.erase()
    return True


def _axis_store(user: ir.Operation, op: ir.Operation, new: list[bool]) -> bool:
    memref.store(user.operands[0], op.operands[0], _drop(list(user.operands[2:]), new))
    user.erase()
    return True


def _axis_dim(user: ir.Operation, op: ir.Operation, new: list[bool]) -> bool:
    index = user.operands[1].owner
    if getattr(index, "name", None) != "arith.constant":
        return False
    axis = ir.IntegerAttr(index.attributes["value"]).value
    before = sum(1 for k in range(axis) if not new[k])
    value = (list(op.opview.output_shape)[axis] if new[axis]
             else memref.dim(op.operands[0], arith.constant(ir.IndexType.get(), before)))
    user.result.replace_all_uses_with(value)
    user.erase()
    return True


def _axis_subview(user: ir.Operation, op: ir.Operation, new: list[bool]) -> bool:
    view = user.opview
    dynamic = ir.ShapedType.get_dynamic_size()
    dyn_stride = ir.ShapedType.get_dynamic_stride_or_offset()
    parts = [mixed(list(view.offsets), list(view.static_offsets), dyn_stride),
             mixed(list(view.sizes), list(view.static_sizes), dynamic),
             mixed(list(view.strides), list(view.static_strides), dyn_stride)]
    result = ir.MemRefType(view.result.type)
    dropped = [isinstance(s, int) and s == 1 for s in parts[1]]
    if sum(dropped) != len(new) - result.rank:
        return False  # unit axes kept and dropped: not a form ir/views.py emits
    rank = sum(1 for d, n in zip(dropped, new, strict=True) if not (d or n))
    inner = _new_subview(ir.MemRefType.get([dynamic] * rank, result.element_type,
                                           layout=strided_layout(rank)),
                         op.operands[0], [_drop(p, new) for p in parts])
    kept = [n for d, n in zip(dropped, new, strict=True) if not d]
    value = inner if not any(kept) else _expand(result, inner, kept, [
        s for s, d, n in zip(parts[1], dropped, new, strict=True) if n and not d])
    view.result.replace_all_uses_with(value)
    user.erase()
    return True


def _expand(result: ir.MemRefType, inner: ir.Value, new: list[bool],
            sizes: list[Item]) -> ir.Value:
    """`inner` with new axes of `sizes` inserted where `new` says (marked NEW_AXES)."""
    rank = len(new) - sum(new)
    groups: list[list[int]] = [[] for _ in range(rank)]
    shape: list[ir.Value] = []
    it, kept = iter(sizes), -1
    for axis, is_new in enumerate(new):
        kept += not is_new
        if rank:
            groups[max(kept, 0)].append(axis)
        size = next(it) if is_new else memref.dim(inner, arith.constant(ir.IndexType.get(), kept))
        shape.append(arith.constant(ir.IndexType.get(), size) if isinstance(size, int)
                     else size)
    i64 = ir.IntegerType.get_signless(64)
    reassociation = ir.ArrayAttr.get([ir.ArrayAttr.get([ir.IntegerAttr.get(i64, a) for a in g])
                                      for g in groups])
    out = memref.expand_shape(result, inner, reassociation, shape,
                              [ir.ShapedType.get_dynamic_size()] * len(new))
    out.owner.attributes[NEW_AXES] = ir.ArrayAttr.get([ir.BoolAttr.get(n) for n in new])
    return out


_AXIS_RULES = {"memref.load": _axis_load, "memref.store": _axis_store,
               "memref.dim": _axis_dim, "memref.subview": _axis_subview}
