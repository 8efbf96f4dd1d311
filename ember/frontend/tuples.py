"""Frontend: tuples read with a run-time index (`t[k]`) and membership (`x in (1, 2, 3)`).

Input: a subscript or comparison whose tuple operand is typed. Output: `t[k]` of a tuple
whose items share one type (scalars after promotion, or arrays of one type) is a chain of
`IfExp` on Python's index (a negative `k` counts from the end; out of range raises
IndexError "tuple index out of range" through ember/prelude/scalars.py); `x in t` is
`x == t[0] or x == t[1] ...` typed as written (`not in`: its negation), as CPython compares
numbers. Lists have their own `in` (frontend/lists.py); tuples of constants indexed at run
time are constant arrays (frontend/constants.py).
"""

from __future__ import annotations

import ast

from .. import types as T
from ..prelude import scalars as prelude_scalars
from . import tir
from .operators import Typer, cast
from .prelude import specialize
from .sugar import select_item, tuple_items


def dynamic_item(typer: Typer, node: ast.Subscript, base: tir.Expr) -> tir.Expr:
    """`t[k]`, `k` known at run time, of a tuple whose items share one type."""
    items = tuple_items(base)
    common = _common_type(items)
    if common is None:
        shown = ", ".join(str(i.type) for i in items)
        raise typer.error(node, f"a tuple of different item types ({shown}) can only be "
                          "indexed with a constant integer; unpack it (a, b = t) or index "
                          "it with a constant")
    index = typer.expr(node.slice)
    if not (isinstance(index.type, T.Scalar) and (index.type.is_int or index.type.is_bool)):
        raise typer.error(node.slice, f"tuple index must be an integer, not {index.type}")
    span = typer.src.span(node)
    size = tir.Const(T.py_int, span, len(items))
    k = specialize(typer, node, prelude_scalars.tuple_index, [cast(index, T.py_int), size])
    return select_item(span, k, items, common)


def membership(typer: Typer, node: ast.Compare) -> tir.Expr:
    """`x in t` / `x not in t` for a tuple `t` of numbers."""
    op = node.ops[0]
    if len(node.ops) != 1 or not isinstance(op, ast.In | ast.NotIn):
        raise typer.error(node, "'in' / 'not in' cannot be chained with other comparisons in "
                          "kernels; split the test with 'and'")
    container = typer.expr(node.comparators[0])
    if not isinstance(container.type, T.Tuple) or not all(
            isinstance(i, T.Scalar) for i in container.type.items):
        hint = (f"np.any({ast.unparse(node.comparators[0])} == {ast.unparse(node.left)})"
                if isinstance(container.type, T.Array) else "a tuple or a list of numbers")
        raise typer.error(node, f"'in' needs a tuple or a list of numbers in kernels, not "
                          f"{container.type}; write {hint}")
    tests: list[ast.expr] = [
        ast.Compare(node.left, [ast.Eq()], [item]) for item in _item_nodes(node.comparators[0],
                                                                       container)]
    test: ast.expr = (ast.BoolOp(ast.Or(), tests) if len(tests) > 1 else tests[0]) if tests \
        else ast.Constant(False)
    if isinstance(op, ast.NotIn):
        test = ast.UnaryOp(ast.Not(), test)
    return typer.expr(ast.fix_missing_locations(ast.copy_location(test, node)))


def _item_nodes(node: ast.expr, container: tir.Expr) -> list[ast.expr]:
    assert isinstance(container.type, T.Tuple)
    if isinstance(node, ast.Tuple):
        return list(node.elts)
    return [ast.copy_location(ast.Subscript(node, ast.Constant(k), ast.Load()), node)
            for k in range(len(container.type.items))]


def _common_type(items: list[tir.Expr]) -> T.Type | None:
    if not items:
        return None
    common: T.Type | None = items[0].type
    for item in items[1:]:
        common = T.join(common, item.type) if common is not None else None
    return common if isinstance(common, T.Scalar | T.Array) else None
