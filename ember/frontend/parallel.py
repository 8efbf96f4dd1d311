"""Frontend step 6: outline `prange` loops into worker kernels.

Input: a typed body with carried variables computed. Output: the body with each parallel
`For` replaced by a `ParallelLaunch`, and one worker `Function` per loop:

    worker(__lo, __hi, __start, __step, *captured) -> partial reductions
        r = identity; for __k in range(__lo, __hi): i = __start + __k * __step; <body>

Captured values are the variables the body reads but does not assign. A variable carried
from one iteration to the next must be a reduction: every assignment is `s = s + e`,
`s = s * e`, `s = min(s, e)` or `s = max(s, e)` (one operator per variable) and `s` is read
nowhere else in the body. Anything else is a CompileError: iterations must be independent.
"""

from __future__ import annotations

import math
from dataclasses import replace

from .. import types as T
from ..errors import CompileError
from . import dataflow, tir

_REDUCING = {"add": "add", "mul": "mul", "min": "min", "max": "max", "minimum": "min",
             "maximum": "max"}


def outline_parallel_loops(symbol: str, body: tuple[tir.Stmt, ...], types: dict[str, T.Type],
                           params: dict[str, T.Type]) -> tuple[tuple[tir.Stmt, ...],
                                                               list[tir.Function]]:
    """`body` with its prange loops launched in parallel, and the outlined workers."""
    outliner = _Outliner(symbol, types)
    return outliner.block(body), outliner.workers


class _Outliner:
    def __init__(self, symbol: str, types: dict[str, T.Type]) -> None:
        self.symbol, self.types = symbol, types
        self.workers: list[tir.Function] = []

    def block(self, body: tuple[tir.Stmt, ...]) -> tuple[tir.Stmt, ...]:
        return tuple(self.stmt(s) for s in body)

    def stmt(self, s: tir.Stmt) -> tir.Stmt:
        if isinstance(s, tir.For) and s.parallel:
            return self.outline(s)
        if isinstance(s, tir.If):
            return replace(s, then=self.block(s.then), orelse=self.block(s.orelse))
        if isinstance(s, tir.For | tir.While):
            return replace(s, body=self.block(s.body))
        return s

    def outline(self, loop: tir.For) -> tir.Stmt:
        check_races(loop)
        reductions = [(name, reduction_op(loop, name), t) for name, t in loop.carried]
        reads = tir.names(loop.body)
        captured = sorted(reads - dataflow.assigned(loop.body) - {loop.var})
        worker = self.worker(loop, reductions, captured)
        self.workers.append(worker)
        span = loop.span
        trips = tir.Call(T.py_int, span, "range_len", (loop.start, loop.stop, loop.step))
        args = (loop.start, loop.step,
                *(tir.Var(self.types[n], span, n) for n in captured))
        return tir.ParallelLaunch(span, worker.symbol, trips, args, tuple(reductions))

    def worker(self, loop: tir.For, reductions: list[tuple[str, str, T.Type]],
               captured: list[str]) -> tir.Function:
        span, py_int = loop.span, T.py_int
        index = [("__lo", py_int), ("__hi", py_int), ("__start", py_int), ("__step", py_int)]
        params = (*index, *((n, self.types[n]) for n in captured))

        def var(name: str, t: T.Type = py_int) -> tir.Var:
            return tir.Var(t, span, name)

        value = tir.BinOp(py_int, span, "add", var("__start"),
                          tir.BinOp(py_int, span, "mul", var("__k"), var("__step")))
        inner = (tir.Assign(span, loop.var, value), *_sequential(loop.body))
        counted = tir.For(span, "__k", var("__lo"), var("__hi"),
                          tir.Const(py_int, span, 1), 1, inner)
        start = tuple(tir.Assign(span, n, _identity(op, t, span)) for n, op, t in reductions)
        ret: T.Type = T.Tuple(tuple(t for _, _, t in reductions)) if reductions else T.none
        result = (tir.TupleExpr(ret, span, tuple(var(n, t) for n, _, t in reductions))
                  if reductions else None)
        body = (*start, counted, tir.Return(span, result))
        types = {**self.types, **dict(index), "__k": py_int}
        name = f"{self.symbol}__par{len(self.workers)}"
        return tir.Function(name, name, params, ret, dataflow.annotate(body, types), span,
                            frozenset(), types)


