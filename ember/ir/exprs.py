"""Expression rules of the IR emitter: one function per `tir` expression class.

Each rule returns an `ir.Value` (or a tuple of values for tuple-typed expressions).
Short-circuit `and`/`or` and conditional expressions become `scf.if` with one result; loads
apply Python's negative-index wrap-around only where the frontend could not rule it out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlir import ir
from mlir.dialects import arith, func, memref, scf

from .. import types as T
from ..frontend import tir
from . import adrules, ops
from .arrays import emit_elem
from .constants import emit_global_array
from .creation import emit_array_literal, emit_coord, emit_generate, emit_reshape
from .epilogue import emit_array_map_fused
from .loops import allocate, fill
from .products import emit_product
from .protocols import Emitter
from .raising import check_bounds, check_division
from .reductions import emit_reduce, emit_scan
from .types import flat_types, to_mlir_type
from .views import emit_transpose, emit_view


def _scalar(t: T.Type) -> T.Scalar:
    assert isinstance(t, T.Scalar)
    return t


def _const(em: Emitter, e: tir.Const) -> Any:
    return ops.const(_scalar(e.type), e.value)


def _var(em: Emitter, e: tir.Var) -> Any:
    value = em.env.get(e.name)
    if value is None:  # defined on another path only: Python would raise, we read zero
        return em.zeros(e.type)[0] if not isinstance(e.type, T.Tuple) else tuple(em.zeros(e.type))
    return value


def _binop(em: Emitter, e: tir.BinOp) -> Any:
    t, a, b = _scalar(e.type), em.expr(e.left), em.expr(e.right)
    if e.check is not None:
        check_division(em, e.check, e.op, t, a, b)
    return ops.BINARY[e.op](t, a, b)


def _unary(em: Emitter, e: tir.UnaryOp) -> Any:
    return ops.unary(e.op, _scalar(e.type), em.expr(e.operand))


def _compare(em: Emitter, e: tir.Compare) -> Any:
    return ops.compare(e.op, _scalar(e.left.type), em.expr(e.left), em.expr(e.right))


def _chain(em: Emitter, e: tir.CompareChain) -> Any:
    values = [em.expr(e.operands[0])]

    def link(k: int) -> ir.Value:
        values.append(em.expr(e.operands[k + 1]))
        t = e.common[k]
        a = ops.convert(_scalar(e.operands[k].type), t, values[k])
        b = ops.convert(_scalar(e.operands[k + 1].type), t, values[k + 1])
        return ops.compare(e.ops[k], t, a, b)

    def rest(k: int) -> ir.Value:
        result = link(k)
        if k + 1 == len(e.ops):
            return result
        op = scf.IfOp(result, [result.type], has_else=True)
        with ir.InsertionPoint(op.then_block):
            scf.YieldOp([rest(k + 1)])
        with ir.InsertionPoint(op.else_block):
            scf.YieldOp([result])
        return op.results[0]

    return rest(0)


def _truth(em: Emitter, e: tir.Truth) -> Any:
    return ops.truth(_scalar(e.operand.type), em.expr(e.operand))


def _cast(em: Emitter, e: tir.Cast) -> Any:
    return ops.convert(_scalar(e.value.type), _scalar(e.type), em.expr(e.value))


def _is_cheap(e: tir.Expr) -> bool:
    """Safe and cheap to evaluate eagerly (no loads, calls, division or checks that raise)."""
    if tir.effects(e).raises:
        return False
    if isinstance(e, tir.Const | tir.Var | tir.Elem):
        return True
    if isinstance(e, tir.Compare | tir.BinOp):
        return (not (isinstance(e, tir.BinOp) and e.op in ("floordiv", "mod", "pow"))
                and _is_cheap(e.left) and _is_cheap(e.right))
    if isinstance(e, tir.UnaryOp | tir.Truth):
        return _is_cheap(e.operand)
    return False


def _is_safe(e: tir.Expr) -> bool:
    """Touches no memory and cannot raise (tir's effects table): evaluating it cannot fail or
    have effects, so short-circuiting it only saves time."""
    effects = tir.effects_under(e)
    return not (effects.memory or effects.raises)


def _boolop(em: Emitter, e: tir.BoolOp) -> Any:
    t = _scalar(e.type)
    left = em.expr(e.left)
    cond = ops.truth(t, left)
    # Under AD, eager evaluation also avoids nested scf.if that Enzyme 0.0.16 mishandles
    # (invalid IR: "operand does not dominate this use").
    eager = _is_safe(e.right) if em.ad else _is_cheap(e.right)
    if t.is_bool and eager:
        right = em.expr(e.right)
        return arith.andi(left, right) if e.op == "and" else arith.ori(left, right)
    return _if_value(em, cond, e.right if e.op == "and" else left,
                     left if e.op == "and" else e.right, t)


def _if_value(em: Emitter, cond: ir.Value, then: Any, orelse: Any, t: T.Type) -> Any:
    """scf.if yielding `then` or `orelse` (each a tir.Expr to emit, or a ready value)."""
    op = scf.IfOp(cond, flat_types(t), has_else=True)
    for block, branch in ((op.then_block, then), (op.else_block, orelse)):
        with ir.InsertionPoint(block):
            value = em.expr(branch) if isinstance(branch, tir.Expr) else branch
            scf.YieldOp(em.conform(list(value) if isinstance(value, tuple) else [value], t))
    results = list(op.results)
    return tuple(results) if isinstance(t, T.Tuple) else results[0]


def _ifexp(em: Emitter, e: tir.IfExp) -> Any:
    cond = em.expr(e.cond)
    if _is_cheap(e.then) and _is_cheap(e.orelse) and isinstance(e.type, T.Scalar):
        return arith.select(cond, em.expr(e.then), em.expr(e.orelse))
    return _if_value(em, cond, e.then, e.orelse, e.type)


def _call(em: Emitter, e: tir.Call) -> Any:
    args = [em.expr(a) for a in e.args]
    t = _scalar(e.type)
    if em.ad and (e.op in adrules.RULES or e.op in adrules.ZERO_DERIVATIVE):
        return adrules.emit(e.op, args, lambda xs: ops.call(e.op, t, xs, em.libm))
    return ops.call(e.op, t, args, em.libm)  # gamma/lgamma: Enzyme rejects them if active


def _kernel_call(em: Emitter, e: tir.KernelCall) -> Any:
    args: list[ir.Value] = [em.conform([em.expr(a)], a.type)[0] for a in e.args]
    results = func.call(flat_types(e.type), ir.FlatSymbolRefAttr.get(e.callee), args)
    if isinstance(e.type, T.NoneType):
        return None
    values = [results] if not isinstance(results, list | tuple) else list(results)
    if len(flat_types(e.type)) > 1 and len(values) == 1 and hasattr(results, "owner"):
        values = list(results.owner.results)
    return tuple(values) if isinstance(e.type, T.Tuple) else values[0]


def indices(em: Emitter, array: ir.Value, idx: tuple[tir.Expr, ...],
            wrap: tuple[bool, ...], check: int | None = None) -> list[ir.Value]:
    """Index values for a load/store, with Python's negative wrap-around where needed (and
    bounds checked against `check`'s site under boundscheck=True)."""
    raw = [em.index(em.expr(i)) for i in idx]
    if check is not None:
        check_bounds(em, check, array, raw)
    out = []
    for axis, (value, w) in enumerate(zip(raw, wrap, strict=True)):
        if w:
            zero = arith.constant(ir.IndexType.get(), 0)
            negative = arith.cmpi(arith.CmpIPredicate.slt, value, zero)
            value = arith.select(negative, arith.addi(value, em.dim(array, axis)), value)
        out.append(value)
    return out


def _load(em: Emitter, e: tir.Load) -> Any:
    array = em.expr(e.array)
    value = memref.load(array, indices(em, array, e.indices, e.wrap, e.check))
    return ops.from_storage(_scalar(e.type), value)


def _dim(em: Emitter, e: tir.Dim) -> Any:
    size = em.dim(em.expr(e.array), e.axis)
    return arith.index_cast(to_mlir_type(T.i64), size)


def _dyn_dim(em: Emitter, e: tir.DynDim) -> Any:
    assert isinstance(e.array.type, T.Array)
    array = em.expr(e.array)
    axis = em.expr(e.axis)
    ndim = ops.const(T.i64, e.array.type.ndim)
    negative = ops.compare("lt", T.i64, axis, ops.const(T.i64, 0))
    axis = arith.select(negative, arith.addi(axis, ndim), axis)
    # clamp: an out-of-range axis must not reach memref.dim (undefined behaviour)
    axis = arith.maxsi(arith.minsi(axis, arith.subi(ndim, ops.const(T.i64, 1))),
                       ops.const(T.i64, 0))
    size = memref.dim(array, em.index(axis))
    return arith.index_cast(to_mlir_type(T.i64), size)


def _tuple(em: Emitter, e: tir.TupleExpr) -> Any:
    return tuple(em.expr(i) for i in e.items)


def _tuple_get(em: Emitter, e: tir.TupleGet) -> Any:
    return em.expr(e.value)[e.index]


def _alloc(em: Emitter, e: tir.Alloc) -> Any:
    assert isinstance(e.type, T.Array)
    sizes = [em.index(em.expr(s)) for s in e.shape]
    zero = arith.constant(ir.IndexType.get(), 0)
    sizes = [arith.maxsi(s, zero) for s in sizes]  # numpy rejects negative sizes; we clamp
    array = allocate(e.type, sizes)
    if e.fill is not None:
        fill(array, sizes, ops.to_storage(e.type.dtype, em.expr(e.fill)))
    return array


RULES: dict[type, Callable[[Emitter, Any], Any]] = {
    tir.Const: _const, tir.Var: _var, tir.BinOp: _binop, tir.UnaryOp: _unary,
    tir.Compare: _compare, tir.CompareChain: _chain, tir.Truth: _truth, tir.Cast: _cast, tir.BoolOp: _boolop,
    tir.IfExp: _ifexp, tir.Call: _call, tir.KernelCall: _kernel_call, tir.Load: _load,
    tir.Dim: _dim, tir.DynDim: _dyn_dim, tir.TupleExpr: _tuple, tir.TupleGet: _tuple_get, tir.Alloc: _alloc,
    tir.View: emit_view, tir.Transpose: emit_transpose,
    tir.Generate: emit_generate, tir.Coord: emit_coord, tir.ArrayLiteral: emit_array_literal,
    tir.Reshape: emit_reshape, tir.GlobalArray: emit_global_array,
    tir.Reduce: emit_reduce, tir.Scan: emit_scan,
    tir.Elem: emit_elem, tir.ArrayMap: emit_array_map_fused, tir.Product: emit_product,
}
