"""Frontend step 4c: statements -> typed tree statements, once variable types are final.

One `visit_<Node>` per statement class. Assignments convert values to the variable's single
type; stores convert to the array's dtype; `for` accepts `range(...)` only. Also records which
array parameters are written and which local arrays the kernel owns (may return).
"""

from __future__ import annotations

import ast

from .. import types as T
from ..parallel import prange
from . import aliasing, arrays, complex_calls, creation, selection, tir, views
from .builtins import is_inplace
from .exits import RETVAL
from .exprs import ExprTyper
from .operators import cast, narrowing
from .raises import RaiseBuilder, bounds_site
from .scope import Scope
from .unsupported import node_kind


class StmtBuilder(ExprTyper, RaiseBuilder):
    """Builds the typed body of one kernel; `Scope.final` must be set."""

    def __init__(self, scope: Scope, ret: T.Type | None, ad: bool = False) -> None:
        super().__init__(scope)
        self.ret = ret
        self.ad = ad
        """Code for differentiation: prange loops run sequentially (Enzyme sees plain loops)."""
        self.returned: T.Type | None = None

    def block(self, stmts: list[ast.stmt]) -> tuple[tir.Stmt, ...]:
        out: list[tir.Stmt] = []
        for stmt in stmts:
            method = getattr(self, f"visit_{type(stmt).__name__}", None)
            if method is None:
                raise self.error(stmt, f"unsupported statement ({type(stmt).__name__}) in kernel")
            out.extend(method(stmt))
        return tuple(out)

    def visit_Pass(self, node: ast.Pass) -> list[tir.Stmt]:
        return []

    def visit_Expr(self, node: ast.Expr) -> list[tir.Stmt]:
        if isinstance(node.value, ast.Constant):  # docstrings and bare constants
            return []
        fill = creation.fill_statement(self, node.value)  # a.fill(v)
        if fill is not None:
            return [fill]
        value = self.expr(node.value)
        if isinstance(value, tir.Const):  # e.g. the unpacking check of a tuple (sugar.py)
            return []
        return [tir.ExprStmt(self.src.span(node), value)]

    def visit_Assign(self, node: ast.Assign) -> list[tir.Stmt]:
        target = node.targets[0]
        if is_inplace(node.value):
            return self.augmented(node, target)
        if isinstance(target, ast.Subscript):
            return [self.store(target, node.value)]
        if not isinstance(target, ast.Name):
            raise self.error(target, f"cannot assign to {node_kind(target)} "
                             f"('{ast.unparse(target)}'); kernels assign to names and array "
                             "elements (a[i] = ...)")
        return [self.assign(target.id, self.expr(node.value), node)]

    def augmented(self, node: ast.Assign, target: ast.expr) -> list[tir.Stmt]:
        """`x op= y` (desugared to `x = __ember_inplace(x, x op y)`): arrays in place."""
        call = node.value
        assert isinstance(call, ast.Call)
        if selection.is_mask_target(self, target):  # a[mask] += v: a[mask] = a[mask] + v
            assert isinstance(target, ast.Subscript)
            return [self.store(target, call.args[1])]
        dest = self.expr(target) if isinstance(target, ast.Name | ast.Subscript) else None
        if dest is not None and isinstance(dest.type, T.Array):
            arrays.written(self, target)
            return [arrays.inplace(self, target, dest, call)]
        return self.visit_Assign(ast.copy_location(ast.Assign([target], call.args[1]), node))

    def visit_AnnAssign(self, node: ast.AnnAssign) -> list[tir.Stmt]:
        if node.value is None:
            return []
        assert isinstance(node.target, ast.Name)
        return [self.assign(node.target.id, self.expr(node.value), node)]

    def assign(self, name: str, value: tir.Expr, node: ast.stmt) -> tir.Stmt:
        want = self.scope.var_type(name)
        assert want is not None
        if isinstance(value.type, T.Array) or isinstance(want, T.Array | T.Tuple):
            if value.type != want and not _tuple_fits(value.type, want):
                what = "the return value" if name == RETVAL else f"'{name}'"
                raise self.error(node, f"cannot assign {value.type} to {what} of type {want}")
        elif not isinstance(value.type, T.Scalar):
            raise self.error(node, f"cannot assign {value.type} to '{name}'")
        self._track_alias(name, value)
        value_node = getattr(node, "value", None) or node
        return tir.Assign(self.src.span(node), name, self.convert(value, want, value_node, name))

    def convert(self, value: tir.Expr, want: T.Type, node: ast.expr | ast.stmt,
                name: str) -> tir.Expr:
        """`value` converted to the declared type of variable `name` (RETVAL: the return
        type); a conversion that loses the value (float -> int) must be written out."""
        have = value.type
        if isinstance(have, T.Tuple) and isinstance(want, T.Tuple) and _tuple_fits(have, want):
            elts = node.elts if isinstance(node, ast.Tuple) else [node] * len(want.items)
            for k, (h, w, n) in enumerate(zip(have.items, want.items, elts, strict=False)):
                self._check_narrowing(n, h, w, name, k)
        else:
            self._check_narrowing(node, have, want, name)
        return _cast_value(value, want)

    def _check_narrowing(self, node: ast.AST, have: T.Type, want: T.Type, name: str,
                         item: int | None = None) -> None:
        fix = narrowing(have, want)
        if fix is None:
            return
        declared = self.ret if name == RETVAL else self.scope.var_type(name)
        what = f"item {item} of the {'returned ' if name == RETVAL else ''}tuple has " \
            if item is not None else ""
        if name == RETVAL:
            head = (f"{what or 'this return value has '}type {have}, but kernel "
                    f"'{self.src.name}' is declared to return {declared}")
        else:
            head = (f"{what or 'this value has '}type {have}, but '{name}' is declared "
                    f"{declared}")
        other = "" if name == RETVAL else ", or store it in a new variable"
        raise self.error(node, f"{head}; write {fix}(...) to convert it explicitly{other}"
                         + _division_hint(node, want))

    def _track_alias(self, name: str, value: tir.Expr) -> None:
        """A view's name aliases its base: stores through it mark the base written."""
        aliasing.track(self.scope, name, value)

    def store(self, target: ast.Subscript, value_node: ast.expr) -> tir.Stmt:
        complex_calls.refuse_part_store(self, target)  # a.real[i] = v
        masked = selection.store(self, target, value_node)  # a[mask] = v
        if masked is not None:
            return masked
        base = self.expr(target.value)
        if not isinstance(base.type, T.Array):
            raise self.error(target, f"cannot store into '{ast.unparse(target.value)}': "
                             f"it is a {base.type}, not an array")
        name = views.root_name(target.value)
        if name is not None:
            aliasing.mark_written(self.scope, name)
        parts = views.expand(self, target, base.type.ndim)
        if not views.is_element(self, parts, base.type.ndim):
            dest = views.view(self, target, base, parts)
            return arrays.store(self, target, dest, self.expr(value_node), value_node)
        indices, wrap = self.indices(target, base, parts)
        value = self.scalar(value_node, "stored value")
        return tir.Store(self.src.span(target), base, indices, wrap, cast(value, base.type.dtype),
                         bounds_site(self, target, target.value))

    def visit_If(self, node: ast.If) -> list[tir.Stmt]:
        cond = self.condition(node.test)
        return [tir.If(self.src.span(node), cond, self.block(node.body), self.block(node.orelse))]

    def visit_While(self, node: ast.While) -> list[tir.Stmt]:
        cond = self.condition(node.test)
        return [tir.While(self.src.span(node), cond, self.block(node.body))]

    def visit_For(self, node: ast.For) -> list[tir.Stmt]:
        if not isinstance(node.target, ast.Name):
            raise self.error(node.target, "for loops in kernels take a single loop variable")
        start, stop, step = self.range_args(node.iter)
        var = node.target.id
        vt = self.scope.var_type(var)
        if not (isinstance(vt, T.Scalar) and vt.is_int):
            raise self.error(node.target, f"loop variable '{var}' must stay an integer; "
                             f"it is also assigned {vt} values")
        sign = _sign(step)
        if sign == 0 and isinstance(step, tir.Const):
            raise self.error(node.iter, "range() step must not be zero")
        body = self.block(node.body)
        parallel = (isinstance(node.iter, ast.Call)  # derivative builds: parallelad.py
                    and self.resolve(node.iter.func) is prange)
        return [tir.For(self.src.span(node), var, start, stop, step, sign, body,
                        parallel=parallel)]

    def range_args(self, node: ast.expr) -> tuple[tir.Expr, tir.Expr, tir.Expr]:
        if not (isinstance(node, ast.Call) and self.resolve(node.func) in (range, prange)
                and 1 <= len(node.args) <= 3 and not node.keywords):
            raise self.error(node, "kernels loop over range(stop), range(start, stop), "
                             "range(start, stop, step) or prange(...) only")
        args = []
        for a in node.args:
            value = self.expr(a)
            t = value.type
            if not (isinstance(t, T.Scalar) and (t.is_int or t.is_bool)):
                raise self.error(a, f"range() arguments must be integers, not {t}")
            args.append(cast(value, T.py_int))
        span = self.src.span(node)
        zero, one = tir.Const(T.py_int, span, 0), tir.Const(T.py_int, span, 1)
        if len(args) == 1:
            return zero, args[0], one
        return args[0], args[1], args[2] if len(args) == 3 else one

    def visit_Return(self, node: ast.Return) -> list[tir.Stmt]:
        span = self.src.span(node)
        if node.value is None:
            return [tir.Return(span, None)]
        value = self.expr(node.value)
        want = self.ret if self.ret is not None else value.type
        if isinstance(want, T.NoneType):
            raise self.error(node, "kernel annotated '-> None' returns a value")
        if isinstance(value.type, T.NoneType) or (value.type != want and not (
                isinstance(value.type, T.Scalar) and isinstance(want, T.Scalar))
                and not _tuple_fits(value.type, want)):
            raise self.error(node, f"cannot return {value.type} from a kernel "
                             f"declared to return {want}")
        self.returned = want
        return [tir.Return(span, self.convert(value, want, node.value, RETVAL))]


def _tuple_fits(have: T.Type, want: T.Type) -> bool:
    return (isinstance(have, T.Tuple) and isinstance(want, T.Tuple)
            and len(have.items) == len(want.items))


def _cast_value(value: tir.Expr, want: T.Type) -> tir.Expr:
    if isinstance(want, T.Tuple) and isinstance(value.type, T.Tuple) and value.type != want:
        items: list[tir.Expr] = [tir.TupleGet(t, value.span, value, k)
                                 for k, t in enumerate(value.type.items)]
        if isinstance(value, tir.TupleExpr):
            items = list(value.items)
        return tir.TupleExpr(want, value.span,
                             tuple(cast(i, w) for i, w in zip(items, want.items, strict=True)))
    return cast(value, want)


def _division_hint(node: ast.AST, want: T.Type) -> str:
    is_div = isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)
    return " (or '//' for floor division)" if is_div and isinstance(want, T.Scalar) \
        and want.is_int else ""


def _sign(step: tir.Expr) -> int:
    if isinstance(step, tir.Const):
        return (step.value > 0) - (step.value < 0)
    return 0