def _sequential(body: tuple[tir.Stmt, ...]) -> tuple[tir.Stmt, ...]:
    """A worker's body: nested prange loops run sequentially inside it."""
    out = []
    for s in body:
        if isinstance(s, tir.For):
            s = replace(s, parallel=False, body=_sequential(s.body))
        elif isinstance(s, tir.If):
            s = replace(s, then=_sequential(s.then), orelse=_sequential(s.orelse))
        elif isinstance(s, tir.While):
            s = replace(s, body=_sequential(s.body))
        out.append(s)
    return tuple(out)


def check_races(loop: tir.For) -> None:
    """A CompileError if every iteration of `loop` updates one element (`total[0] += e`
    outside any `if`): the iterations would race on it, and the sum would be wrong."""
    varying = dataflow.assigned(loop.body) | {loop.var}
    for s in _unguarded(loop.body):
        if (isinstance(s, tir.Store) and not dataflow.uses((s.array, s.indices)) & varying
                and _reads_element(s)):
            raise CompileError(
                "every iteration of this prange loop updates the same array element, so the "
                "iterations race on it; accumulate into a variable (s += ...: a reduction) "
                "and store it after the loop", s.span)


def _unguarded(body: tuple[tir.Stmt, ...]) -> list[tir.Stmt]:
    """The statements of `body` and of the `for` loops in it, not those under an `if`."""
    found: list[tir.Stmt] = []
    for s in body:
        found.extend(_unguarded(s.body) if isinstance(s, tir.For) else [s])
    return found


def _reads_element(store: tir.Store) -> bool:
    key = _shape_of((store.array, store.indices))
    return any(isinstance(n, tir.Load) and _shape_of((n.array, n.indices)) == key
               for n in tir.walk(store.value))


def _shape_of(node: object) -> tuple[object, ...]:
    """`node`'s structure without source positions: equal for `t[0]` written twice."""
    return tuple((type(n).__name__, getattr(n, "name", None), getattr(n, "value", None)
                  if isinstance(n, tir.Const) else None) for n in tir.walk(node))


def reduction_op(loop: tir.For, name: str) -> str:
    """The operator of reduction `name` in `loop`, or a CompileError."""
    if name == loop.var:
        raise CompileError(f"the variable of a prange loop ('{name}') cannot be used after "
                           "the loop", loop.span)
    assigns = [s for s in tir.walk(loop.body) if isinstance(s, tir.Assign) and s.name == name]
    ops = {_combining(a.value, name) for a in assigns}
    reads = sum(1 for n in tir.walk(loop.body) if isinstance(n, tir.Var) and n.name == name)
    if len(ops) != 1 or None in ops or reads != len(assigns):
        raise CompileError(
            f"'{name}' is carried from one iteration of this prange loop to the next; prange "
            f"iterations must be independent, except for reductions ({name} += ..., "
            f"{name} *= ..., {name} = min({name}, ...), {name} = max({name}, ...))", loop.span)
    op = ops.pop()
    assert op is not None
    return op


def _combining(value: tir.Expr, name: str) -> str | None:
    """The reduction operator if `value` is `name op e` (or `e op name`) with `e` free of it."""
    if isinstance(value, tir.Cast):
        value = value.value
    if isinstance(value, tir.BinOp) and value.op in ("add", "mul"):
        pair = (value.left, value.right)
    elif isinstance(value, tir.Call) and value.op in _REDUCING and len(value.args) == 2:
        pair = value.args
    else:
        return None
    op = _REDUCING[value.op]
    for mine, other in (pair, pair[::-1]):
        if isinstance(mine, tir.Cast):
            mine = mine.value
        if isinstance(mine, tir.Var) and mine.name == name and name not in dataflow.uses(other):
            return op
    return None


def _identity(op: str, t: T.Type, span: object) -> tir.Expr:
    assert isinstance(t, T.Scalar)
    if op in ("add", "mul"):
        return tir.Const(t, span, 0 if op == "add" else 1)  # type: ignore[arg-type]
    if t.is_float:
        return tir.Const(t, span, math.inf if op == "min" else -math.inf)  # type: ignore[arg-type]
    lo, hi = (0, (1 << t.bits) - 1) if t.kind == "u" else (-(1 << (t.bits - 1)),
                                                           (1 << (t.bits - 1)) - 1)
    return tir.Const(t, span, hi if op == "min" else lo)  # type: ignore[arg-type]
