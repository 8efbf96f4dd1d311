"""Complex scalar operations: the lowering rules of complex `tir` values (c64, c128).

A complex value is an MLIR `complex<f32>`/`complex<f64>` built with the `complex` dialect;
arrays of complex are memrefs of it (numpy's layout: two parts per element, strides in
elements). The `to-llvm` stage runs convert-complex-to-standard (arith/math on the two parts)
and convert-complex-to-llvm; before Enzyme, convert-complex-to-standard runs alone, so Enzyme
sees floats plus complex.create/re/im (lowering/enzyme.py). ops.py calls in here when the
Ember type is complex; the op keys of the complex builtins are `CALLS` ("c.exp", ...).
Primal code computes as NumPy does: division by NumPy's algorithm (`divide`), powers by
npy_cpow (`power`), exp/log/sqrt/trigonometric functions by C99's cexp/clog/... (`_C99`),
`abs` and `angle` by libm's hypot/atan2 (npy_cabs/npy_carg). Code for Enzyme uses the complex
dialect's ops instead (no branches whose unused infinities would poison derivatives) and the
closed-form rules of ir/adrules.py for hypot/atan2.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

from mlir import ir
from mlir.dialects import arith, func
from mlir.dialects import complex as cx
from mlir.dialects import math as m

from .. import types as T
from .adrules import emit
from .types import emitting_for_enzyme

Value = ir.Value


def part_type(t: T.Scalar) -> ir.Type:
    return ir.F32Type.get() if t.bits == 64 else ir.F64Type.get()


def complex_type(t: T.Scalar) -> ir.Type:
    return ir.ComplexType.get(part_type(t))


def _float(ft: ir.Type, v: float) -> Value:
    return arith.constant(ft, ir.FloatAttr.get(ft, v))


def const(t: T.Scalar, value: complex | float | int | bool) -> Value:
    z, ft = complex(value), part_type(t)
    parts = ir.ArrayAttr.get([ir.FloatAttr.get(ft, z.real), ir.FloatAttr.get(ft, z.imag)])
    return cx.constant(complex_type(t), parts)


def zero(t: ir.ComplexType) -> Value:
    """0j of MLIR complex type `t`."""
    ft = t.element_type
    return cx.constant(t, ir.ArrayAttr.get([ir.FloatAttr.get(ft, 0.0)] * 2))


def const_like(z: Value, value: complex) -> Value:
    """A complex constant of `z`'s type."""
    ft = z.type.element_type
    return cx.constant(z.type, ir.ArrayAttr.get([ir.FloatAttr.get(ft, value.real),
                                                 ir.FloatAttr.get(ft, value.imag)]))


def create(re: Value, im: Value) -> Value:
    return cx.create_(ir.ComplexType.get(re.type), re, im)


def parts(z: Value) -> tuple[Value, Value]:
    return cx.re(z), cx.im(z)


# --- operators ----------------------------------------------------------------------------
def divide(a: Value, b: Value) -> Value:
    """NumPy's complex division (Smith's algorithm, its loops' special case for a zero
    divisor: (1+1j)/0 is inf+infj, 0/0 nan+nanj), exactly as numpy computes it."""
    ar, ai = parts(a)
    br, bi = parts(b)
    abs_r, abs_i = m.absf(br), m.absf(bi)
    zero = _float(br.type, 0.0)
    real_larger = arith.cmpf(arith.CmpFPredicate.OGE, abs_r, abs_i)
    both_zero = arith.andi(arith.cmpf(arith.CmpFPredicate.OEQ, abs_r, zero),
                           arith.cmpf(arith.CmpFPredicate.OEQ, abs_i, zero))
    one = _float(br.type, 1.0)
    rat1 = arith.divf(bi, br)  # |br| >= |bi|
    scl1 = arith.divf(one, arith.addf(br, arith.mulf(bi, rat1)))
    re1 = arith.mulf(arith.addf(ar, arith.mulf(ai, rat1)), scl1)
    im1 = arith.mulf(arith.subf(ai, arith.mulf(ar, rat1)), scl1)
    rat2 = arith.divf(br, bi)  # |bi| > |br|
    scl2 = arith.divf(one, arith.addf(bi, arith.mulf(br, rat2)))
    re2 = arith.mulf(arith.addf(arith.mulf(ar, rat2), ai), scl2)
    im2 = arith.mulf(arith.subf(arith.mulf(ai, rat2), ar), scl2)
    re = arith.select(real_larger, arith.select(both_zero, arith.divf(ar, abs_r), re1), re2)
    im = arith.select(real_larger, arith.select(both_zero, arith.divf(ai, abs_r), im1), im2)
    return create(re, im)


