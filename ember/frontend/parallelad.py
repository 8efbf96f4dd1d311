"""Frontend step 6 of derivative builds: which `prange` loops stay parallel under Enzyme.

Input: a typed body (carried variables computed) of a kernel typed for differentiation.
Output: the same body in which a prange `For` keeps `parallel=True` only where its derivative
can run in parallel (emitted as `scf.parallel` by ir/parallelfor.py, reversed by Enzyme,
outlined onto libgomp by lowering/paralleladjoint.py); the others become serial loops, as
before. A prange loop is checked as in primal builds (frontend/parallel.py: iterations
independent, carried variables only reductions), so a derivative build refuses what the
kernel's own build refuses. It stays parallel when its carried variables are all `+=` sums of
real scalars, it holds no `while` loop (Enzyme caches the replay of a while loop per
iteration: allocated by the forward sweep, freed by the reverse one, on other threads of the
per-thread tape arena) and no `raise` (an error frame per thread is the primal
launcher's business); a prange nested in a parallel one runs serially inside it.
"""

from __future__ import annotations

from dataclasses import replace

from .. import types as T
from . import dataflow, tir
from .parallel import check_races, reduction_op


def mark_parallel_loops(body: tuple[tir.Stmt, ...], cpu: bool) -> tuple[tir.Stmt, ...]:
    """`body` with prange loops checked, and parallel only where the derivative can be;
    `cpu` False (targets that map loops themselves): every loop serial, unchecked."""
    return tuple(_stmt(s, inside=not cpu) for s in body)


def _block(body: tuple[tir.Stmt, ...], inside: bool) -> tuple[tir.Stmt, ...]:
    return tuple(_stmt(s, inside) for s in body)


def _stmt(s: tir.Stmt, inside: bool) -> tir.Stmt:
    if isinstance(s, tir.If):
        return replace(s, then=_block(s.then, inside), orelse=_block(s.orelse, inside))
    if isinstance(s, tir.While):
        return replace(s, body=_block(s.body, inside))
    if not isinstance(s, tir.For):
        return s
    parallel = s.parallel and not inside and _parallelizable(s)  # checked where outermost
    return replace(s, parallel=parallel, body=_block(s.body, inside or parallel))


def _parallelizable(loop: tir.For) -> bool:
    check_races(loop)
    ops = [reduction_op(loop, name) for name, _ in loop.carried]  # refuses racing loops
    sums = all(op == "add" and isinstance(t, T.Scalar) and (t.is_float or t.is_int)
               for op, (_, t) in zip(ops, loop.carried, strict=True))
    whiles = any(isinstance(n, tir.While) for n in tir.walk(loop.body))
    return sums and not whiles and not tir.raises(loop.body) and _private_stores(loop)


def _private_stores(loop: tir.For) -> bool:
    """Whether each element store of `loop` provably belongs to one iteration: an index
    `i`, `i + c`, `c * i` of the loop variable `i` (or an array made in the body). A store
    like `h[idx[i]] += v` may hit one element from several iterations: its adjoint would
    race, so such a loop's derivative runs serially."""
    local = dataflow.assigned(loop.body)
    for s in tir.walk(loop.body):
        shared = isinstance(s, tir.Store) and not dataflow.uses(s.array) & local and not any(
            _affine(ix, loop.var, local) for ix in s.indices)
        whole = isinstance(s, tir.ArrayStore | tir.Fill) and not dataflow.uses(s.array) & (
            local | {loop.var})
        if shared or whole:
            return False
    return True


def _affine(ix: tir.Expr, var: str, local: set[str]) -> bool:
    """Whether `ix` is `var` plus or times (nonzero constant) values the loop does not change."""
    if isinstance(ix, tir.Cast):
        return _affine(ix.value, var, local)
    if isinstance(ix, tir.Var):
        return ix.name == var
    if not isinstance(ix, tir.BinOp) or ix.op not in ("add", "sub", "mul"):
        return False
    for mine, other in ((ix.left, ix.right), (ix.right, ix.left)):
        fixed = not dataflow.uses(other) & (local | {var})
        scale = ix.op != "mul" or (isinstance(other, tir.Const) and other.value != 0)
        if fixed and scale and _affine(mine, var, local):
            return True
    return False
