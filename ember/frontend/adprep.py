"""Reverse-mode preparation: `while` loops as counted loops Enzyme can differentiate.

Enzyme cannot reverse `scf.while`, whose trip count is unknown until it ends. Ember therefore
compiles two variants of the program, both with an extra `__ember_counts: i64[:]` parameter
threaded through every kernel call:

* *count*: the primal, in which `while` loop j records its largest trip count in counts[j];
  it runs first, on copies of the arrays the kernel writes;
* *replay*: loop j becomes `for k in range(counts[j])` with its condition and an `active` flag
  as guards, so it runs exactly the iterations the `while` ran; Enzyme differentiates this one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from .. import types as T
from ..errors import Span
from . import dataflow, tir

COUNTS = "__ember_counts"
COUNTS_TYPE = T.Array(T.i64, 1)
COUNT_SUFFIX = "__count"


@dataclass(frozen=True)
class Prepared:
    replay: tir.Program
    count: tir.Program | None
    loops: int


def has_while(program: tir.Program) -> bool:
    return any(_contains_while(f.body) for f in program.functions.values())


def _contains_while(body: tuple[tir.Stmt, ...]) -> bool:
    for s in body:
        if isinstance(s, tir.While):
            return True
        inner = (s.then + s.orelse) if isinstance(s, tir.If) else getattr(s, "body", ())
        if _contains_while(inner):
            return True
    return False


def prepare_reverse(program: tir.Program) -> Prepared:
    """The replay and count programs of `program` (unchanged if it has no while loop)."""
    if not has_while(program):
        return Prepared(program, None, 0)
    ids = _Numbering()
    replay, count = {}, {}
    for symbol, fn in program.functions.items():
        numbers = ids.assign(fn)
        replay[symbol] = _variant(fn, _Replay(numbers), symbol, lambda s: s)
        count[symbol + COUNT_SUFFIX] = _variant(fn, _Count(numbers), symbol + COUNT_SUFFIX,
                                                lambda s: s + COUNT_SUFFIX)
    return Prepared(tir.Program(program.entry, replay, program.sites),
                    tir.Program(program.entry + COUNT_SUFFIX, count, program.sites), ids.next)


class _Numbering:
    """Global numbers for the while loops of all kernels, in a fixed order."""

    def __init__(self) -> None:
        self.next = 0

    def assign(self, fn: tir.Function) -> dict[int, int]:
        numbers: dict[int, int] = {}
        self._walk(fn.body, numbers)
        return numbers

    def _walk(self, body: tuple[tir.Stmt, ...], numbers: dict[int, int]) -> None:
        for s in body:
            if isinstance(s, tir.While):
                numbers[id(s)] = self.next
                self.next += 1
            inner = (s.then + s.orelse) if isinstance(s, tir.If) else getattr(s, "body", ())
            self._walk(inner, numbers)


def _variant(fn: tir.Function, rewrite: _Rewrite, symbol: str,
             callee: Callable[[str], str]) -> tir.Function:
    counts = tir.Var(COUNTS_TYPE, fn.span, COUNTS)
    rewrite.counts, rewrite.callee, rewrite.types = counts, callee, dict(fn.var_types)
    body = rewrite.block(fn.body)
    types = {**rewrite.types, COUNTS: COUNTS_TYPE}
    body = dataflow.annotate(body, types)
    written = fn.written | ({COUNTS} if isinstance(rewrite, _Count) else set())
    return replace(fn, symbol=symbol, params=(*fn.params, (COUNTS, COUNTS_TYPE)), body=body,
                   written=frozenset(written), var_types=types)


class _Rewrite:
    """Walks a body, threading `counts` into kernel calls and rewriting while loops."""

    counts: tir.Var
    callee: Callable[[str], str]
    types: dict[str, T.Type]

    def __init__(self, numbers: dict[int, int]) -> None:
        self.numbers = numbers

    def block(self, body: tuple[tir.Stmt, ...]) -> tuple[tir.Stmt, ...]:
        out: list[tir.Stmt] = []
        for s in body:
            out.extend(self.stmt(s))
        return tuple(out)

    def stmt(self, s: tir.Stmt) -> list[tir.Stmt]:
        if isinstance(s, tir.While):
            cond = self.expr(s.cond)
            return self.loop(s, cond, self.block(s.body), self.numbers[id(s)])
        changes: dict[str, Any] = {}
        for f in fields(s):
            value = getattr(s, f.name)
            if f.name in ("then", "orelse", "body"):
                changes[f.name] = self.block(value)
            elif isinstance(value, tir.Expr) or (isinstance(value, tuple) and value
                                                 and isinstance(value[0], tir.Expr)):
                changes[f.name] = self.expr(value)
        return [replace(s, **changes)]

    def expr(self, e: Any) -> Any:
        if isinstance(e, tuple):
            return tuple(self.expr(i) for i in e)
        if not isinstance(e, tir.Expr):
            return e
        changes = {f.name: self.expr(getattr(e, f.name)) for f in fields(e)
                   if f.name not in ("type", "span")}
        e = replace(e, **changes)
        if isinstance(e, tir.KernelCall):
            e = replace(e, callee=self.callee(e.callee), args=(*e.args, self.counts))
        return e

    def var(self, name: str, t: T.Type, span: Span) -> tir.Var:
        self.types[name] = t
        return tir.Var(t, span, name)

    def slot(self, j: int, span: Span) -> tir.Load:
        return tir.Load(T.i64, span, self.counts, (tir.Const(T.i64, span, j),), (False,))

    def loop(self, s: tir.While, cond: tir.Expr, body: tuple[tir.Stmt, ...],
             j: int) -> list[tir.Stmt]:
        raise NotImplementedError


class _Count(_Rewrite):
    def loop(self, s: tir.While, cond: tir.Expr, body: tuple[tir.Stmt, ...],
             j: int) -> list[tir.Stmt]:
        span = s.span
        trips = self.var(f"__ember_trips{j}", T.i64, span)
        one = tir.Const(T.i64, span, 1)
        step = tir.Assign(span, trips.name, tir.BinOp(T.i64, span, "add", trips, one))
        most = tir.Call(T.i64, span, "max", (self.slot(j, span), trips))
        return [tir.Assign(span, trips.name, tir.Const(T.i64, span, 0)),
                replace(s, cond=cond, body=(*body, step)),
                tir.Store(span, self.counts, (tir.Const(T.i64, span, j),), (False,), most)]


class _Replay(_Rewrite):
    def loop(self, s: tir.While, cond: tir.Expr, body: tuple[tir.Stmt, ...],
             j: int) -> list[tir.Stmt]:
        span = s.span
        active = self.var(f"__ember_active{j}", T.boolean, span)
        counter = self.var(f"__ember_k{j}", T.py_int, span)
        stop = tir.Assign(span, active.name, tir.Const(T.boolean, span, False))
        guarded = tir.If(span, active, (tir.If(span, cond, body, (stop,)),), ())
        zero, one = tir.Const(T.py_int, span, 0), tir.Const(T.py_int, span, 1)
        count = tir.Cast(T.py_int, span, self.slot(j, span))
        return [tir.Assign(span, active.name, tir.Const(T.boolean, span, True)),
                tir.For(span, counter.name, zero, count, one, 1, (guarded,))]
