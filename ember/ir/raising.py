"""IR: raising at run time — `tir.Raise`, and the checks of checked Load, Store and BinOp
nodes (boundscheck, error_model="python").

A raise is one `ember_err_arg(k, bits)` call per message value (every scalar as 64 bits, so
Enzyme sees integer operands only and keeps the calls in the primal sweep) and then
`__ember_raise(site)`, which never returns: runtime/kernel_errors.c formats the message and
longjmps to the frame of the kernel's entry (runtime/errors.py defines `__ember_raise` per
library over the program's site table).
"""

from __future__ import annotations

from typing import Final

from mlir import ir
from mlir.dialects import arith, cf, func, scf

from .. import types as T
from .protocols import Emitter

ARG: Final = "ember_err_arg"
RAISE: Final = "__ember_raise"
CI = arith.CmpIPredicate


def _i(bits: int) -> ir.Type:
    return ir.IntegerType.get_signless(bits)


def _bits(value: ir.Value, t: T.Scalar) -> ir.Value:
    """`value` as i64 bits: floats bit for bit (f32 in the low half), ints widened."""
    i64 = _i(64)
    if t.is_float:
        return arith.bitcast(i64, value) if t.bits == 64 else arith.extui(
            i64, arith.bitcast(_i(32), value))
    if isinstance(value.type, ir.IndexType):
        return arith.index_cast(i64, value)
    if t.bits == 64:
        return value
    return arith.extsi(i64, value) if t.kind == "i" else arith.extui(i64, value)


def raise_at(em: Emitter, site: int, values: list[tuple[ir.Value, T.Scalar]]) -> None:
    arg = em.extern(ARG, [_i(32), _i(64)], [])
    for k, (value, t) in enumerate(values):
        func.call([], arg, [arith.constant(_i(32), k), _bits(value, t)])
    func.call([], em.extern(RAISE, [_i(32)], []), [arith.constant(_i(32), site)])


def raise_if(em: Emitter, cond: ir.Value, site: int,
             values: list[tuple[ir.Value, T.Scalar]] | None = None) -> None:
    message = getattr(em, "assert_message", None)
    if message is not None:  # GPU device code cannot raise: a device assertion (ir/gpu.py)
        cf.AssertOp(arith.xori(cond, arith.constant(cond.type, 1)), message(site))
        return
    branch = scf.IfOp(cond)
    with ir.InsertionPoint(branch.then_block):
        raise_at(em, site, values or [])
        scf.YieldOp([])


def check_bounds(em: Emitter, site: int, array: ir.Value, raw: list[ir.Value]) -> None:
    """IndexError at `site` unless -size <= index < size on every axis (Python's rule,
    before wrap-around)."""
    for axis, index in enumerate(raw):
        size = em.dim(array, axis)
        low = arith.cmpi(CI.slt, index, arith.subi(arith.constant(ir.IndexType.get(), 0), size))
        bad = arith.ori(low, arith.cmpi(CI.sge, index, size))
        raise_if(em, bad, site, [(index, T.i64), (arith.constant(_i(64), axis), T.i64),
                                 (size, T.i64)])


def check_division(em: Emitter, site: int, op: str, t: T.Scalar, a: ir.Value,
                   b: ir.Value) -> None:
    """error_model="python": ZeroDivisionError at `site` for a zero divisor; for `int **
    int`, a negative exponent raises (ZeroDivisionError for a zero base, else ValueError at
    the next site, frontend/raises.checked_binop)."""
    zero = arith.constant(b.type, ir.FloatAttr.get(b.type, 0.0) if t.is_float
                          else ir.IntegerAttr.get(b.type, 0))
    if op != "pow":
        bad = (arith.cmpf(arith.CmpFPredicate.OEQ, b, zero) if t.is_float
               else arith.cmpi(CI.eq, b, zero))
        raise_if(em, bad, site)
        return
    negative = arith.cmpi(CI.slt, b, zero) if t.kind == "i" else arith.constant(_i(1), 0)
    zero_base = arith.cmpi(CI.eq, a, arith.constant(a.type, ir.IntegerAttr.get(a.type, 0)))
    raise_if(em, arith.andi(negative, zero_base), site)
    raise_if(em, negative, site + 1)
