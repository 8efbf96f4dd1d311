"""The typing rules that expressions (exprs.py), calls (calls.py) and statements (stmts.py)
share: operator tables, implicit conversions (`cast`, `narrowing`), truth values, binary
arithmetic, array attributes and name lookups. It sits below exprs.py and calls.py: exprs.py
imports calls.py, both import this module, and the rules see the typer only through the
`Typer` protocol, so nothing imports back up.
"""

from __future__ import annotations

import ast
import math
from typing import Any, Final, Protocol

import numpy as np

from .. import types as T
from ..errors import CompileError
from . import complexes, tir
from .raises import checked_binop
from .scope import Scope
from .source import Source
from .unsupported import attribute_message


class Typer(Protocol):
    """What the typing rules use of `exprs.ExprTyper`."""

    src: Source
    scope: Scope
    ad: bool
    """Typing code for differentiation (derivative builds)."""

    def expr(self, node: ast.expr) -> tir.Expr: ...

    def error(self, node: ast.AST, message: str) -> CompileError: ...

    def resolve(self, node: ast.expr) -> Any: ...


ARITH: Final = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv",
                ast.FloorDiv: "floordiv", ast.Mod: "mod", ast.Pow: "pow",
                ast.BitAnd: "and", ast.BitOr: "or", ast.BitXor: "xor",
                ast.LShift: "lshift", ast.RShift: "rshift"}
SYMBOL: Final = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//",
                 "mod": "%", "pow": "**", "and": "&", "or": "|", "xor": "^",
                 "lshift": "<<", "rshift": ">>"}
COMPARE: Final = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt",
                  ast.GtE: "ge", ast.Is: "eq", ast.IsNot: "ne"}
BITWISE: Final = {"and", "or", "xor", "lshift", "rshift"}
_BOOL_ARITH: Final = {"add": "or", "mul": "and"}
"""NumPy bools: True + True is True (logical or), True * False is False (logical and)."""


def cast(expr: tir.Expr, to: T.Type) -> tir.Expr:
    """`expr` converted to `to` (constants fold; same-type casts vanish)."""
    if expr.type == to:
        return expr
    complexes.guard_cast(expr, to)  # complex -> real: NumPy's ComplexWarning, refused
    if complexes.involved(expr.type, to):
        return complexes.convert(expr, to)
    if isinstance(expr, tir.Const) and isinstance(to, T.Scalar):
        return tir.Const(to, expr.span, convert(expr.value, to))
    return tir.Cast(to, expr.span, expr)


_CATEGORY: Final = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}
"""Value categories bool < int < float < complex: a conversion down this order loses the
value."""


def narrowing(have: T.Type, want: T.Type) -> str | None:
    """The explicit conversion (`int`, `np.int32`, ...) a user must write to turn a `have`
    value into a `want` one, or None when the implicit conversion is fine. As a type checker
    does, float -> int and int/float -> bool are refused; int -> float is allowed."""
    if not (isinstance(have, T.Scalar) and isinstance(want, T.Scalar)):
        return None
    if _CATEGORY[have.kind] <= _CATEGORY[want.kind]:
        return None
    if have.is_complex and not want.is_bool:
        return "np.real"  # then abs(z) or an int(...) conversion if that is what is meant
    return str(want) if want.weak else f"np.{want.np_dtype.name}"


def convert(value: bool | int | float, to: T.Scalar) -> bool | int | float:
    if to.is_bool:
        return bool(value)
    if to.is_int:
        if isinstance(value, float) and not math.isfinite(value):
            return 0
        wrapped = int(value) & ((1 << to.bits) - 1)
        if to.kind == "i" and wrapped >= 1 << (to.bits - 1):
            wrapped -= 1 << to.bits
        return wrapped
    return float(np.dtype(to.np_dtype).type(value))


def truth(value: tir.Expr) -> tir.Expr:
    t = value.type
    if isinstance(t, T.Scalar) and t.is_bool:
        return value
    return tir.Truth(T.py_bool if isinstance(t, T.Scalar) and t.weak else T.boolean,
                     value.span, value)


def binary(typer: Typer, node: ast.AST, op: str, left: tir.Expr,
           right: tir.Expr) -> tir.Expr:
    lt, rt = left.type, right.type
    if not (isinstance(lt, T.Scalar) and isinstance(rt, T.Scalar)):
        raise typer.error(node, f"unsupported operand types for {SYMBOL[op]}: {lt} and {rt}"
                          + ("; whole-array arithmetic is not supported, write a loop"
                             if isinstance(lt, T.Array) or isinstance(rt, T.Array) else ""))
    span = typer.src.span(node)
    if complexes.involved(lt, rt):
        return complexes.binary(op, span, left, right)
    if op in BITWISE:
        return _bitwise(typer, node, op, left, right)
    if lt.is_bool and rt.is_bool and not (lt.weak and rt.weak) and op in _BOOL_ARITH:
        return tir.BinOp(T.boolean, span, _BOOL_ARITH[op], cast(left, T.boolean),
                         cast(right, T.boolean))
    t = T.promote(_arith_operand(lt, rt), _arith_operand(rt, lt))
    if op == "truediv":
        t = T.float_of(t)
    e = tir.BinOp(t, span, op, cast(left, t), cast(right, t))
    return checked_binop(typer, node, e, lt.is_float or rt.is_float)


def _arith_operand(t: T.Scalar, other: T.Scalar) -> T.Scalar:
    """A bool operand counts as an int, except a NumPy bool beside a NumPy int or float,
    which takes the other's type (NEP 50: bool_array / f32_array is f32)."""
    if t.is_bool and not t.weak and not other.is_bool and not other.weak:
        return other
    return T.arith_operand(t)


def _bitwise(typer: Typer, node: ast.AST, op: str, left: tir.Expr,
             right: tir.Expr) -> tir.Expr:
    lt, rt = left.type, right.type
    assert isinstance(lt, T.Scalar) and isinstance(rt, T.Scalar)
    if lt.is_float or rt.is_float:
        raise typer.error(node, f"bitwise '{SYMBOL[op]}' needs integer operands, "
                          f"not {lt} and {rt}")
    both_bool = lt.is_bool and rt.is_bool and op in ("and", "or", "xor")
    t = T.promote(lt, rt) if both_bool else T.promote(_arith_operand(lt, rt),
                                                      _arith_operand(rt, lt))
    return tir.BinOp(t, typer.src.span(node), op, cast(left, t), cast(right, t))


def array_attribute(typer: Typer, node: ast.Attribute, base: tir.Expr) -> tir.Expr:
    span = typer.src.span(node)
    if not isinstance(base.type, T.Array):
        raise typer.error(node, attribute_message(node.attr, str(base.type), False))
    ndim = base.type.ndim
    dims = tuple(tir.Dim(T.py_int, span, base, k) for k in range(ndim))
    if node.attr == "shape":
        return tir.TupleExpr(T.Tuple((T.py_int,) * ndim), span, dims)
    if node.attr == "ndim":
        return tir.Const(T.py_int, span, ndim)
    if node.attr == "size":
        size: tir.Expr = tir.Const(T.py_int, span, 1)
        for d in dims:
            size = tir.BinOp(T.py_int, span, "mul", size, d)
        return size
    raise typer.error(node, attribute_message(node.attr, str(base.type), True))


def is_dotted(node: ast.expr) -> bool:
    """`name` or `name.attr.attr`: something `ExprTyper.resolve` can look up."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def is_local(scope: Scope, node: ast.expr) -> bool:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return isinstance(node, ast.Name) and (node.id in scope.params or node.id in scope.assigned)
