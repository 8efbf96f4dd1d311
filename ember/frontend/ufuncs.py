"""Frontend: NumPy's operator ufuncs called as functions -> the operator expression.

Input: a call such as `np.add(a, b)`, `np.greater(a, b)`, `np.negative(a)`, `np.square(a)`,
`np.logical_and(a, b)` (rows of frontend/builtins.py with rule "ufunc_operator"). Output:
the typed expression of the Python operator that computes the same thing (`a + b`, `a > b`,
`-a`, `a * a`, `(a != 0) & (b != 0)`), built as AST at the call's location and typed like
the user had written it: NumPy's promotion, elementwise on arrays, one fused loop nest.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Final

from . import tir
from .operators import Typer

Form = Callable[..., ast.expr]


def _binary(op: ast.operator) -> Form:
    return lambda a, b: ast.BinOp(a, op, b)


def _compare(op: ast.cmpop) -> Form:
    return lambda a, b: ast.Compare(a, [op], [b])


def _truth(x: ast.expr) -> ast.expr:
    return ast.Compare(x, [ast.NotEq()], [ast.Constant(0)])


def _logical(op: ast.operator) -> Form:
    return lambda a, b: ast.BinOp(_truth(a), op, _truth(b))


FORMS: Final[dict[str, tuple[int, Form]]] = {
    "add": (2, _binary(ast.Add())), "subtract": (2, _binary(ast.Sub())),
    "multiply": (2, _binary(ast.Mult())), "divide": (2, _binary(ast.Div())),
    "true_divide": (2, _binary(ast.Div())), "floor_divide": (2, _binary(ast.FloorDiv())),
    "mod": (2, _binary(ast.Mod())), "remainder": (2, _binary(ast.Mod())),
    "bitwise_and": (2, _binary(ast.BitAnd())), "bitwise_or": (2, _binary(ast.BitOr())),
    "bitwise_xor": (2, _binary(ast.BitXor())), "left_shift": (2, _binary(ast.LShift())),
    "right_shift": (2, _binary(ast.RShift())),
    "greater": (2, _compare(ast.Gt())), "greater_equal": (2, _compare(ast.GtE())),
    "less": (2, _compare(ast.Lt())), "less_equal": (2, _compare(ast.LtE())),
    "equal": (2, _compare(ast.Eq())), "not_equal": (2, _compare(ast.NotEq())),
    "logical_and": (2, _logical(ast.BitAnd())), "logical_or": (2, _logical(ast.BitOr())),
    "logical_xor": (2, _logical(ast.BitXor())),
    "logical_not": (1, lambda x: ast.Compare(x, [ast.Eq()], [ast.Constant(0)])),
    "negative": (1, lambda x: ast.UnaryOp(ast.USub(), x)),
    "positive": (1, lambda x: ast.UnaryOp(ast.UAdd(), x)),
    "invert": (1, lambda x: ast.UnaryOp(ast.Invert(), x)),
    "bitwise_not": (1, lambda x: ast.UnaryOp(ast.Invert(), x)),
    "square": (1, lambda x: ast.BinOp(x, ast.Mult(), x)),
}
"""NumPy function name -> (number of arguments, the operator expression it computes)."""


def call(typer: Typer, node: ast.Call, row: object) -> tir.Expr:
    """`np.<name>(...)` of a FORMS row, typed as its operator expression."""
    name = getattr(row, "op", "")
    arity, form = FORMS[name]
    if node.keywords or len(node.args) != arity:
        raise typer.error(node, f"np.{name}() takes {arity} positional argument(s) in kernels "
                          "(no out=, where= or dtype=)")
    return typer.expr(_located(form(*node.args), node))


def _located(expr: ast.expr, at: ast.AST) -> ast.expr:
    """`expr` with the call's location on every node it adds (the arguments keep theirs)."""
    for sub in ast.walk(expr):
        if isinstance(sub, ast.expr) and not hasattr(sub, "lineno"):
            ast.copy_location(sub, at)
    return expr
