"""Frontend: a `custom_jvp` rule must be linear in its tangents (used by customrules.py).

Input: the typed rule and the names of its tangent parameters. The statements are walked in
order, tracking the variables that depend on a tangent (assigned from one, arrays stored into,
arrays a kernel called with one writes; loops until this settles, branches joined), and every
use of one must be linear: sums, differences,
negation, products and quotients by tangent-free values, sum/mean reductions, casts between
floats, tangent-free branch conditions, stores. Anything else (`dx * dx`, `math.sin(dx)`,
`abs(dx)`, `if dx > 0`, `1 / dx`) raises a CompileError at that expression: the substitution
`f(stop(x)) + jvp(stop(x), x - stop(x))` would silently drop it. Called kernels receiving a
tangent are checked the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from .. import types as T
from ..errors import CompileError
from . import tir


@dataclass(frozen=True)
class _Ctx:
    vars: frozenset[str]
    elems: frozenset[int]
    functions: dict[str, tir.Function]
    seen: set[tuple[str, frozenset[str]]]


def check_linear(fn: tir.Function, tangents: frozenset[str],
                 functions: dict[str, tir.Function]) -> None:
    """Raise CompileError unless `fn` is linear in the parameters `tangents`."""
    _check_function(fn, tangents, _Ctx(frozenset(), frozenset(), functions, set()))


def _check_function(fn: tir.Function, tangents: frozenset[str], outer: _Ctx) -> None:
    key = (fn.symbol, tangents)
    if key not in outer.seen:
        outer.seen.add(key)
        _block(fn.body, tangents, outer)


def _block(body: tuple[tir.Stmt, ...], state: frozenset[str], outer: _Ctx) -> frozenset[str]:
    """Check `body` in order; the tangent-dependent variables after it."""
    for s in body:
        state = _stmt(s, state, outer)
    return state


def _stmt(s: tir.Stmt, state: frozenset[str], outer: _Ctx) -> frozenset[str]:
    ctx = _Ctx(state, frozenset(), outer.functions, outer.seen)
    _check_stmt(s, ctx)
    if isinstance(s, tir.If):
        return _block(s.then, state, outer) | _block(s.orelse, state, outer)
    if isinstance(s, tir.For | tir.While):  # iterate until the dependent variables settle
        while True:
            after = state | _block(s.body, state, outer)
            if after == state:
                return state
            state = after
            if isinstance(s, tir.While):
                _check_stmt(s, _Ctx(state, frozenset(), outer.functions, outer.seen))
    found = set().union(*(_assigned(n, ctx) for n in tir.walk(_own(s))))
    if isinstance(s, tir.Assign):
        state = state - {s.name}
    return state | found


def _own(s: tir.Stmt) -> tuple[tir.Stmt | tir.Expr, ...]:
    """`s` and its expressions (without nested statements)."""
    exprs = [v for f in fields(s) for v in _items(getattr(s, f.name)) if isinstance(v, tir.Expr)]
    return (s, *exprs) if not isinstance(s, tir.If | tir.For | tir.While) else ()


def _items(value: object) -> tuple[object, ...]:
    return value if isinstance(value, tuple) else (value,)


def _assigned(node: tir.Expr | tir.Stmt, ctx: _Ctx) -> set[str]:
    """The variables `node` makes tangent-dependent."""
    if isinstance(node, tir.Assign) and _tainted(node.value, ctx):
        return {node.name}
    if isinstance(node, tir.Store | tir.ArrayStore | tir.Fill) and _tainted(node.value, ctx):
        return _roots(node.array)
    if isinstance(node, tir.KernelCall) and any(_tainted(a, ctx) for a in node.args):
        callee = ctx.functions.get(node.callee)
        written = callee.written if callee is not None else frozenset()
        return {r for (n, _), a in zip(callee.params if callee else (), node.args, strict=False)
                if n in written for r in _roots(a)}
    return set()


def _roots(e: tir.Expr) -> set[str]:
    while isinstance(e, tir.View | tir.Transpose | tir.Reshape):
        e = e.array
    return {e.name} if isinstance(e, tir.Var) else set()


def _children(node: tir.Expr | tir.Stmt) -> list[tir.Expr]:
    out: list[tir.Expr] = []
    for f in fields(node):
        value = getattr(node, f.name)
        items = value if isinstance(value, tuple) else (value,)
        out += [v for v in items if isinstance(v, tir.Expr)]
    return out


def _tainted(e: tir.Expr, ctx: _Ctx) -> bool:
    if isinstance(e, tir.Var):
        return e.name in ctx.vars
    if isinstance(e, tir.Elem):
        return e.index in ctx.elems
    if isinstance(e, tir.Dim | tir.DynDim | tir.Const):
        return False
    if isinstance(e, tir.ArrayMap | tir.Generate):
        return any(_tainted(i, ctx) for i in e.inputs)
    if isinstance(e, tir.Reduce | tir.Scan):
        return _tainted(e.source, ctx)
    return any(_tainted(c, ctx) for c in _children(e))


def _check_stmt(s: tir.Stmt, ctx: _Ctx) -> None:
    """Check the expressions of `s` itself (not of its nested statements)."""
    cond = s.cond if isinstance(s, tir.If | tir.While) else None
    if cond is not None and _tainted(cond, ctx):
        raise _error(cond, "a branch or loop condition depends on a tangent")
    for f in fields(s):
        for e in _items(getattr(s, f.name)):
            if isinstance(e, tir.Expr):
                _check_expr(e, ctx)


def _check_expr(e: tir.Expr, ctx: _Ctx) -> None:
    rule = _RULES.get(type(e))
    reason = rule(e, ctx) if rule is not None else None
    if reason is not None:
        raise _error(e, reason)
    if isinstance(e, tir.ArrayMap | tir.Generate):
        for i in e.inputs:
            _check_expr(i, ctx)
        elems = frozenset(k for k, i in enumerate(e.inputs) if _tainted(i, ctx))
        _check_expr(e.body, _Ctx(ctx.vars, elems, ctx.functions, ctx.seen))
        return
    for child in _children(e):
        _check_expr(child, ctx)


def _binop(e: tir.BinOp, ctx: _Ctx) -> str | None:
    left, right = _tainted(e.left, ctx), _tainted(e.right, ctx)
    if e.op in ("add", "sub") or not (left or right):
        return None
    if e.op == "mul" and not (left and right):
        return None
    if e.op == "truediv" and not right:
        return None
    return f"'{e.op}' of a tangent is not linear"


def _any_tangent(what: str) -> Callable[[tir.Expr, _Ctx], str | None]:
    def rule(e: tir.Expr, ctx: _Ctx) -> str | None:
        return what if any(_tainted(c, ctx) for c in _children(e)) else None
    return rule


def _unary(e: tir.UnaryOp, ctx: _Ctx) -> str | None:
    return None if e.op == "neg" or not _tainted(e.operand, ctx) else \
        f"'{e.op}' of a tangent is not linear"


def _cast(e: tir.Cast, ctx: _Ctx) -> str | None:
    linear = isinstance(e.type, T.Scalar | T.Array) and _float(e.type)
    return None if linear or not _tainted(e.value, ctx) else "a tangent converted to a non-float"


def _float(t: T.Type) -> bool:
    dtype = t.dtype if isinstance(t, T.Array) else t
    return isinstance(dtype, T.Scalar) and dtype.is_float


def _reduce(e: tir.Reduce | tir.Scan, ctx: _Ctx) -> str | None:
    linear = e.kind in ("sum", "mean")
    return None if linear or not _tainted(e.source, ctx) else \
        f"the reduction '{e.kind}' of a tangent is not linear"


def _product(e: tir.Product, ctx: _Ctx) -> str | None:
    both = _tainted(e.a, ctx) and _tainted(e.b, ctx)
    return "a product of two tangents is not linear" if both else None


def _ifexp(e: tir.IfExp, ctx: _Ctx) -> str | None:
    return "a condition depends on a tangent" if _tainted(e.cond, ctx) else None


def _kernel_call(e: tir.KernelCall, ctx: _Ctx) -> str | None:
    callee = ctx.functions.get(e.callee)
    if callee is not None:
        tangents = frozenset(n for (n, _), a in zip(callee.params, e.args, strict=False)
                             if _tainted(a, ctx))
        if tangents:
            _check_function(callee, tangents, ctx)
    return None


_RULES: dict[type, Callable[[tir.Expr, _Ctx], str | None]] = {
    tir.BinOp: _binop, tir.UnaryOp: _unary, tir.Cast: _cast,  # type: ignore[dict-item]
    tir.Call: _any_tangent("a function of a tangent (other than a sum or a scaling) is not "
                           "linear"),
    tir.Compare: _any_tangent("a comparison of a tangent is not linear"),
    tir.CompareChain: _any_tangent("a comparison of a tangent is not linear"),
    tir.BoolOp: _any_tangent("a truth value of a tangent is not linear"),
    tir.Truth: _any_tangent("a truth value of a tangent is not linear"),
    tir.Reduce: _reduce, tir.Scan: _reduce, tir.Product: _product,  # type: ignore[dict-item]
    tir.IfExp: _ifexp, tir.KernelCall: _kernel_call,  # type: ignore[dict-item]
}


def _error(e: tir.Expr, reason: str) -> CompileError:
    return CompileError(f"a custom_jvp rule must be linear in its tangents: {reason} (the "
                        "derivative builds substitute f(x) by f(stop(x)) + jvp(stop(x), "
                        "x - stop(x)), which keeps only the linear part)", e.span)
