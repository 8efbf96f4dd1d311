"""Frontend: whole-array expressions -> `tir.ArrayMap`, array assignments -> `tir.ArrayStore`.

Input: operands already typed (exprs.py, calls.py, stmts.py call in here when one of them is
an array). Output: one `ArrayMap` per expression tree. The scalar typing rules are reused
unchanged: each array operand becomes an `Elem` placeholder of its dtype (strong, as NumPy's
array dtypes are), each non-constant scalar operand an `Elem` of its own (possibly weak) type
evaluated once, and the rule builds the scalar body, so NEP 50 promotion, bool arithmetic,
mixed-sign comparisons and every builtin of builtins.py work elementwise without being listed
again. Operands that are themselves `ArrayMap`s are inlined (one fused loop nest, no
temporaries). Shapes broadcast at run time (ir/arrays.py); the broadcast error names the
shapes of the fused expression's array inputs, which for a binary operation is NumPy's
message exactly. Division checks (error_model="python") are dropped inside array bodies:
NumPy arrays divide by zero without raising.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import replace
from typing import Final

import numpy as np

from .. import types as T
from . import aliasing, builtins, tir, views
from .operators import Typer, cast, truth
from .raises import add_site

Rule = Callable[..., tir.Expr]

BROADCAST: Final = "operands could not be broadcast together with shapes "
INTO: Final = "could not broadcast input array from shape {} into shape {}"
_UFUNC: Final = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide",
                 ast.FloorDiv: "floor_divide", ast.Mod: "remainder", ast.Pow: "power",
                 ast.BitAnd: "bitwise_and", ast.BitOr: "bitwise_or",
                 ast.BitXor: "bitwise_xor", ast.LShift: "left_shift",
                 ast.RShift: "right_shift"}


def any_array(values: list[tir.Expr] | tuple[tir.Expr, ...]) -> bool:
    return any(isinstance(v.type, T.Array) for v in values)


def lift(typer: Typer, node: ast.AST, operands: list[tir.Expr], rule: Rule) -> tir.Expr:
    """`rule` (a scalar typing rule over the operands) applied elementwise: an ArrayMap."""
    inputs: list[tir.Expr] = []
    elems = [_element(o, inputs) for o in operands]
    body = _Unchecked().expr(rule(*elems))
    if not isinstance(body.type, T.Scalar):
        raise typer.error(node, f"this operation gives {body.type} elements; array "
                          "elements must be scalars")
    ndim = max(i.type.ndim for i in inputs if isinstance(i.type, T.Array))
    span = typer.src.span(node)
    return tir.ArrayMap(T.Array(body.type.strong(), ndim), span, tuple(inputs), body,
                        _broadcast_site(typer, node, inputs))


def _element(operand: tir.Expr, inputs: list[tir.Expr]) -> tir.Expr:
    """The per-element form of `operand`, adding what it reads to `inputs`."""
    if isinstance(operand, tir.ArrayMap):
        shift = len(inputs)
        inputs.extend(operand.inputs)
        return _Shift(shift).expr(operand.body)
    if isinstance(operand, tir.Const):
        return operand
    t = operand.type
    if isinstance(t, T.Array):
        for k, seen in enumerate(inputs):
            if isinstance(operand, tir.Var) and tir.same(seen, operand):
                return tir.Elem(t.dtype, operand.span, k)
        t = t.dtype
    inputs.append(operand)
    return tir.Elem(t, operand.span, len(inputs) - 1)


class _Shift(tir.Transformer):
    def __init__(self, by: int) -> None:
        self.by = by

    def visit_Elem(self, e: tir.Elem) -> tir.Expr:
        return replace(e, index=e.index + self.by)


class _Unchecked(tir.Transformer):
    """NumPy semantics inside array bodies: no ZeroDivisionError checks."""

    def visit_BinOp(self, e: tir.BinOp) -> tir.Expr:
        e = self.generic_visit(e)
        return replace(e, check=None) if e.check is not None else e


def _shape_text(ndim: int, first: int) -> str:
    fields = ",".join(f"{{{first + k}}}" for k in range(ndim))
    return f"({fields}{',' if ndim == 1 else ''})"


def _broadcast_site(typer: Typer, node: ast.AST, inputs: list[tir.Expr]) -> int | None:
    ranks = [i.type.ndim for i in inputs if isinstance(i.type, T.Array)]
    if len(ranks) < 2:
        return None
    parts, first = [], 0
    for n in ranks:
        parts.append(_shape_text(n, first))
        first += n
    template = BROADCAST + " ".join(parts) + " "
    return add_site(typer.scope.callees, "ValueError", template, "q" * first,
                    typer.src.span(node), typer.src.name)


# --- rules and methods -------------------------------------------------------------------------
def lift_call(typer: Typer, node: ast.Call, row: builtins.Builtin, args: list[tir.Expr],
              rule: Rule) -> tir.Expr:
    """A builtin applied elementwise (NumPy functions, `abs`, `round`)."""
    if not (row.name.startswith("np.") or row.name in ("abs", "round")):
        bad = next(a for a in args if isinstance(a.type, T.Array))
        raise typer.error(node, f"{row.name}() needs scalar arguments, not {bad.type}; "
                          "use the NumPy function for arrays")
    return lift(typer, node, args, lambda *elems: rule(typer, node, row, list(elems)))


def where(typer: Typer, node: ast.Call, row: builtins.Builtin,
          args: list[tir.Expr]) -> tir.Expr:
    """`np.where(c, a, b)` on scalars (arrays: lifted by calls.py)."""
    cond, a, b = args
    t = T.promote(_scalar(a), _scalar(b))
    return tir.IfExp(t, typer.src.span(node), truth(cond), cast(a, t), cast(b, t))


def clip(typer: Typer, node: ast.Call, row: builtins.Builtin,
         args: list[tir.Expr]) -> tir.Expr:
    """`np.clip(a, lo, hi)` = np.minimum(np.maximum(a, lo), hi), NaN-propagating."""
    a, lo, hi = args
    t = T.promote(T.promote(T.arith_operand(_scalar(a)), _scalar(lo)), _scalar(hi))
    span = typer.src.span(node)
    low = tir.Call(t, span, "maximum", (cast(a, t), cast(lo, t)))
    return tir.Call(t, span, "minimum", (low, cast(hi, t)))


def _scalar(e: tir.Expr) -> T.Scalar:
    assert isinstance(e.type, T.Scalar)
    return e.type


def astype(typer: Typer, node: ast.Call, base: tir.Expr, dtype: T.Scalar) -> tir.Expr:
    """`a.astype(dtype)`: a new array (always a copy, as NumPy's default)."""
    return lift(typer, node, [base],
                lambda e: truth(e) if dtype.is_bool else cast(e, dtype))


def unary(typer: Typer, node: ast.UnaryOp, operand: tir.Expr, rule: Rule) -> tir.Expr:
    assert isinstance(operand.type, T.Array)
    if isinstance(node.op, ast.Not):
        raise typer.error(node, "the truth value of an array is ambiguous; use np.logical_not"
                          "(a) or ~a for bool arrays")
    if isinstance(node.op, ast.USub) and operand.type.dtype.is_bool:
        raise typer.error(node, "the numpy boolean negative, the `-` operator, is not "
                          "supported, use the `~` operator instead")
    return lift(typer, node, [operand], lambda e: rule(node, e))


# --- assignments -------------------------------------------------------------------------------
def store(typer: Typer, target: ast.expr, dest: tir.Expr, value: tir.Expr,
          value_node: ast.expr) -> tir.Stmt:
    """`dest[...] = value` (dest a view or an array): a scalar fills it, an array value is
    broadcast into it (cast to its dtype as NumPy's assignment does)."""
    assert isinstance(dest.type, T.Array)
    span = typer.src.span(target)
    if isinstance(value.type, T.Scalar):
        return tir.Fill(span, dest, cast(value, dest.type.dtype))
    if not isinstance(value.type, T.Array):
        raise typer.error(value_node, f"cannot assign {value.type} to an array")
    if value.type.ndim > dest.type.ndim:
        raise typer.error(value_node, f"cannot assign a {value.type.ndim}-dimensional array "
                          f"to '{ast.unparse(target)}', which has {dest.type.ndim} "
                          "dimension(s)")
    dtype = dest.type.dtype
    mapped = lift(typer, value_node, [value],
                  lambda e: truth(e) if dtype.is_bool and not _is_bool(e) else cast(e, dtype))
    assert isinstance(mapped, tir.ArrayMap)
    ndim = value.type.ndim
    template = INTO.format(_shape_text(ndim, 0), _shape_text(dest.type.ndim, ndim))
    site = add_site(typer.scope.callees, "ValueError", template,
                    "q" * (ndim + dest.type.ndim), span, typer.src.name)
    return tir.ArrayStore(span, dest, mapped, site)


def _is_bool(e: tir.Expr) -> bool:
    return isinstance(e.type, T.Scalar) and e.type.is_bool


def inplace(typer: Typer, target: ast.expr, dest: tir.Expr, call: ast.Call) -> tir.Stmt:
    """`x op= y` for an array `x` (target): a true in-place update, NumPy's 'same_kind'
    casting rule for the result."""
    assert isinstance(dest.type, T.Array)
    value_node = call.args[1]
    value = typer.expr(value_node)
    have, want = value.type, dest.type.dtype
    if isinstance(have, T.Array | T.Scalar):
        got = have.dtype if isinstance(have, T.Array) else have.strong()
        if not np.can_cast(got.np_dtype, want.np_dtype, "same_kind"):
            op = value_node.op if isinstance(value_node, ast.BinOp) else None
            name = _UFUNC.get(type(op), "?") if op is not None else "?"
            raise typer.error(value_node, f"Cannot cast ufunc '{name}' output from "
                              f"dtype('{got.np_dtype}') to dtype('{want.np_dtype}') with "
                              "casting rule 'same_kind'")
    return store(typer, target, dest, value, value_node)


def written(typer: Typer, target: ast.expr) -> None:
    """Mark the array under `target` (a name or a view of one) written."""
    name = views.root_name(target)
    if name is not None:
        aliasing.mark_written(typer.scope, name)


def inplace_value(typer: Typer, node: ast.Call, row: builtins.Builtin) -> tir.Expr:
    """How `__ember_inplace(x, x op y)` types as a value (inference of x's type): an array
    keeps its own type (it is updated in place), a scalar takes the new value's."""
    first = typer.expr(node.args[0])
    return first if isinstance(first.type, T.Array) else typer.expr(node.args[1])