def power(a: Value, b: Value) -> Value:
    """NumPy's npy_cpow: 1 for b == 0; 0 (or nan) for a == 0; a small integer b (|b| < 100)
    by repeated multiplication (exact squares and cubes, 1/a**-n for negative n); else C99's
    cpow (glibc's, which NumPy calls)."""
    ar, ai = parts(a)
    br, bi = parts(b)
    ft = ar.type
    zero, one = _float(ft, 0.0), _float(ft, 1.0)
    eq = arith.CmpFPredicate.OEQ
    n = arith.fptosi(ir.IntegerType.get_signless(64), m.absf(br))
    small = arith.andi(arith.andi(arith.cmpf(eq, bi, zero), arith.cmpf(eq, m.floor(br), br)),
                       arith.cmpf(arith.CmpFPredicate.OLT, m.absf(br), _float(ft, 100.0)))
    result = arith.select(small, _integer_power(a, n, br), _cpow(a, b))
    r_re, r_im = parts(result)
    a_zero = arith.andi(arith.cmpf(eq, ar, zero), arith.cmpf(eq, ai, zero))
    positive = arith.andi(arith.cmpf(arith.CmpFPredicate.OGT, br, zero), arith.cmpf(eq, bi, zero))
    nan = _float(ft, math.nan)
    at_zero = arith.select(positive, zero, nan)
    r_re, r_im = (arith.select(a_zero, at_zero, v) for v in (r_re, r_im))
    b_zero = arith.andi(arith.cmpf(eq, br, zero), arith.cmpf(eq, bi, zero))
    return create(arith.select(b_zero, one, r_re), arith.select(b_zero, zero, r_im))


def _integer_power(a: Value, n: Value, br: Value) -> Value:
    """a ** n for 0 < |n| < 100 as npy_cpow's loop (a itself for n == 1)."""
    i64 = ir.IntegerType.get_signless(64)
    acc, p = const_like(a, 1.0), a
    for bit in range(7):
        mask = arith.constant(i64, 1 << bit)
        take = arith.cmpi(arith.CmpIPredicate.ne, arith.andi(n, mask), arith.constant(i64, 0))
        acc = arith.select(take, cx.mul(acc, p), acc)
        if bit < 6:
            p = cx.mul(p, p)
    is_one = arith.cmpf(arith.CmpFPredicate.OEQ, br, _float(br.type, 1.0))
    negative = arith.cmpf(arith.CmpFPredicate.OLT, br, _float(br.type, 0.0))
    acc = arith.select(negative, divide(const_like(a, 1.0), acc), acc)
    return arith.select(is_one, a, acc)


def _cpow(a: Value, b: Value) -> Value:
    """C99 cpow(a, b) on the double parts (four doubles in, two out)."""
    f64 = ir.F64Type.get()
    args = [*parts(a), *parts(b)]
    wide = args[0].type != f64
    if wide:
        args = [arith.extf(f64, v) for v in args]
    _declare("cpow", f64, 4)
    out = list(func.CallOp([f64, f64], ir.FlatSymbolRefAttr.get("cpow"), args).results)
    if wide:
        out = [arith.truncf(a.type.element_type, v) for v in out]
    return create(out[0], out[1])


