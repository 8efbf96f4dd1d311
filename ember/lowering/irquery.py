"""Queries on MLIR ops shared by the derivative rewrites (preopt.py, forwarding.py, remat.py):
the op behind a value, nesting, loop indices, and which memref operands an op may write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from mlir import ir

VIEWS: Final = frozenset({"memref.subview", "memref.cast", "memref.reinterpret_cast",
                          "memref.expand_shape", "memref.collapse_shape", "memref.transpose",
                          "arith.select"})
"""Ops whose memref result views their first memref operand (a select: one of two)."""
READS: Final = frozenset({"memref.load", "memref.dim", "memref.dealloc",
                          "memref.extract_strided_metadata",
                          "memref.extract_aligned_pointer_as_index"})
"""Ops that never write the memref operands they take."""


def op_of(x: object) -> ir.Operation | None:
    """The operation of an op view or operation, else None (a block, a region)."""
    op = getattr(x, "operation", None)
    return op if isinstance(op, ir.Operation) else None


def derivative_functions(module: ir.Module, fn: str) -> list[ir.Operation]:
    """The `func.func` ops of `module` named `diffe<fn>` (Enzyme's reverse derivative of fn)."""
    name = f"diffe{fn}"
    return [op for op in (view.operation for view in module.body.operations)
            if op.name == "func.func" and "sym_name" in op.attributes
            and ir.StringAttr(op.attributes["sym_name"]).value == name]


def defining(value: ir.Value) -> ir.Operation | None:
    """The op that defines `value`, None for a block argument."""
    return None if isinstance(value.owner, ir.Block) else op_of(value.owner)


def constant(value: ir.Value) -> int | bool | None:
    """The value of an integer or bool `arith.constant`, else None."""
    op = defining(value)
    if op is None or op.name != "arith.constant":
        return None
    attr = op.attributes["value"]
    return attr.value if isinstance(attr, ir.IntegerAttr | ir.BoolAttr) else None


def nested(op: ir.Operation) -> Iterator[ir.Operation]:
    """Every op inside `op`'s regions, outer ones first."""
    for region in op.regions:
        for block in region.blocks:
            for child in block.operations:
                yield child.operation
                yield from nested(child.operation)


def inside(value: ir.Value, loop: ir.Operation) -> bool:
    """Whether `value` is defined within `loop` (an op or a block argument of its body)."""
    owner = value.owner
    op = op_of(owner.owner if isinstance(owner, ir.Block) else owner)
    while op is not None:
        if op == loop:
            return True
        op = op_of(op.parent)
    return False


def is_iv(value: ir.Value) -> bool:
    """Whether `value` is the induction variable of an `scf.for`."""
    owner = value.owner
    if not isinstance(owner, ir.Block) or value.arg_number != 0:
        return False
    parent = op_of(owner.owner)
    return parent is not None and parent.name == "scf.for"


def is_parallel_iv(value: ir.Value) -> bool:
    """Whether `value` is the index of a one-index `scf.parallel` (a prange loop in a
    derivative: ir/parallelfor.py)."""
    owner = value.owner
    if not isinstance(owner, ir.Block) or len(owner.arguments) != 1:
        return False
    parent = op_of(owner.owner)
    return parent is not None and parent.name == "scf.parallel"


def writes(op: ir.Operation, k: int) -> bool:
    """Whether `op` may write through its memref operand `k` (a store writes its target; a
    memref stored as a value escapes: writes through it are of unknown origin)."""
    if op.name in READS or op.name in VIEWS:
        return False
    return op.name != "memref.store" or k == 1
