"""Fast-math flags on the float ops of the gather loops (after Enzyme, opt_level >= 2).

The gather loops of gather.py recompute each contribution of a stencil adjoint at its own
shifted iteration, in Enzyme's order: the heat equation's `du[j]` gets `dun[j-1] * dt * k`,
`dun[j+1] * dt * k` and the cubic term's `-(dun[j] * dt * k) * ...` each from two multiplies,
26 vector float ops per 4 elements where about a dozen do. `fast_gathers` marks every
`arith.addf`/`subf`/`mulf`/`negf` of those loops `fastmath<reassoc,nsz,contract>`, so that
LLVM hoists the invariant `dt * k`, factors `c * a + c * b` and fuses multiplies and adds
(10 vector float ops per 4 elements on `heat`).

Only loops whose float ops cannot reach the primal results are marked: every store of the
loop goes to a buffer (through views and selects) that is an allocation or a shadow argument
outside the backward slice of the derivative's primal results (its returned primal values and
what it writes into the kernel's array arguments; through SSA values, enclosing loops and ifs,
and the stores to every buffer read on the way), and no value of the loop is in that slice.
Their float ops compute adjoints only (recomputed primal values such as the Laplacian
included: they feed only adjoint terms), so the returned value stays bitwise equal and the
gradients change by rounding only (about 2e-15 relative on `heat`, within the 1e-12 of the
opt_level=1 build); deterministic, as the other reassociating rewrites. Second-order
(`serial`) derivatives and opt_level <= 1 keep Enzyme's ops as they are.
"""

from __future__ import annotations

from typing import Final

from mlir import ir

from .enzyme import ADSpec
from .gather import GATHER, Root, buffer_roots
from .irquery import VIEWS, defining, derivative_functions, nested, op_of

FLAGS: Final = ("reassoc", "nsz", "contract")
"""The flags added (Reassociate needs reassoc with nsz; contract lets LLVM fuse into FMAs)."""
FLOAT_OPS: Final = frozenset({"arith.addf", "arith.subf", "arith.mulf", "arith.negf"})
_READS: Final = frozenset({"memref.load", "memref.dim"}) | VIEWS
"""Ops that take a memref without writing it."""


def fast_gathers(module: ir.Module, spec: ADSpec) -> int:
    """Mark the float ops of the gather loops of `diffe<spec.fn>` (module docstring) and drop
    the gather tags; returns how many loops were marked."""
    marked = 0
    for func in derivative_functions(module, spec.fn):
        loops = [op for op in nested(func) if GATHER in op.attributes]
        primal = PrimalSlice(func, spec) if loops else None
        for loop in loops:
            del loop.attributes[GATHER]
            if primal is not None and primal.known and primal.apart(loop):
                marked += 1
                for op in nested(loop):
                    if op.name in FLOAT_OPS:
                        _flag(op)
    return marked


def _flag(op: ir.Operation) -> None:
    """Add FLAGS to the fast-math flags `op` has."""
    have: list[str] = []
    if "fastmath" in op.attributes:
        text = str(op.attributes["fastmath"])
        have = [f.strip() for f in text[text.index("<") + 1:text.rindex(">")].split(",")]
    if "fast" in have:
        return
    flags = [f for f in have if f and f != "none"] + [f for f in FLAGS if f not in have]
    op.attributes["fastmath"] = ir.Attribute.parse(f"#arith.fastmath<{','.join(flags)}>")


class PrimalSlice:
    """The backward slice of the primal results of the derivative function `func`: its
    values, the ops whose operands it takes, and the roots of the buffers it reads (`known`:
    False where some buffer's roots are unknown)."""

    def __init__(self, func: ir.Operation, spec: ADSpec) -> None:
        self.shadows = spec.shadows()
        self.values: set[ir.Value] = set()
        self.ops: set[ir.Operation] = set()
        self.roots: set[Root] = set()
        self.known = True
        self.writers = [op for op in nested(func) if op.name not in _READS and any(
            isinstance(v.type, ir.MemRefType) for v in op.operands)]
        active = sum(1 for _, _, act in spec.params if act == "active")
        self.roots.add("args")  # what the kernel writes into its arrays is a primal result
        work = self._writes()
        for ret in nested(func):
            if ret.name == "func.return":
                outs = list(ret.operands)
                work += outs[:len(outs) - active]
        self._grow(work)

    def _grow(self, work: list[ir.Value]) -> None:
        while work and self.known:
            v = work.pop()
            if v in self.values:
                continue
            self.values.add(v)
            if isinstance(v.type, ir.MemRefType):
                work += self._buffer(v)
            op = defining(v)
            if op is None:  # a block argument: its op (a loop) with all it holds
                op = op_of(v.owner.owner)
            if op is not None and op.name != "func.func":
                work += self._take(op)

    def _take(self, op: ir.Operation) -> list[ir.Value]:
        """The operands of `op`, of the ops in its regions and of the ops around it."""
        found: list[ir.Value] = []
        while op is not None and op.name != "func.func" and op not in self.ops:
            for x in (op, *nested(op)):
                self.ops.add(x)
                found += list(x.operands)
            op = op_of(op.parent)
        return found

    def _buffer(self, v: ir.Value) -> list[ir.Value]:
        """Note the roots of the buffer `v`; the operands of the ops that may write them."""
        roots = buffer_roots(v, self.shadows)
        if roots is None:
            self.known = False
            return []
        if roots <= self.roots:
            return []
        self.roots |= roots
        return self._writes()

    def _writes(self) -> list[ir.Value]:
        """The operands of the ops (not yet taken) that may write a buffer of the slice."""
        found: list[ir.Value] = []
        for op in self.writers:
            if op in self.ops:
                continue
            for w in op.operands:
                if isinstance(w.type, ir.MemRefType):
                    r = buffer_roots(w, self.shadows)
                    if r is None or r & self.roots:
                        found += self._take(op)
                        break
        return found

    def apart(self, loop: ir.Operation) -> bool:
        """Whether `loop` writes only allocations and shadow arguments outside the slice and
        none of its values is in it."""
        for op in (loop, *nested(loop)):
            if op in self.ops or any(r in self.values for r in op.results):
                return False
            if op.name in _READS:
                continue
            for w in op.operands:
                if isinstance(w.type, ir.MemRefType):
                    r = buffer_roots(w, self.shadows)
                    if r is None or "args" in r or r & self.roots:
                        return False
        return True
