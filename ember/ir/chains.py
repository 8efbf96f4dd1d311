"""IR rule for product chains: `A @ B @ C (@ D)` evaluated in the cheapest order for the
run-time shapes (matrix-chain ordering, as `np.linalg.multi_dot` does).

A chain is a `tir.Product` (matmul, matvec, vecmat or dot) whose operands are themselves
such products (matmul, matvec, vecmat: the ones whose result an outer product contracts),
flattened to its leaves: every interior leaf is 2-D, the first and the last may be 1-D
(`x @ A @ B`, `A @ B @ x`, `x @ A @ y`). The leaves are evaluated once, left to right; the
contracted sizes are compared in the order NumPy evaluates the written tree (so the same
ValueError is raised); then the multiply-add count of every parenthesization is computed
from the sizes (index arithmetic, a handful of multiplies) and an `scf.if` chain runs the
cheapest one (the written order wins ties). The candidates are a bounded set, so the code
grows linearly with the chain: the written order, left to right and right to left (every
order of a chain of 3; for `A @ B @ C @ x` the matrix-vector products; for `x @ A @ B @ C`
the vector-matrix ones). Trying all 5 orders of a chain of 4 compiled in 21 s (15 products),
the bounded set in a third of that. Derivative builds emit the written order (plain loop
nests, ir/products.py).

Reassociation changes float rounding (NumPy's `@` evaluates left to right; `multi_dot`
reorders as here); int chains give identical values in any order.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, Final

from mlir import ir
from mlir.dialects import arith, memref, scf

from .. import types as T
from ..frontend import tir
from .protocols import Emitter
from .raising import raise_if
from .types import memref_type, scalar_type

CI = arith.CmpIPredicate
LINKS: Final = frozenset({"matmul", "matvec", "vecmat"})
"""Products whose result may be an operand of an outer product of the chain."""
CHAINS: Final = LINKS | {"dot"}
KINDS: Final = {(1, 1): "dot", (2, 1): "matvec", (1, 2): "vecmat", (2, 2): "matmul"}

Tree = int | tuple["Tree", "Tree"]
"""A parenthesization: a leaf index or (left, right)."""
_counter = itertools.count()
MARK = "ember.chain_order"
"""Unit attribute on each `scf.if` choosing an order (tests look for it in the MLIR)."""


def leaves(e: tir.Product) -> list[tir.Expr]:
    """The operands of the chain rooted at `e`, left to right."""
    out: list[tir.Expr] = []
    for x in (e.a, e.b):
        out += leaves(x) if isinstance(x, tir.Product) and x.kind in LINKS else [x]
    return out


def _ndim(e: tir.Expr) -> int:
    assert isinstance(e.type, T.Array)
    return e.type.ndim


def is_chain(e: tir.Product) -> bool:
    """Whether `e` is a chain of 3 or more leaves whose interior leaves are 2-D."""
    if e.kind not in CHAINS:
        return False
    xs = leaves(e)
    return len(xs) >= 3 and all(_ndim(x) == 2 for x in xs[1:-1])


def _c(value: int) -> ir.Value:
    return arith.constant(ir.IndexType.get(), value)


class _Chain:
    """The leaves' values and sizes, and the emission of one parenthesization."""

    def __init__(self, em: Emitter, e: tir.Product,
                 emit: Callable[[Emitter, tir.Product], Any]) -> None:
        self.em, self.e, self.emit = em, e, emit
        self.exprs = leaves(e)
        self.ndims = [_ndim(x) for x in self.exprs]
        self.values = [em.expr(x) for x in self.exprs]
        self.dims = [[em.dim(v, k) for k in range(n)]
                     for v, n in zip(self.values, self.ndims, strict=True)]

    def rows(self, lo: int) -> ir.Value:
        return self.dims[lo][0] if self.ndims[lo] == 2 else _c(1)

    def cols(self, hi: int) -> ir.Value:
        return self.dims[hi - 1][-1] if self.ndims[hi - 1] == 2 else _c(1)

    def shape(self, lo: int, hi: int) -> list[ir.Value]:
        if hi - lo == 1:
            return self.dims[lo]
        return ([self.dims[lo][0]] if self.ndims[lo] == 2 else []) + (
            [self.dims[hi - 1][-1]] if self.ndims[hi - 1] == 2 else [])

    def check(self, node: tir.Expr, lo: int) -> tuple[int, Tree]:
        """Compare the contracted sizes of the written tree from leaf `lo`, in NumPy's
        evaluation order; returns the end leaf and the written tree."""
        if not (isinstance(node, tir.Product) and node.kind in CHAINS) or (
                lo < len(self.exprs) and node is self.exprs[lo]):
            return lo + 1, lo
        mid, left = self.check(node.a, lo)
        hi, right = self.check(node.b, mid)
        if node.check is not None:
            ka, kb = self.dims[mid - 1][-1], self.dims[mid][0]
            fields = [ka, kb, *self.shape(lo, mid), *self.shape(mid, hi)]
            raise_if(self.em, arith.cmpi(CI.ne, ka, kb), node.check,
                     [(v, T.i64) for v in fields])
        return hi, (left, right)

    def cost(self, tree: Tree) -> tuple[int, int, ir.Value]:
        """(first leaf, end leaf, multiply-adds) of `tree`."""
        if isinstance(tree, int):
            return tree, tree + 1, _c(0)
        lo, mid, left = self.cost(tree[0])
        _, hi, right = self.cost(tree[1])
        here = arith.muli(arith.muli(self.rows(lo), self.dims[mid][0]), self.cols(hi))
        return lo, hi, arith.addi(arith.addi(left, right), here)

    def product(self, tree: Tree) -> tuple[Any, int, int]:
        """The value of `tree`, its rank and its first leaf."""
        if isinstance(tree, int):
            return self.values[tree], self.ndims[tree], tree
        (a, na, lo), (b, nb, _) = self.product(tree[0]), self.product(tree[1])
        t = self.dtype
        names = [f"\0chain{next(_counter)}" for _ in range(2)]
        self.em.env.update(zip(names, (a, b), strict=True))
        nd = na + nb - 2
        p = tir.Product(T.Array(t, nd) if nd else t, self.e.span, KINDS[na, nb],
                        tir.Var(T.Array(t, na), self.e.span, names[0]),
                        tir.Var(T.Array(t, nb), self.e.span, names[1]))
        return self.emit(self.em, p), nd, lo

    @property
    def dtype(self) -> T.Scalar:
        t = self.e.type
        return t.dtype if isinstance(t, T.Array) else t  # type: ignore[return-value]


