"""Adjoints added to an element just zeroed (after Enzyme, opt_level >= 2).

For an in-place update `lxc[j] += t` in a loop, Enzyme's reverse reads the adjoint of the new
`lxc[j]`, zeroes the element, and adds the adjoint of the old value back:
`d = dlxc[j]; dlxc[j] = 0.0; dlxc[j] = dlxc[j] + d`. LLVM forwards the stored zero but must
keep `0.0 + d` (it is `+0.0` where `d` is `-0.0`) and so the store: in ADBench's GMM
gradient, an add and a store of an unchanged value in each of the 11 million iterations of
the reverse triangular loop (its hottest loop).

`mark_zero_adds` marks such an `arith.addf` of the derivative function `diffe<fn>`
`fastmath<nsz>`: one operand is a `memref.load` that immediately follows (in the same block,
no op in between touching that buffer) a store of the constant `0.0` to the same element.
LLVM then folds `0.0 + d` to `d` and drops the stores that leave the element as it was.
`nsz` changes nothing but the sign of a zero, so the only values that can change are zeros:
an element that held `-0.0` holds `+0.0` (or the reverse), which no sum, product or
comparison of the gradient tells apart. opt_level <= 1 keeps Enzyme's code.
"""

from __future__ import annotations

from typing import Final

from mlir import ir

from ..ir.context import ops_where
from .irquery import defining

_NSZ: Final = "#arith.fastmath<nsz>"


def mark_zero_adds(module: ir.Module, name: str) -> int:
    """Mark the adds of function `name` described in the module docstring; returns how many."""
    done = 0
    for func in ops_where(module.operation, lambda op: op.name == "func.func"):
        if "sym_name" not in func.attributes or \
                ir.StringAttr(func.attributes["sym_name"]).value != name:
            continue
        for add in ops_where(func, lambda op: op.name == "arith.addf"):
            flags = str(add.attributes["fastmath"]) if "fastmath" in add.attributes else ""
            if flags in ("", "#arith.fastmath<none>") and \
                    any(_zeroed(defining(v)) for v in add.operands):
                add.attributes["fastmath"] = ir.Attribute.parse(_NSZ)
                done += 1
    return done


def _zeroed(load: ir.Operation | None) -> bool:
    """Whether the op before `load` in its block that names its buffer stores 0.0 to the
    element it reads. (A store through another view in between would make the element
    nonzero, and `nsz` changes nothing but the sign of a zero: the mark is safe anyway.)"""
    if load is None or load.name != "memref.load":
        return False
    ops = _block_ops(load)
    at = next(k for k, op in enumerate(ops) if op == load)
    buffer, indices = load.operands[0], list(load.operands)[1:]
    for op in reversed(ops[:at]):
        if any(v == buffer for v in op.operands):
            return op.name == "memref.store" and op.operands[1] == buffer and \
                list(op.operands)[2:] == indices and _positive_zero(op.operands[0])
    return False


def _block_ops(op: ir.Operation) -> list[ir.Operation]:
    """The ops of the block that holds `op`, in order."""
    parent = op.parent
    for region in parent.regions:
        for block in region.blocks:
            ops = [child.operation for child in block.operations]
            if any(o == op for o in ops):
                return ops
    return [op]


def _positive_zero(value: ir.Value) -> bool:
    op = defining(value)
    if op is None or op.name != "arith.constant":
        return False
    attr = op.attributes["value"]
    return isinstance(attr, ir.FloatAttr) and attr.value == 0.0 and \
        str(attr).lstrip().startswith("0.")
