"""Before Enzyme: fold reshaped arrays into the indices that read and write their source.

Input: a module emitted for Enzyme, callees inlined, in which `a.reshape(...)`/`a.ravel()` is
a `memref.reinterpret_cast` marked `ember.reshape` (ir/creation.py) whose size operands are
the new shape. Output: the same module without them: a load or store of element `j` of the
reshape, or of a subview of it however nested, addresses the source at the C-order position
of `j` (its linear index, unravelled over the source's sizes); a dim answers the requested
size. Enzyme 0.0.16 has no rule for the strided-metadata ops, and a reshape of a strided view
has no memref form it would accept. A reshape with another user (chosen by an `if`, carried
by a loop) stays, and `unfolded_reshapes` names it for an error.

The source is read through its own strides, so the reshape of a non-contiguous view reads
what NumPy's copy holds; a write through it reaches the source (docs/numpy.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from mlir import ir
from mlir.dialects import arith, memref

from ..ir.context import ops_where
from ..ir.creation import RESHAPE
from .views import mixed

Size: TypeAlias = ir.Value | int
Indexer: TypeAlias = Callable[[list[ir.Value]], tuple[ir.Value, list[ir.Value]]]
"""Indices into a view -> the array and indices that address the same element."""


def _is_reshape(op: ir.Operation) -> bool:
    return op.name == "memref.reinterpret_cast" and RESHAPE in op.attributes


def fold_reshapes(module: ir.Module) -> None:
    """Fold every foldable reshape (see the module docstring); last first, so that a reshape
    of a reshape folds into its source's indices and then those fold in turn."""
    changed = True
    while changed:
        changed = False
        for op in reversed(ops_where(module.operation, _is_reshape)):
            source, sizes = op.operands[0], list(op.opview.sizes)
            changed |= _fold_users(op.result, sizes,
                                   lambda idx, s=source, n=sizes: (s, _unravel(idx, n, s)))
            if not list(op.result.uses):
                op.erase()
                changed = True


def unfolded_reshapes(module: ir.Module) -> list[ir.Location]:
    """Where reshapes are left that `fold_reshapes` could not fold."""
    return [op.location for op in ops_where(module.operation, _is_reshape)]


def _fold_users(value: ir.Value, sizes: list[Size], indexer: Indexer) -> bool:
    changed = False
    for use in list(value.uses):
        user = use.owner
        rule = _RULES.get(user.name)
        if rule is not None:
            with ir.InsertionPoint(user), user.location:
                changed |= rule(user, sizes, indexer)
    return changed


def _index(value: Size) -> ir.Value:
    return arith.constant(ir.IndexType.get(), value) if isinstance(value, int) else value


def _unravel(indices: list[ir.Value], sizes: list[ir.Value],
             source: ir.Value) -> list[ir.Value]:
    """The source's indices of the element at `indices` of a C-order reshape to `sizes`."""
    linear = indices[0]
    for index, size in zip(indices[1:], sizes[1:], strict=True):
        linear = arith.addi(arith.muli(linear, size), index)
    rank = ir.MemRefType(source.type).rank
    out: list[ir.Value] = []
    for axis in range(rank - 1, 0, -1):
        size = memref.dim(source, _index(axis))
        out.append(arith.remui(linear, size))
        linear = arith.divui(linear, size)
    return [linear, *reversed(out)]


def _load(user: ir.Operation, sizes: list[Size], indexer: Indexer) -> bool:
    base, indices = indexer(list(user.operands[1:]))
    user.result.replace_all_uses_with(memref.load(base, indices))
    user.erase()
    return True


def _store(user: ir.Operation, sizes: list[Size], indexer: Indexer) -> bool:
    base, indices = indexer(list(user.operands[2:]))
    memref.store(user.operands[0], base, indices)
    user.erase()
    return True


def _dim(user: ir.Operation, sizes: list[Size], indexer: Indexer) -> bool:
    axis = user.operands[1].owner
    if getattr(axis, "name", None) != "arith.constant":
        return False
    user.result.replace_all_uses_with(_index(sizes[ir.IntegerAttr(axis.attributes["value"]).value]))
    user.erase()
    return True


def _subview(user: ir.Operation, sizes: list[Size], indexer: Indexer) -> bool:
    """A subview of a folded view: its own users fold through the composed indexer."""
    view = user.opview
    dynamic = ir.ShapedType.get_dynamic_size()
    dyn_stride = ir.ShapedType.get_dynamic_stride_or_offset()
    offsets = mixed(list(view.offsets), list(view.static_offsets), dyn_stride)
    lengths = mixed(list(view.sizes), list(view.static_sizes), dynamic)
    strides = mixed(list(view.strides), list(view.static_strides), dyn_stride)
    rank, result_rank = len(offsets), ir.MemRefType(view.result.type).rank
    dropped = {k for k in range(rank) if lengths[k] == 1} if result_rank < rank else set()
    if len(dropped) != rank - result_rank:
        return False

    def composed(indices: list[ir.Value]) -> tuple[ir.Value, list[ir.Value]]:
        it = iter(indices)
        full = [_index(offsets[k]) if k in dropped else
                arith.addi(_index(offsets[k]), arith.muli(next(it), _index(strides[k])))
                for k in range(rank)]
        return indexer(full)

    kept = [lengths[k] for k in range(rank) if k not in dropped]
    changed = _fold_users(view.result, kept, composed)
    if not list(view.result.uses):
        user.erase()
        changed = True
    return changed


_RULES: dict[str, Callable[[ir.Operation, list[Size], Indexer], bool]] = {
    "memref.load": _load, "memref.store": _store, "memref.dim": _dim,
    "memref.subview": _subview}