def _deep(count: int, left: bool) -> Tree:
    """((0 1) 2) ... (left to right) or 0 (1 (2 ...)) (right to left)."""
    tree: Tree = 0 if left else count - 1
    for k in range(1, count) if left else range(count - 2, -1, -1):
        tree = (tree, k) if left else (k, tree)
    return tree


def emit_chain(em: Emitter, e: tir.Product, emit: Callable[[Emitter, tir.Product], Any]) -> Any:
    """The chain rooted at `e` (is_chain(e), primal builds), `emit` emitting one product."""
    chain = _Chain(em, e, emit)
    count = len(chain.exprs)
    _, written = chain.check(e, 0)
    orders = [written] + [t for t in (_deep(count, True), _deep(count, False))
                          if t != written]
    costs = [chain.cost(t)[2] for t in orders]
    result = memref_type(e.type) if isinstance(e.type, T.Array) else scalar_type(chain.dtype)

    def pick(k: int) -> Any:
        if k == len(orders) - 1:
            return _conform(chain.product(orders[k])[0], result)
        best = costs[k + 1]
        for c in costs[k + 2:]:
            best = arith.minui(best, c)
        branch = scf.IfOp(arith.cmpi(CI.ule, costs[k], best), [result], has_else=True)
        branch.operation.attributes[MARK] = ir.UnitAttr.get()
        with ir.InsertionPoint(branch.then_block):
            scf.YieldOp([_conform(chain.product(orders[k])[0], result)])
        with ir.InsertionPoint(branch.else_block):
            scf.YieldOp([pick(k + 1)])
        return branch.results[0]
    return pick(0)


def _conform(value: Any, want: ir.Type) -> Any:
    return value if value.type == want else memref.cast(want, value)
