"""Frontend: typing rules of Python's statement sugar, for the internal builtins that
desugar.py and iteration.py write.

`__ember_unpack(v, n)` (the value of `a, b, c = v`): a tuple must have `n` items (checked at
compile time); an array (1-D: its elements, n-D: its rows) is checked at run time by
`__ember_unpack_check(v, n)`, which raises CPython's ValueError ("too many values to unpack
(expected 3)", "not enough values to unpack (expected 3, got 2)") through the prelude's
`unpack_check` (ember/prelude/scalars.py). `__ember_pick(k, e0, e1, ...)`: item `k` of a tuple
of scalars (`for w in (0.5, 1.0)` inside enumerate/zip, or a loop over a tuple value), one
common type after promotion; a loop over a tuple literal of arrays duplicates its body instead
(iteration.py), so stores through the loop variable mark the right array written.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Final

from .. import types as T
from ..errors import Span
from ..prelude import scalars as prelude_scalars
from . import builtins, tir
from .operators import Typer, cast
from .prelude import specialize


def unpack(typer: Typer, node: ast.Call, row: builtins.Builtin) -> tir.Expr:
    """The value being unpacked into `want` names (a tuple of that many items, or an array)."""
    value = typer.expr(node.args[0])
    want = _count(node)
    t = value.type
    if isinstance(t, T.Array):
        return value
    have = len(t.items) if isinstance(t, T.Tuple) else None
    if have != want:
        what = f"{have} values" if have is not None else f"a value of type {t}"
        raise typer.error(node.args[0], f"cannot unpack {what} into {want} names; unpack a "
                          "tuple of that length or an array")
    return value


def unpack_check(typer: Typer, node: ast.Call, row: builtins.Builtin) -> tir.Expr:
    """The run-time length check of an unpacked array (a no-op constant for a tuple)."""
    value = typer.expr(node.args[0])
    span = typer.src.span(node)
    if not isinstance(value.type, T.Array):
        return tir.Const(T.py_int, span, 0)
    have = tir.Dim(T.py_int, span, value, 0)
    want = tir.Const(T.py_int, span, _count(node))
    return specialize(typer, node, prelude_scalars.unpack_check, [have, want])


def _count(node: ast.Call) -> int:
    count = node.args[1]
    assert isinstance(count, ast.Constant) and isinstance(count.value, int)
    return count.value


def pick(typer: Typer, node: ast.Call, row: builtins.Builtin) -> tir.Expr:
    """`__ember_pick(k, e0, e1, ...)`: item `k` (in range) of the listed scalars."""
    index = cast(typer.expr(node.args[0]), T.i64)
    return choose(typer, node, index, [typer.expr(a) for a in node.args[1:]])


def choose(typer: Typer, node: ast.AST, index: tir.Expr, items: list[tir.Expr]) -> tir.Expr:
    """Item `index` of `items` (scalars of one common type): a chain of selects."""
    if not items:
        raise typer.error(node, "this loop picks items from an empty tuple; loop over the "
                          "tuple itself ('for v in ():' runs no iteration) or drop the loop")
    common: T.Type | None = items[0].type
    for item in items[1:]:
        common = T.join(common, item.type) if common is not None else None
    if not isinstance(common, T.Scalar):
        shown = ", ".join(str(i.type) for i in items)
        if any(isinstance(i.type, T.Array) for i in items):
            raise typer.error(node, f"this loop picks its items from a tuple holding arrays "
                              f"({shown}), which kernels support only in a loop directly over a "
                              "tuple written out, e.g. 'for a in (x, y):'; index the arrays "
                              "instead")
        raise typer.error(node, f"the items of an iterated tuple need one common type, not "
                          f"({shown}); convert them, e.g. float(...)")
    return select_item(typer.src.span(node), index, items, common)


def select_item(span: Span, index: tir.Expr, items: list[tir.Expr], common: T.Type) -> tir.Expr:
    """Item `index` (in range, of `index`'s type) of `items`, as `common`: a chain of selects."""
    result = cast(items[-1], common)
    for k in range(len(items) - 2, -1, -1):
        test = tir.Compare(T.boolean, span, "eq", index, tir.Const(index.type, span, k))
        result = tir.IfExp(common, span, test, cast(items[k], common), result)
    return result


def tuple_items(value: tir.Expr) -> list[tir.Expr]:
    """The items of a tuple-typed expression."""
    assert isinstance(value.type, T.Tuple)
    if isinstance(value, tir.TupleExpr):
        return list(value.items)
    return [tir.TupleGet(t, value.span, value, k) for k, t in enumerate(value.type.items)]


SPECIAL_FORMS: Final[dict[str, Callable[[Typer, ast.Call, builtins.Builtin], tir.Expr]]] = {
    "unpack": unpack, "unpack_check": unpack_check, "pick": pick,
}
"""The rules of the internal builtins above (calls.py merges them into its special forms)."""
