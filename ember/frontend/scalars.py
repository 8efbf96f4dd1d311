"""Frontend: Python's scalar builtins that are not one op: `float('inf')` (a string CPython's
float() accepts, as a constant), `divmod(a, b)`, `n.bit_length()`, and math.factorial /
math.comb / math.perm (prelude routines: ember/prelude/scalars.py).

calls.py reaches them through one hook each: `float_literal` before a builtin's arguments are
typed, `SPECIAL_FORMS` (divmod), `method` for methods of scalar values, and `ROUTINES`
(merged into prelude_table.py's rows).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Final

from .. import types as T
from ..prelude import scalars as prelude_scalars
from . import builtins, tir
from .operators import Typer, binary, cast
from .prelude import Bound, Routine, specialize
from .raises import add_site


def float_literal(typer: Typer, node: ast.Call, target: Any) -> tir.Expr | None:
    """`float('inf')`, `float("-Infinity")`, `float('nan')`, `float('1.5')`: the constant
    (None if `node` is not float() of a string literal)."""
    if target is not float or len(node.args) != 1 or node.keywords:
        return None
    arg = node.args[0]
    if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
        return None
    try:
        value = float(arg.value)
    except ValueError:
        raise typer.error(arg, f"could not convert string to float: {arg.value!r}; kernels "
                          "take float() of a number literal or of 'inf', '-inf', 'nan'") from None
    return tir.Const(T.py_float, typer.src.span(node), value)


def divmod_(typer: Typer, node: ast.Call, row: builtins.Builtin) -> tir.Expr:
    """`divmod(a, b)` of scalars: `(a // b, a % b)` with Python's signs (ir/ops.py)."""
    if len(node.args) != 2 or node.keywords:
        raise typer.error(node, "divmod() takes two arguments, divmod(a, b)")
    a, b = (typer.expr(x) for x in node.args)
    for value, arg in ((a, node.args[0]), (b, node.args[1])):
        if not isinstance(value.type, T.Scalar):
            raise typer.error(arg, f"divmod() takes scalars in kernels, not {value.type}; "
                              "write a // b and a % b for arrays")
        if any(isinstance(n, tir.KernelCall) for n in tir.walk(value)):
            raise typer.error(arg, "divmod() evaluates its arguments twice in kernels; assign "
                              "this call to a variable first")
    quotient = _divmod_check(typer, node, binary(typer, node, "floordiv", a, b))
    remainder = _divmod_check(typer, node, binary(typer, node, "mod", a, b))
    t = T.Tuple((quotient.type, remainder.type))
    return tir.TupleExpr(t, typer.src.span(node), (quotient, remainder))


def _divmod_check(typer: Typer, node: ast.Call, e: tir.Expr) -> tir.Expr:
    """`e` raising CPython's "float divmod()" for a float division by zero (error_model=
    "python"; integers keep "integer division or modulo by zero")."""
    if not (isinstance(e, tir.BinOp) and e.check is not None and _scalar(e).is_float):
        return e
    span = typer.src.span(node)
    site = add_site(typer.scope.callees, "ZeroDivisionError", "float divmod()", "", span,
                    typer.src.name)
    return replace(e, check=site)


def _scalar(e: tir.Expr) -> T.Scalar:
    assert isinstance(e.type, T.Scalar)
    return e.type


def method(typer: Typer, node: ast.Call) -> tir.Expr | None:
    """A method of a scalar value (`n.bit_length()`), or None if `node` is not one."""
    func = node.func
    if not (isinstance(func, ast.Attribute) and func.attr in _METHODS):
        return None
    base = typer.expr(func.value)
    if not isinstance(base.type, T.Scalar):
        return None
    return _METHODS[func.attr](typer, node, base)


def _bit_length(typer: Typer, node: ast.Call, base: tir.Expr) -> tir.Expr:
    t = base.type
    assert isinstance(t, T.Scalar)
    if node.args or node.keywords:
        raise typer.error(node, "bit_length() takes no arguments; write n.bit_length()")
    if not (t.is_int or t.is_bool):
        raise typer.error(node, f"bit_length() is a method of integers, not of {t}; "
                          "write int(x).bit_length()")
    span = typer.src.span(node)
    value = cast(base, T.i64)
    length: tir.Expr = tir.Call(T.py_int, span, "bit_length", (value,))
    if t.kind == "u" and t.bits == 64:  # values >= 2**63 are negative as int64
        high = tir.Compare(T.boolean, span, "lt", value, tir.Const(T.i64, span, 0))
        length = tir.IfExp(T.py_int, span, high, tir.Const(T.py_int, span, 64), length)
    return length


_METHODS: Final[dict[str, Callable[[Typer, ast.Call, tir.Expr], tir.Expr]]] = {
    "bit_length": _bit_length,
}


# --- math.factorial / comb / perm (ember/prelude/scalars.py) ---------------------------------
def _integer(typer: Typer, node: ast.Call, value: tir.Expr, name: str) -> tir.Expr:
    t = value.type
    if not (isinstance(t, T.Scalar) and (t.is_int or t.is_bool)):
        raise typer.error(node, f"{name}() takes integers in kernels, not {t} (CPython: "
                          f"'{t}' object cannot be interpreted as an integer); write int(x)")
    return cast(value, T.i64)


def _int_routine(func: Any, name: str) -> Callable[[Typer, ast.Call, Bound], tir.Expr]:
    def pick(typer: Typer, node: ast.Call, b: Bound) -> tir.Expr:
        n = _integer(typer, node, b["n"], name)
        args = [n] if "k" not in b else [
            n, n if b["k"] is None else _integer(typer, node, b["k"], name)]
        return cast(specialize(typer, node, func, args), T.py_int)
    return pick


ROUTINES: Final[dict[Any, Routine]] = {
    math.factorial: Routine("math.factorial", ("n",),
                            _int_routine(prelude_scalars.factorial, "math.factorial")),
    math.comb: Routine("math.comb", ("n", "k"), _int_routine(prelude_scalars.comb, "math.comb")),
    math.perm: Routine("math.perm", ("n", "k"), _int_routine(prelude_scalars.perm, "math.perm"),
                       {"k": None}),
}


SPECIAL_FORMS: Final[dict[str, Callable[[Typer, ast.Call, builtins.Builtin], tir.Expr]]] = {
    "divmod": divmod_,
}
