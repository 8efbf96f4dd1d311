"""Remove local arrays that nothing reads any more (before Enzyme, opt_level 2-3).

After forwarding.py has replaced every load of a work array by the expression stored there
(`xc[j] = x[i, j] - mu[k, j]`, read later as `xc[j]`), the array is only written. Its stores
still run in the forward pass, and Enzyme gives it a shadow that the reverse pass zeroes and
reads at every element (the adjoint of each store). `drop_unread` erases such an array: a
`memref.alloc` whose every use, through views (`memref.subview`, casts), is the target of a
`memref.store`, a `memref.dealloc` or a load whose value is unused or only the old value of a
store guard. Nothing reads its values, so no result changes.
"""

from __future__ import annotations

from typing import Final

from mlir import ir

from ..ir.context import ops_where
from .irquery import constant, op_of

_VIEWS: Final = frozenset({"memref.subview", "memref.cast", "memref.reinterpret_cast",
                           "memref.expand_shape", "memref.collapse_shape"})


def drop_unread(module: ir.Module) -> int:
    """Erase the arrays described in the module docstring; returns how many."""
    done = 0
    for alloc in ops_where(module.operation, lambda op: op.name == "memref.alloc"):
        users = _users(alloc.results[0])
        if users is None:
            continue
        for op in users:
            if op.name == "arith.select":  # a store guard: the value it stores
                op.results[0].replace_all_uses_with(op.operands[2])
        order = {"memref.store": 0, "memref.dealloc": 0, "arith.select": 1, "memref.load": 2}
        ranked = sorted(enumerate(users), key=lambda e: (order.get(e[1].name, 3), -e[0]))
        for _, op in ranked:  # users before what they use; inner views before outer ones
            op.erase()
        alloc.erase()
        done += 1
    return done


def _users(value: ir.Value) -> list[ir.Operation] | None:
    """The ops using `value` (views, then their users), or None if one may read it."""
    found: list[ir.Operation] = []
    for use in value.uses:
        op = op_of(use.owner)
        if op is None:
            return None
        if op.name in _VIEWS and use.operand_number == 0:
            inner = _users(op.results[0])
            if inner is None:
                return None
            found += [op, *inner]
        elif (op.name == "memref.store" and use.operand_number == 1) or \
                op.name == "memref.dealloc":
            found.append(op)
        elif op.name == "memref.load" and (guards := _guards(op)) is not None:
            found += [op, *guards]
        else:
            return None
    return found


def _guards(load: ir.Operation) -> list[ir.Operation] | None:
    """The uses of `load`'s value if each is the old value of a store guard `select(false,
    old, v)` (lowering/rewrites.activate_stores), which yields `v`; else None."""
    selects = [op_of(use.owner) for use in load.results[0].uses]
    if all(op is not None and op.name == "arith.select" and op.operands[1] == load.results[0]
           and constant(op.operands[0]) is False and op.operands[2] != load.results[0]
           for op in selects):
        return [op for op in selects if op is not None]
    return None