BINARY: Final[dict[str, Callable[[Value, Value], Value]]] = {
    "add": cx.add, "sub": cx.sub, "mul": cx.mul, "truediv": divide, "pow": power,
}
"""Complex operators; for Enzyme, division is complex.div (see lowering/enzyme.py PREPARE:
the branches of `divide` that are not taken make NaN derivatives)."""
AD_BINARY: Final = {**BINARY, "truediv": cx.div, "pow": cx.pow}


def dispatch(op: str, real: Callable[[T.Scalar, Value, Value], Value]
             ) -> Callable[[T.Scalar, Value, Value], Value]:
    """ops.BINARY's rule for `op`: this module's for complex types, `real` for the others."""
    def rule(t: T.Scalar, a: Value, b: Value) -> Value:
        if not t.is_complex:
            return real(t, a, b)
        return (AD_BINARY if emitting_for_enzyme() else BINARY)[op](a, b)
    return rule


def powi(z: Value, n: Value) -> Value:
    """z ** n for an integer n: repeated squaring (NumPy's exact small-integer powers)."""
    return cx.powi(z, n)


def neg(a: Value) -> Value:
    return cx.neg(a)


def compare(op: str, a: Value, b: Value) -> Value:
    assert op in ("eq", "ne"), op  # the frontend refuses ordering comparisons
    return cx.eq(a, b) if op == "eq" else cx.neq(a, b)


def truth(t: T.Scalar, a: Value) -> Value:
    return cx.neq(a, const(t, 0))


def from_real(src: T.Scalar, dst: T.Scalar, a: Value,
              convert: Callable[[T.Scalar, T.Scalar, Value], Value]) -> Value:
    """A bool/int/float (converted to the part type by `convert`) or another complex."""
    part = dst.part.strong()
    if src.is_complex:
        re, im = parts(a)
        return create(convert(src.part.strong(), part, re), convert(src.part.strong(), part, im))
    re = convert(src, part, a)
    return create(re, _float(re.type, 0.0))


# --- builtin calls ------------------------------------------------------------------------
def _sinh_cosh(z: Value, sinh: bool) -> Value:
    """sinh(x+iy) = sinh x cos y + i cosh x sin y; cosh(x+iy) = cosh x cos y + i sinh x sin y."""
    x, y = parts(z)
    sh, ch = m.sinh(x), m.cosh(x)
    first, second = (sh, ch) if sinh else (ch, sh)
    return create(arith.mulf(first, m.cos(y)), arith.mulf(second, m.sin(y)))


def _log10(z: Value) -> Value:
    ft = cx.re(z).type
    scale = _float(ft, 1.0 / math.log(10.0))
    re, im = parts(cx.log(z))
    return create(arith.mulf(re, scale), arith.mulf(im, scale))


def _classify(kind: str) -> Callable[[Value], Value]:
    """isnan: either part NaN; isinf: either part infinite; isfinite: both finite."""
    def rule(z: Value) -> Value:
        re, im = parts(z)
        inf = _float(re.type, math.inf)
        if kind == "isnan":
            return arith.ori(arith.cmpf(arith.CmpFPredicate.UNO, re, re),
                             arith.cmpf(arith.CmpFPredicate.UNO, im, im))
        if kind == "isinf":
            return arith.ori(arith.cmpf(arith.CmpFPredicate.OEQ, m.absf(re), inf),
                             arith.cmpf(arith.CmpFPredicate.OEQ, m.absf(im), inf))
        return arith.andi(arith.cmpf(arith.CmpFPredicate.OLT, m.absf(re), inf),
                          arith.cmpf(arith.CmpFPredicate.OLT, m.absf(im), inf))
    return rule


