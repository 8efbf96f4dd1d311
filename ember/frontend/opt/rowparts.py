"""The shared parts of frontend/opt/packrows.py and samplejam.py: a matched dense layer's
pieces (`Rows`) and typed-tree node constructors at one span (`Build`)."""

from __future__ import annotations

from dataclasses import dataclass

from ... import types as T
from ...errors import Span
from .. import tir


@dataclass
class Rows:
    """The parts of a matched matvec row loop (`a = init(j); for i: a += w[j, i] * v(i)`)."""

    loop: tir.For
    """The row loop (over j)."""
    acc: str
    init: tir.Expr
    depth: tir.For
    """The reduction loop (over i)."""
    w: tir.Var
    v: tir.Expr
    product: tir.BinOp
    w_left: bool
    """Whether w's load is the product's left operand."""
    column: bool
    """w is indexed w[i, j] (rows along its columns): its rows are lanes already, no pack."""
    epilogue: tuple[tir.Stmt, ...]


@dataclass
class Build:
    """Node constructors at one span, for index type `it` and float type `ft`."""

    types: dict[str, T.Type]
    span: Span
    it: T.Type
    ft: T.Type

    @property
    def matrix(self) -> T.Type:
        return T.Array(self.ft, 2)  # type: ignore[arg-type]

    @property
    def vector(self) -> T.Type:
        return T.Array(self.ft, 1)  # type: ignore[arg-type]

    def local(self, name: str, t: T.Type) -> str:
        self.types[name] = t
        return name

    def var(self, name: str, t: T.Type | None = None) -> tir.Var:
        return tir.Var(t or self.it, self.span, name)

    def const(self, v: int) -> tir.Const:
        return tir.Const(self.it, self.span, v)

    def idx(self, e: tir.Expr) -> tir.Expr:
        return tir.Cast(T.i64, self.span, e)

    def cast(self, e: tir.Expr) -> tir.Expr:
        """`e` as the float type (a weak `0.0` initial value, as its assignment converts it)."""
        return e if e.type == self.ft else tir.Cast(self.ft, self.span, e)

    def binop(self, op: str, a: tir.Expr, b: tir.Expr) -> tir.BinOp:
        return tir.BinOp(a.type, self.span, op, a, b)

    def compare(self, op: str, a: tir.Expr, b: tir.Expr) -> tir.Compare:
        return tir.Compare(T.boolean, self.span, op, a, b)

    def both(self, a: tir.Expr, b: tir.Expr) -> tir.BoolOp:
        return tir.BoolOp(T.boolean, self.span, "and", a, b)

    def assign(self, name: str, value: tir.Expr) -> tir.Assign:
        return tir.Assign(self.span, name, value)

    def loop(self, v: str, start: tir.Expr, stop: tir.Expr, body: tuple[tir.Stmt, ...],
             step: int = 1) -> tir.For:
        self.types[v] = self.it
        return tir.For(self.span, v, start, stop, self.const(step), 1, body)

    def load(self, a: str, t: T.Type, *ix: tir.Expr) -> tir.Load:
        return tir.Load(self.ft, self.span, self.var(a, t), tuple(self.idx(e) for e in ix),
                        (False,) * len(ix))

    def store(self, a: str, t: T.Type, value: tir.Expr, *ix: tir.Expr) -> tir.Store:
        return tir.Store(self.span, self.var(a, t), tuple(self.idx(e) for e in ix),
                         (False,) * len(ix), value)
