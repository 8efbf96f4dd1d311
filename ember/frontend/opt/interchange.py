"""Frontend step 7b (opt_level >= 2): loop interchange for stride-1 inner loops.

    for j in range(m):                   for i in range(n):
        for i in range(n):       ->          for j in range(m):
            b[i, j] = 2 * a[i, j]                b[i, j] = 2 * a[i, j]

A nest written in column order walks row-major (C-contiguous) arrays with a stride of a whole
row per step; swapped, the inner loop touches consecutive elements and LLVM vectorizes it.
Swapped only where more array accesses end in the outer variable than in the inner one, and
where the order of the iterations cannot matter: the inner body is straight-line code whose
locals are assigned before they are read in the same iteration, and every written array is
accessed at one subscript naming both loop variables (each iteration writes its own element,
which no other iteration reads). Arrays that might overlap are told apart at run time, as in
jam.py: the loops run as written if a written array shares memory with another one.
"""

from __future__ import annotations

from dataclasses import replace

from ... import types as T
from .. import dataflow, tir
from .jam import (
    LoopRewriter,
    accesses_of,
    cold,
    defined_before_use,
    disjoint,
    is_one,
    key_var,
    names_var,
    reads_memory,
    shape_of,
    straight_nest,
)


def interchange_loops(body: tuple[tir.Stmt, ...], types: dict[str, T.Type]) -> tuple[tir.Stmt, ...]:
    """`body` with its column-order nests swapped (`carried` to be recomputed)."""
    return _Swapper(types).block(body)


class _Swapper(LoopRewriter):
    def rewrite(self, loop: tir.For) -> tuple[tir.Stmt, ...] | None:
        written = _legal(loop)
        return _swap(loop, written, self.types) if written is not None and _pays(loop) else None


def _swap(outer: tir.For, written: list[str], types: dict[str, T.Type]) -> tuple[tir.Stmt, ...]:
    inner = outer.body[0]
    assert isinstance(inner, tir.For)
    swapped = replace(inner, body=(replace(outer, body=inner.body, carried=()),), carried=())
    arrays = sorted({a for a, _, _, _ in accesses_of(inner.body) or ()})
    if len(arrays) < 2:
        return (swapped,)
    guard = disjoint(written, arrays, types, outer.span)
    return (tir.If(outer.span, guard, (swapped,), (cold(outer),)),)


def _legal(outer: tir.For) -> list[str] | None:
    """The written arrays if swapping `outer` with its only inner loop keeps every result."""
    if len(outer.body) != 1 or not isinstance(outer.body[0], tir.For):
        return None
    inner = outer.body[0]
    if inner.parallel or not (is_one(outer.step) and is_one(inner.step)):
        return None
    if not straight_nest(inner.body, inner) or any(isinstance(s, tir.For) for s in inner.body):
        return None
    loop_vars = {outer.var, inner.var}
    local = dataflow.assigned(inner.body)
    if local & loop_vars or {n for n, _ in outer.carried} & (local | loop_vars):
        return None
    bounds = (inner.start, inner.stop, outer.start, outer.stop)
    if dataflow.uses(bounds) & (local | loop_vars) or reads_memory(bounds):
        return None  # swapped, the outer bounds are evaluated once per inner iteration
    if not defined_before_use(inner.body, local):
        return None
    found = accesses_of(inner.body)
    if found is None or any(a in local for a, _, _, _ in found):
        return None
    written = sorted({a for a, _, store, _ in found if store})
    for name in written:
        subs = {sub for a, sub, _, _ in found if a == name}
        sub = subs.pop() if len(subs) == 1 else None
        if sub is None or not all(names_var(sub, v, local | loop_vars) for v in loop_vars):
            return None
    return written


def _pays(outer: tir.For) -> bool:
    """More multi-dimensional accesses end in the outer variable than in the inner one."""
    inner = outer.body[0]
    assert isinstance(inner, tir.For)
    last = [key_var(shape_of(n.indices[-1])) for n in tir.walk(inner.body)
            if isinstance(n, tir.Load | tir.Store) and len(n.indices) > 1]
    return last.count(("Var", outer.var)) > last.count(("Var", inner.var))
