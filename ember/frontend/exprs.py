"""Frontend step 4a: Python expressions -> typed tree expressions.

One `visit_<Node>` per AST expression class; anything else is an unsupported construct.
Operand types follow the NEP 50 rules of `ember.types`; every implicit conversion becomes an
explicit `tir.Cast`, so the IR emitter never decides a type.
"""

from __future__ import annotations

import ast
import types as pytypes
from typing import Any, Final

import numpy as np

from .. import types as T
from ..errors import CompileError, Span
from . import (
    arrays,
    builtins,
    complex_calls,
    complexes,
    constants,
    products,
    selection,
    tir,
    tuples,
    views,
)
from .annotations import describe
from .bounds import lower_bound
from .calls import attribute_of_call, call
from .operators import (
    ARITH,
    COMPARE,
    array_attribute,
    binary,
    cast,
    convert,
    is_dotted,
    is_local,
    truth,
)
from .raises import bounds_site
from .scope import Pending, Scope
from .unsupported import node_kind


class ExprTyper:
    """Types expressions of one kernel against the current `Scope`."""

    ad: bool = False
    """Typing code for differentiation (set by the statement builder)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.src = scope.src

    def expr(self, node: ast.expr) -> tir.Expr:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            raise self.src.error(node, f"{node_kind(node)} ('{ast.unparse(node)}') is not "
                                 "supported here in kernels; docs/python.md lists the "
                                 "expressions kernels accept")
        typed: tir.Expr = method(node)
        return typed

    def error(self, node: ast.AST, message: str) -> CompileError:
        return self.src.error(node, message)

    def scalar(self, node: ast.expr, what: str = "operand") -> tir.Expr:
        return self.as_scalar(node, self.expr(node), what)

    def as_scalar(self, node: ast.expr, value: tir.Expr, what: str = "operand") -> tir.Expr:
        """`value` (typed from `node`), which must be a scalar."""
        if not isinstance(value.type, T.Scalar):
            raise self.error(node, f"{what} must be a scalar, not {value.type}; "
                             "whole-array operations are not supported, write a loop")
        return value

    def condition(self, node: ast.expr) -> tir.Expr:
        value = self.scalar(node, "condition")
        return truth(value)

    # --- leaves ------------------------------------------------------------------------------
    def visit_Constant(self, node: ast.Constant) -> tir.Expr:
        value = node.value
        if isinstance(value, bool):
            return tir.Const(T.py_bool, self.src.span(node), value)
        if isinstance(value, int):
            return tir.Const(T.py_int, self.src.span(node), convert(value, T.i64))
        if isinstance(value, float):
            return tir.Const(T.py_float, self.src.span(node), value)
        if isinstance(value, complex):
            return complexes.literal(self.src.span(node), value)
        raise self.error(node, f"constant {value!r} is not supported in kernels; kernels "
                         "compute with numbers, tuples and arrays")

    def visit_Name(self, node: ast.Name) -> tir.Expr:
        scope = self.scope
        if node.id in scope.params or node.id in scope.assigned:
            found = scope.var_type(node.id)
            if found is None:
                if not scope.final:
                    raise Pending(node.id)
                raise self.error(node, f"cannot infer the type of '{node.id}'")
            return tir.Var(found, self.src.span(node), node.id)
        return self.global_value(node, self.resolve(node))

    def resolve(self, node: ast.expr) -> Any:
        """The Python object a global name or dotted attribute denotes."""
        if isinstance(node, ast.Name):
            if node.id in builtins.INTERNAL:
                return builtins.INTERNAL[node.id]
            found, value = self.src.lookup(node.id)
            if not found:
                raise self.error(node, f"name '{node.id}' is not defined")
            return value
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            if not hasattr(base, node.attr):
                raise self.error(node, f"'{_dotted(node.value)}' has no attribute '{node.attr}'")
            return getattr(base, node.attr)
        raise self.error(node, f"{node_kind(node)} ('{ast.unparse(node)}') cannot be used here; "
                         "name a global function, module or dtype (np.sin, np.float64, ...)")

    def global_value(self, node: ast.expr, value: Any) -> tir.Expr:
        span = self.src.span(node)
        if isinstance(value, complex) and not isinstance(value, np.generic):
            return complexes.literal(span, value)
        if isinstance(value, bool | int | float) and not isinstance(value, np.generic):
            weak = {bool: T.py_bool, int: T.py_int, float: T.py_float}[type(value)]
            return tir.Const(weak, span, convert(value, weak))
        if isinstance(value, np.generic):
            dtype = T.from_dtype(value.dtype)
            if dtype is not None:
                return tir.Const(dtype, span, value.item())
        found = constants.value(self, node, value)  # tuples of numbers, arrays
        if found is not None:
            return found
        if isinstance(value, pytypes.ModuleType):
            raise self.error(node, f"'{_dotted(node)}' (module) cannot be used as a value in a "
                             f"kernel; call its functions ({_dotted(node)}.name(...))")
        raise self.error(node, f"'{_dotted(node)}' ({describe(value)}) cannot be used as a "
                         "value in a kernel; pass it as a parameter (module-level numbers, "
                         "tuples of numbers and NumPy arrays are frozen in as constants)")

    # --- operators -----------------------------------------------------------------------------
    def visit_BinOp(self, node: ast.BinOp) -> tir.Expr:
        op = ARITH.get(type(node.op))
        left, right = self.expr(node.left), self.expr(node.right)
        if op is None:  # ast.MatMult
            return products.matmul(self, node, left, right)
        if arrays.any_array((left, right)) and not _tuple(left, right):
            return arrays.lift(self, node, [left, right],
                               lambda a, b: binary(self, node, op, a, b))
        return binary(self, node, op, left, right)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> tir.Expr:
        operand = self.expr(node.operand)
        if isinstance(operand.type, T.Array):
            return arrays.unary(self, node, operand, self.unary)
        return self.unary(node, self.as_scalar(node.operand, operand))

    def unary(self, node: ast.UnaryOp, operand: tir.Expr) -> tir.Expr:
        """A unary operator on a scalar."""
        span = self.src.span(node)
        t = operand.type
        assert isinstance(t, T.Scalar)
        if isinstance(node.op, ast.Not):
            return tir.UnaryOp(T.py_bool, span, "not", truth(operand))
        if t.is_complex and not isinstance(node.op, ast.UAdd):
            return complexes.unary("neg" if isinstance(node.op, ast.USub) else "invert", span,
                                   operand)
        if isinstance(node.op, ast.UAdd):
            return cast(operand, T.arith_operand(t))
        if isinstance(node.op, ast.USub):
            t = T.arith_operand(t)
            if isinstance(operand, tir.Const):
                return tir.Const(t, span, convert(-operand.value, t))
            return tir.UnaryOp(t, span, "neg", cast(operand, t))
        if t.is_float:
            raise self.error(node, f"bitwise '~' needs an integer operand, not {t}")
        if t.is_bool and not t.weak:
            return tir.UnaryOp(t, span, "not", operand)
        t = T.arith_operand(t)
        return tir.UnaryOp(t, span, "invert", cast(operand, t))

    def visit_Compare(self, node: ast.Compare) -> tir.Expr:
        ops = [op for op in (COMPARE.get(type(o)) for o in node.ops) if op is not None]
        if len(ops) != len(node.ops):
            return tuples.membership(self, node)
        nodes = [node.left, *node.comparators]
        operands = [self.expr(n) for n in nodes]
        if arrays.any_array(operands) and len(ops) == 1:
            return arrays.lift(self, node, operands,
                               lambda a, b: self.compare(node, ops, [a, b]))
        return self.compare(node, ops, [self.as_scalar(n, o) for n, o in
                                        zip(nodes, operands, strict=True)])

    def compare(self, node: ast.Compare, ops: list[str], operands: list[tir.Expr]) -> tir.Expr:
        """A comparison (chain) of scalars."""
        types = [o.type for o in operands if isinstance(o.type, T.Scalar)]
        assert len(types) == len(operands)
        common = [T.promote(a, b) for a, b in zip(types, types[1:], strict=False)]
        weak = all(t.weak for t in types)
        result = T.py_bool if weak else T.boolean
        span = self.src.span(node)
        if complexes.involved(*types):
            complexes.refuse_order(ops, span, types)
            if len(ops) == 1:
                return complexes.compare(ops[0], span, operands[0], operands[1], result)
        if len(ops) == 1:
            left, right = operands
            if _mixed_sign(left.type, right.type):
                return _mixed_compare(result, span, ops[0], left, right)
            return tir.Compare(result, span, ops[0], cast(left, common[0]), cast(right, common[0]))
        return tir.CompareChain(result, span, tuple(ops), tuple(operands), tuple(common))

    def visit_BoolOp(self, node: ast.BoolOp) -> tir.Expr:
        op = "and" if isinstance(node.op, ast.And) else "or"
        values = [self.scalar(v) for v in node.values]
        result = values[-1]
        for value in reversed(values[:-1]):
            t = T.join(value.type, result.type)
            assert isinstance(t, T.Scalar)
            result = tir.BoolOp(t, self.src.span(node), op, cast(value, t), cast(result, t))
        return result

    def visit_IfExp(self, node: ast.IfExp) -> tir.Expr:
        cond = self.condition(node.test)
        then, orelse = self.expr(node.body), self.expr(node.orelse)
        t = T.join(then.type, orelse.type)
        if t is None:
            raise self.error(node, f"the two branches have incompatible types "
                             f"{then.type} and {orelse.type}")
        return tir.IfExp(t, self.src.span(node), cond, cast(then, t), cast(orelse, t))

    # --- arrays, attributes, tuples ------------------------------------------------------
    def visit_Attribute(self, node: ast.Attribute) -> tir.Expr:
        if isinstance(node.value, ast.Call):
            return attribute_of_call(self, node)
        if (is_local(self.scope, node.value) or not is_dotted(node.value)
                or constants.is_constant(self, node.value)):  # W.shape of a module constant
            base = self.expr(node.value)
            if node.attr == "T" and isinstance(base.type, T.Array):
                return views.transpose(self, node, base, [])
            if node.attr in complex_calls.PARTS and isinstance(base.type, T.Scalar | T.Array):
                return complex_calls.attribute(self, node, base)
            return array_attribute(self, node, base)
        return self.global_value(node, self.resolve(node))

    def visit_Subscript(self, node: ast.Subscript) -> tir.Expr:
        selected = selection.subscript(self, node)  # a[mask], np.nonzero(a)[0]
        if selected is not None:
            return selected
        base = self.subscript_base(node)
        if isinstance(base.type, T.Tuple):
            return tuple_item(self, node, base)
        assert isinstance(base.type, T.Array)
        parts = views.expand(self, node, base.type.ndim)
        if not views.is_element(self, parts, base.type.ndim):
            return views.view(self, node, base, parts)
        indices, wrap = self.indices(node, base, parts)
        return tir.Load(base.type.dtype, self.src.span(node), base, indices, wrap,
                        bounds_site(self, node, node.value))

    def subscript_base(self, node: ast.Subscript) -> tir.Expr:
        if not is_local(self.scope, node.value) and isinstance(node.value, ast.Name):
            value = self.resolve(node.value)
            if isinstance(value, np.ndarray | tuple):  # module constants (constants.py)
                return self.expr(node.value)
            raise self.error(node, f"cannot index '{node.value.id}' of type {describe(value)}; "
                             "kernels accept numpy arrays and scalars")
        base = self.expr(node.value)
        if not isinstance(base.type, T.Array | T.Tuple):
            raise self.error(node, f"cannot index '{ast.unparse(node.value)}' of type "
                             f"{base.type}; kernels accept numpy arrays and scalars")
        return base

    def indices(self, node: ast.Subscript, base: tir.Expr,
                parts: list[ast.expr]) -> tuple[tuple[tir.Expr, ...], tuple[bool, ...]]:
        """The element subscript `parts` (one integer per axis: `views.is_element`)."""
        assert isinstance(base.type, T.Array) and len(parts) == base.type.ndim
        out = []
        for part in parts:
            index = self.expr(part)
            t = index.type
            if not (isinstance(t, T.Scalar) and (t.is_int or t.is_bool)):
                raise self.error(part, f"array index must be an integer, not {t}")
            out.append(cast(index, T.i64))
        wrap = tuple(not _nonnegative(self.scope, p) for p in parts)
        return tuple(out), wrap

    def visit_Tuple(self, node: ast.Tuple) -> tir.Expr:
        items = tuple(self.expr(e) for e in node.elts)
        for e, i in zip(node.elts, items, strict=True):
            if not isinstance(i.type, T.Scalar | T.Array):
                raise self.error(e, f"tuples in kernels hold scalars and arrays, not {i.type}")
        return tir.TupleExpr(T.Tuple(tuple(i.type for i in items)), self.src.span(node), items)

    def visit_Call(self, node: ast.Call) -> tir.Expr:
        return call(self, node)


_SWAPPED: Final = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq", "ne": "ne"}


def _tuple(left: tir.Expr, right: tir.Expr) -> bool:
    return isinstance(left.type, T.Tuple) or isinstance(right.type, T.Tuple)


def _mixed_sign(a: T.Type, b: T.Type) -> bool:
    """Strong signed vs strong unsigned ints: NumPy 2 compares these exactly, not as floats."""
    if not (isinstance(a, T.Scalar) and isinstance(b, T.Scalar)) or a.weak or b.weak:
        return False
    return {a.kind, b.kind} == {"i", "u"}


def _mixed_compare(result: T.Scalar, span: Span, op: str, left: tir.Expr,
                   right: tir.Expr) -> tir.Expr:
    if _scalar_kind(left) == "u":
        left, right, op = right, left, _SWAPPED[op]
    args = (cast(left, T.i64), cast(right, T.u64))
    return tir.Call(result, span, f"mixed_{op}", args)


def _scalar_kind(e: tir.Expr) -> str:
    assert isinstance(e.type, T.Scalar)
    return e.type.kind


def tuple_item(typer: ExprTyper, node: ast.Subscript, base: tir.Expr) -> tir.Expr:
    assert isinstance(base.type, T.Tuple)
    n = len(base.type.items)
    k = _constant_index(node.slice)
    if k is None:
        return _dynamic_item(typer, node, base)
    if not -n <= k < n:
        raise typer.error(node, f"tuple index {k} out of range for {base.type}")
    k %= n
    if isinstance(base, tir.TupleExpr):
        return base.items[k]
    return tir.TupleGet(base.type.items[k], typer.src.span(node), base, k)


def _constant_index(index: ast.expr) -> int | None:
    """The value of a constant integer index (`2`, `-1`), else None."""
    if isinstance(index, ast.Constant) and isinstance(index.value, int):
        return index.value
    if (isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub)
            and isinstance(index.operand, ast.Constant) and isinstance(index.operand.value, int)):
        return -index.operand.value
    return None


def _dynamic_item(typer: ExprTyper, node: ast.Subscript, base: tir.Expr) -> tir.Expr:
    """`a.shape[d]` with `d` known only at run time (other tuples need constant indices)."""
    items = base.items if isinstance(base, tir.TupleExpr) else ()
    dims = [d for d in items if isinstance(d, tir.Dim)]
    if not dims or len(dims) != len(items) or not all(d.array == dims[0].array for d in dims):
        found = constants.dynamic_item(typer, node, base)  # COEFFS[k] of number constants
        return found if found is not None else tuples.dynamic_item(typer, node, base)
    axis = typer.expr(node.slice)
    t = axis.type
    if not (isinstance(t, T.Scalar) and (t.is_int or t.is_bool)):
        raise typer.error(node.slice, f"tuple index must be an integer, not {t}")
    array = dims[0].array
    return tir.DynDim(T.py_int, typer.src.span(node), array, cast(axis, T.i64))


def _nonnegative(scope: Scope, node: ast.expr) -> bool:
    if node in scope.nonneg_indices:
        return True
    bound = lower_bound(node, scope.lower_bounds)
    return bound is not None and bound >= 0


def _dotted(node: ast.expr) -> str:
    return ast.unparse(node)
