"""Frontend step 5: loop-carried and branch-merged variables, by backward liveness.

Input: a typed body whose `If`/`For`/`While` nodes have empty `carried`. Output: the same body
with `carried` set to the variables each construct assigns that are live after it: for an
`if`, the values its branches must yield; for a loop, its iteration arguments (including the
loop variable of a `for` when it is read after the loop).
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from ..errors import CompileError
from ..types import Type
from . import tir

Live = frozenset[str]


def annotate(body: tuple[tir.Stmt, ...], types: dict[str, Type]) -> tuple[tir.Stmt, ...]:
    """`body` with every `carried` tuple filled in."""
    return _Liveness(types).block(body, frozenset())[0]


def uses(node: object) -> set[str]:
    """Names read by an expression (or any node), recursively."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, tir.Var):
            found.add(item.name)
        elif isinstance(item, tir.MatMul):  # `u` reads the row and k it is given
            found |= uses(item.u) - {item.row, item.red}
            stack.extend((item.c, item.b, item.rows, item.cols, item.depth, item.init,
                          item.c_lead, item.b_lead))
        elif isinstance(item, tir.Expr | tir.Store | tir.Fill | tir.ArrayStore | tir.ExprStmt
                        | tir.Return | tir.Raise):
            stack.extend(getattr(item, f.name) for f in fields(item))
        elif isinstance(item, tuple):
            stack.extend(item)
    return found


def assigned(stmts: tuple[tir.Stmt, ...]) -> set[str]:
    names: set[str] = set()
    for s in stmts:
        if isinstance(s, tir.Assign):
            names.add(s.name)
        elif isinstance(s, tir.If):
            names |= assigned(s.then) | assigned(s.orelse)
        elif isinstance(s, tir.For):
            names |= assigned(s.body) | {s.var}
        elif isinstance(s, tir.While):
            names |= assigned(s.body)
        elif isinstance(s, tir.ParallelLaunch):
            names |= {n for n, _, _ in s.reductions}
    return names


def check_assigned_before_use(body: tuple[tir.Stmt, ...], params: set[str], src: Any) -> None:
    """Reject reads of a local that no path can have assigned yet (Python's UnboundLocalError).
    A local assigned on some paths only (one branch, a later loop iteration) is accepted."""
    _Assigned(src).block(body, set(params))


class _Assigned:
    def __init__(self, src: Any) -> None:
        self.src = src

    def check(self, node: object, maybe: set[str]) -> None:
        stack = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, tir.Var) and item.name not in maybe:
                raise CompileError(f"local variable '{item.name}' is used before it is "
                                   "assigned", item.span)
            if isinstance(item, tir.Expr):
                stack.extend(getattr(item, f.name) for f in fields(item))
            elif isinstance(item, tuple):
                stack.extend(item)

    def block(self, stmts: tuple[tir.Stmt, ...], maybe: set[str]) -> set[str]:
        for s in stmts:
            maybe = self.stmt(s, maybe)
        return maybe

    def stmt(self, s: tir.Stmt, maybe: set[str]) -> set[str]:
        if isinstance(s, tir.Assign):
            self.check(s.value, maybe)
            return maybe | {s.name}
        if isinstance(s, tir.If):
            self.check(s.cond, maybe)
            return self.block(s.then, set(maybe)) | self.block(s.orelse, set(maybe))
        if isinstance(s, tir.For | tir.While):
            inner = maybe | assigned(s.body) | ({s.var} if isinstance(s, tir.For) else set())
            self.check((s.start, s.stop, s.step) if isinstance(s, tir.For) else s.cond,
                       maybe if isinstance(s, tir.For) else inner)
            self.block(s.body, set(inner))
            return inner
        self.check(tuple(getattr(s, f.name) for f in fields(s) if f.name != "span"), maybe)
        return maybe


class _Liveness:
    def __init__(self, types: dict[str, Type]) -> None:
        self.types = types

    def carried(self, names: set[str]) -> tuple[tuple[str, Type], ...]:
        return tuple((n, self.types[n]) for n in sorted(names))

    def block(self, stmts: tuple[tir.Stmt, ...], live: Live) -> tuple[tuple[tir.Stmt, ...], Live]:
        out = []
        for s in reversed(stmts):
            s, live = self.stmt(s, live)
            out.append(s)
        return tuple(reversed(out)), live

    def stmt(self, s: tir.Stmt, live: Live) -> tuple[tir.Stmt, Live]:
        if isinstance(s, tir.Assign):
            return s, (live - {s.name}) | uses(s.value)
        if isinstance(s, tir.If):
            return self.if_(s, live)
        if isinstance(s, tir.For):
            return self.for_(s, live)
        if isinstance(s, tir.While):
            return self.while_(s, live)
        if isinstance(s, tir.ParallelLaunch):  # reads and updates its reductions
            return s, live | uses((s.trips, s.args)) | {n for n, _, _ in s.reductions}
        return s, live | uses(s)  # Store, ExprStmt, Return

    def if_(self, s: tir.If, live: Live) -> tuple[tir.Stmt, Live]:
        then, live_then = self.block(s.then, live)
        orelse, live_else = self.block(s.orelse, live)
        merged = (assigned(s.then) | assigned(s.orelse)) & live
        new = replace(s, then=then, orelse=orelse, carried=self.carried(merged))
        return new, live_then | live_else | uses(s.cond)

    def for_(self, s: tir.For, live: Live) -> tuple[tir.Stmt, Live]:
        header = live
        while True:
            body, body_in = self.block(s.body, header)
            new_header = live | (body_in - {s.var})
            if new_header == header:
                break
            header = new_header
        carried = (assigned(s.body) | {s.var}) & header
        new = replace(s, body=body, carried=self.carried(carried))
        return new, header - {s.var} | (live & {s.var}) | uses((s.start, s.stop, s.step))

    def while_(self, s: tir.While, live: Live) -> tuple[tir.Stmt, Live]:
        header = live | uses(s.cond)
        while True:
            body, body_in = self.block(s.body, header)
            new_header = live | uses(s.cond) | body_in
            if new_header == header:
                break
            header = new_header
        new = replace(s, body=body, carried=self.carried(assigned(s.body) & header))
        return new, header
