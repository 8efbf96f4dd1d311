"""Keep the in-place row loops of a derivative scalar (after Enzyme, opt_level 2-3).

A triangular loop nest updates an array in place over rows whose start or length changes
with the enclosing loop (`for i in range(d): for j in range(i + 1, d): lxc[j] += a[p] * b`,
and in the reverse pass `dlxc[j]`, `d_icf[k, p]` updated the same way). LLVM vectorizes the
inner loop four elements at a time; row i + 1 then loads four elements that row i stored one
element earlier, across two of its vector stores, which the processor cannot forward: each
such load waits until the stores reach the cache (a store-forwarding stall, ~15 cycles).
With rows of a few elements (d = 10 in ADBench's GMM) nearly every vector load stalls: the
vectorized forward sweep of the GMM gradient ran 1.6x slower than the scalar primal loop.

`keep_rows_scalar` marks such loops of the derivative function `diffe<fn>` with the loop
metadata that turns LLVM's vectorizer and unroller off (`#llvm.loop_annotation<vectorize =
<disable = true>, unroll = <disable = true>>`, kept by scf-to-cf on the latch), as the
primal's row loops are (ir/loops.cold_loop): an innermost `scf.for` whose bounds are computed
inside the loop around it and whose body loads and stores the same buffer. Unrolled four
times, a row of 0 to 9 elements ran mostly in the remainder loop behind the unrolled loop's
trip-count tests (GMM gradient 8% slower). Only the machine code changes: the same
operations in the same order (no reduction is reordered), bitwise equal derivatives.
"""

from __future__ import annotations

from mlir import ir

from ..ir.context import ops_where
from .irquery import inside, nested, op_of

_SCALAR = "#llvm.loop_annotation<vectorize = <disable = true>, unroll = <disable = true>>"


def keep_rows_scalar(module: ir.Module, name: str) -> int:
    """Mark the loops of function `name` described in the module docstring; returns how
    many."""
    done = 0
    for func in ops_where(module.operation, lambda op: op.name == "func.func"):
        if "sym_name" not in func.attributes or \
                ir.StringAttr(func.attributes["sym_name"]).value != name:
            continue
        for loop in ops_where(func, lambda op: op.name == "scf.for"):
            if "loop_annotation" not in loop.attributes and _row_update(loop):
                loop.attributes["loop_annotation"] = ir.Attribute.parse(_SCALAR)
                done += 1
    return done


def _row_update(loop: ir.Operation) -> bool:
    outer = _enclosing_loop(loop)
    if outer is None or not any(inside(v, outer) for v in list(loop.operands)[:2]):
        return False
    inner = list(nested(loop))
    if any(op.name in ("scf.for", "scf.while", "scf.parallel") for op in inner):
        return False  # the vectorizer works on innermost loops
    loaded = [op.operands[0] for op in inner if op.name == "memref.load"]  # `==`, no hash
    return any(op.operands[1] == v for op in inner if op.name == "memref.store" for v in loaded)


def _enclosing_loop(op: ir.Operation) -> ir.Operation | None:
    parent = op_of(op.parent)
    while parent is not None and parent.name not in ("scf.for", "scf.while", "func.func"):
        parent = op_of(parent.parent)
    return parent if parent is not None and parent.name != "func.func" else None
