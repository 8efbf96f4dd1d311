"""Vectorizable adjoint sums of scalar parameters (after Enzyme, opt_level >= 2).

The adjoint of a scalar parameter used in a loop is a sum over the loop's iterations, which
Enzyme accumulates in a loop-carried value of its reverse loops: for the heat equation's
`un[i] = u[i] + dt * (k * lap_i - u[i]**3)`, `dk = dk + dun[i] * dt * lap_i` in the reverse
stencil loop, nested in the reverse time loop. In IEEE order that is one chain of dependent
`fadd`s (4 cycles each) over every (step, element): the reverse loop cannot be vectorized and
runs at the adder's latency (a third of the heat gradient's time).

`reassociate_sums` marks the `arith.addf` ops of such chains `fastmath<reassoc>`, so that
LLVM's loop vectorizer keeps partial sums in vector lanes and adds them at the end of the
loop. A chain qualifies when it starts at a result of the derivative function `diffe<fn>`
that is the adjoint of an active scalar parameter (never the primal result, which must stay
equal to the kernel's), is a result of an `scf.for` (through `scf.if` results and nested
`scf.for` whose init is on the chain), and consists of `acc + e` / `e + acc` only, each
partial sum having no other use (so `e` cannot depend on it and nothing else sees a
reordered partial sum). The derivative changes by rounding only (a reordered sum, about
1e-16 relative to the sum of magnitudes) and stays deterministic: the same library gives the
same result on every call. opt_level <= 1 keeps Enzyme's order.

`reassociate_loop_sums` marks the same kind of chain where any reverse loop carries it and
the loop computes adjoints only (fastgather.py's slice of the primal results: no value or
store of the loop reaches them): the adjoint of a value loaded before a loop and used in
every iteration, such as a packed dense layer's input `t_r` in `dt_r += dacc[j] * w[i+r, j]`
(a scalar chain per row otherwise: 43% of a 16-32-32-4 MLP's gradient).
"""

from __future__ import annotations

from typing import Final

from mlir import ir

from ..ir.context import ops_where
from .enzyme import ADSpec
from .fastgather import PrimalSlice
from .irquery import defining, derivative_functions, op_of

_REASSOC: Final = "#arith.fastmath<reassoc>"


def reassociate_sums(module: ir.Module, spec: ADSpec) -> int:
    """Mark the adjoint sums of `spec`'s derivative (module docstring); returns how many
    `arith.addf` ops were marked."""
    active = sum(1 for _, _, act in spec.params if act == "active")
    if spec.mode != "reverse" or not active:
        return 0
    marked = 0
    for func in derivative_functions(module, spec.fn):
        for ret in ops_where(func, lambda op: op.name == "func.return"):
            marked += sum(_mark(value) for value in list(ret.operands)[-active:])
    return marked


def reassociate_loop_sums(module: ir.Module, spec: ADSpec) -> int:
    """Mark the sums carried by loops of `spec`'s derivative that compute adjoints only
    (module docstring); returns how many `arith.addf` ops were marked."""
    marked = 0
    for func in derivative_functions(module, spec.fn):
        primal = PrimalSlice(func, spec)
        if not primal.known:
            continue
        for loop in ops_where(func, lambda op: op.name == "scf.for"):
            if not loop.results or not primal.apart(loop):
                continue
            marked += sum(_mark(value) for value in loop.results)
    return marked


def _mark(value: ir.Value) -> int:
    """Mark the adds of the loop sum `value` is, if it is one; how many."""
    chain = _Chain()
    if not (chain.loop_sum(value) and chain.closed()):
        return 0
    for op in chain.adds:
        op.attributes["fastmath"] = ir.Attribute.parse(_REASSOC)
    return len(chain.adds)


class _Chain:
    """One sum chain: its adds, and per partial sum the ops of the chain that use it."""

    def __init__(self) -> None:
        self.adds: list[ir.Operation] = []
        self.users: list[tuple[ir.Value, ir.Operation]] = []

    def loop_sum(self, value: ir.Value) -> bool:
        """Whether `value` is a result of an `scf.for` whose body sums into that iter_arg."""
        op = defining(value)
        if op is None or op.name != "scf.for":
            return False
        r = ir.OpResult(value).result_number
        body = op.regions[0].blocks[0]
        yield_op = list(body.operations)[-1].operation
        return self.chain(yield_op.operands[r], body.arguments[1 + r], yield_op)

    def chain(self, value: ir.Value, acc: ir.Value, user: ir.Operation) -> bool:
        """Whether `value` (used by `user`) is `acc` plus terms, through adds, `scf.if`
        results and nested sum loops."""
        self.users.append((value, user))
        if value == acc:
            return True
        op = defining(value)
        if op is None:
            return False
        if op.name == "arith.addf":
            self.adds.append(op)
            a, b = op.operands
            return self.chain(a, acc, op) if _reaches(a, acc) else self.chain(b, acc, op)
        r = ir.OpResult(value).result_number
        if op.name == "scf.for":
            return self.chain(op.operands[3 + r], acc, op) and self.loop_sum(value)
        if op.name == "scf.if":
            ends = [list(region.blocks[0].operations)[-1].operation for region in op.regions]
            return all(self.chain(end.operands[r], acc, end) for end in ends)
        return False

    def closed(self) -> bool:
        """Whether every partial sum is used by the chain only (so no term depends on one
        and nothing else sees a reordered partial sum)."""
        for value, _ in self.users:
            mine = [user for v, user in self.users if v == value]
            if any(all(op_of(use.owner) != user for user in mine) for use in value.uses):
                return False
        return True


def _reaches(value: ir.Value, acc: ir.Value, budget: list[int] | None = None) -> bool:
    """Whether `value` is `acc` or made from it by adds, ifs and loops (a cheap test of the
    side the chain continues on, giving up after 64 ops; `closed` checks the rest)."""
    budget = [64] if budget is None else budget
    budget[0] -= 1
    if value == acc:
        return True
    op = defining(value)
    if op is None or budget[0] < 0:
        return False
    if op.name == "arith.addf":
        return any(_reaches(v, acc, budget) for v in op.operands)
    r = ir.OpResult(value).result_number
    if op.name == "scf.for":
        return _reaches(op.operands[3 + r], acc, budget)
    if op.name == "scf.if":
        end = list(op.regions[0].blocks[0].operations)[-1].operation
        return _reaches(end.operands[r], acc, budget)
    return False