_UNARY: Final[dict[str, Callable[[Value], Value]]] = {
    "c.exp": cx.exp, "c.log": cx.log, "c.sqrt": cx.sqrt, "c.sin": cx.sin, "c.cos": cx.cos,
    "c.tan": cx.tan, "c.tanh": cx.tanh, "c.expm1": cx.expm1, "c.log1p": cx.log1p,
    "c.sinh": lambda z: _sinh_cosh(z, True), "c.cosh": lambda z: _sinh_cosh(z, False),
    "c.log10": _log10, "c.conj": cx.conj, "c.real": cx.re, "c.imag": cx.im,
    "c.isnan": _classify("isnan"), "c.isinf": _classify("isinf"),
    "c.isfinite": _classify("isfinite"),
}
_LIBM2: Final = {"c.abs": ("hypot", False), "c.angle": ("atan2", True)}
"""abs and phase as libm's hypot(re, im) and atan2(im, re) (swap: True)."""

_C99: Final = {"c.exp": "cexp", "c.log": "clog", "c.sqrt": "csqrt", "c.sin": "csin",
               "c.cos": "ccos", "c.tan": "ctan", "c.sinh": "csinh", "c.cosh": "ccosh",
               "c.tanh": "ctanh"}
"""Primal code calls C99's complex functions (glibc's, which NumPy's loops and CPython's cmath
agree with, special values included); c64 through the double versions. A `double _Complex`
argument is two doubles and the result a struct of two (x86-64 and AArch64 calling
conventions alike), which is what func.call with two f64 results lowers to."""

CALLS: Final = frozenset([*_UNARY, *_LIBM2, "c.create"])
"""Every complex op key (frontend/complexes.py emits them)."""


def call(op: str, args: list[Value], libm: Callable[[str, int, ir.Type], str]) -> Value:
    """Lower complex builtin `op` (for Enzyme: complex-dialect ops and the closed-form rules
    of the libm calls)."""
    ad = emitting_for_enzyme()
    if op in _C99 and not ad:
        return _c99(_C99[op], args[0])
    if op in _UNARY:
        return _UNARY[op](args[0])
    if op == "c.create":
        return create(args[0], args[1])
    name, swap = _LIBM2[op]
    re, im = parts(args[0])
    operands = [im, re] if swap else [re, im]
    ft = re.type
    suffix = "f" if ft == ir.F32Type.get() else ""

    def build(xs: list[Value]) -> Value:
        symbol = libm(name + suffix, 2, ft)
        return func.call([ft], ir.FlatSymbolRefAttr.get(symbol), xs)

    if ad:
        return emit(name, operands, build)
    return build(operands)


def _c99(name: str, z: Value) -> Value:
    """`name(z)` of C99 <complex.h> on the double parts (rounded back for a c64)."""
    re, im = parts(z)
    f64 = ir.F64Type.get()
    wide = re.type != f64
    if wide:
        re, im = arith.extf(f64, re), arith.extf(f64, im)
    _declare(name, f64, 2)
    call = func.CallOp([f64, f64], ir.FlatSymbolRefAttr.get(name), [re, im])
    out_re, out_im = call.results
    if wide:
        out_re, out_im = arith.truncf(z.type.element_type, out_re), arith.truncf(
            z.type.element_type, out_im)
    return create(out_re, out_im)


def _declare(name: str, f64: ir.Type, arity: int) -> None:
    """A private declaration `name: (f64 x arity) -> (f64, f64)` in the current module, once."""
    op = ir.InsertionPoint.current.block.owner.operation
    while op.name != "builtin.module":
        op = op.parent
    body = op.regions[0].blocks[0]
    if any(o.name == "func.func" and ir.StringAttr(o.attributes["sym_name"]).value == name
           for o in (x.operation for x in body.operations)):
        return
    with ir.InsertionPoint.at_block_begin(body):
        decl = func.FuncOp(name, ir.FunctionType.get([f64] * arity, [f64, f64]))
        decl.attributes["sym_visibility"] = ir.StringAttr.get("private")


def element_bytes(t: ir.Type) -> int:
    """The size in bytes of an array element of MLIR type `t` (complex: both parts)."""
    if isinstance(t, ir.ComplexType):
        return 2 * element_bytes(t.element_type)
    return int(t.width) // 8  # type: ignore[attr-defined]
