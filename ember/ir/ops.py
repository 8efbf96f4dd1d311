"""Scalar operations by key: the lowering rules for `tir.BinOp`, `tir.Call`, casts, constants.

Each rule takes the Ember result type and MLIR values (already converted to that type by the
frontend) and builds arith/math ops at the current insertion point. Python semantics live
here: floor division and modulo sign rules, shifts past the word size, integer division by
zero (yields 0 rather than trapping), NaN-aware min/max.
"""

from __future__ import annotations

import math as pymath
import struct
from collections.abc import Callable
from typing import Final

from mlir import ir
from mlir.dialects import arith, func, memref
from mlir.dialects import math as m

from .. import types as T
from . import complex_ops
from .types import scalar_type

Value = ir.Value
CF = arith.CmpFPredicate
CI = arith.CmpIPredicate


def const(t: T.Scalar, value: bool | int | float | complex) -> Value:
    if t.is_complex:
        return complex_ops.const(t, value)
    assert not isinstance(value, complex)
    mt = scalar_type(t)
    if t.is_float:
        return arith.constant(mt, ir.FloatAttr.get(mt, float(value)))
    if t.is_bool:
        return arith.constant(mt, ir.IntegerAttr.get(mt, int(bool(value))))
    v = int(value) & ((1 << t.bits) - 1)
    if v >= 1 << (t.bits - 1):
        v -= 1 << t.bits
    return arith.constant(mt, ir.IntegerAttr.get(mt, v))


def _signed(t: T.Scalar) -> bool:
    return t.kind == "i"


def _select(c: Value, a: Value, b: Value) -> Value:
    return arith.select(c, a, b)


# --- arithmetic -------------------------------------------------------------------------------
def _add(t, a, b):
    return arith.addf(a, b) if t.is_float else arith.addi(a, b)


def _sub(t, a, b):
    return arith.subf(a, b) if t.is_float else arith.subi(a, b)


def _mul(t, a, b):
    return arith.mulf(a, b) if t.is_float else arith.muli(a, b)


def _truediv(t, a, b):
    return arith.divf(a, b)


def _safe_divisor(t, b):
    """(divisor that cannot trap, b == 0, b == -1 for signed) for integer division."""
    zero, one = const(t, 0), const(t, 1)
    is_zero = arith.cmpi(CI.eq, b, zero)
    bad = is_zero
    is_minus1 = None
    if _signed(t):
        is_minus1 = arith.cmpi(CI.eq, b, const(t, -1))
        bad = arith.ori(is_zero, is_minus1)
    return _select(bad, one, b), is_zero, is_minus1


def _floordiv(t, a, b):
    if t.is_float:
        return _float_divmod(a, b)[0]
    d, is_zero, is_minus1 = _safe_divisor(t, b)
    q = arith.floordivsi(a, d) if _signed(t) else arith.divui(a, d)
    if is_minus1 is not None:
        q = _select(is_minus1, arith.subi(const(t, 0), a), q)
    return _select(is_zero, const(t, 0), q)


def _mod(t, a, b):
    if t.is_float:
        return _float_divmod(a, b)[1]
    d, is_zero, is_minus1 = _safe_divisor(t, b)
    if not _signed(t):
        return _select(is_zero, const(t, 0), arith.remui(a, d))
    r = arith.remsi(a, d)
    zero = const(t, 0)
    fix = arith.andi(arith.cmpi(CI.ne, r, zero),
                     arith.cmpi(CI.slt, arith.xori(r, d), zero))
    r = _select(fix, arith.addi(r, d), r)
    assert is_minus1 is not None
    return _select(arith.ori(is_zero, is_minus1), zero, r)


def _float_divmod(a: Value, b: Value) -> tuple[Value, Value]:
    """CPython's float_divmod (Objects/floatobject.c), which numpy's divmod also follows."""
    ft = a.type
    zero, one, half = (arith.constant(ft, ir.FloatAttr.get(ft, v)) for v in (0.0, 1.0, 0.5))
    mod = arith.remf(a, b)
    div = arith.divf(arith.subf(a, mod), b)
    nonzero = arith.cmpf(CF.UNE, mod, zero)
    signs_differ = arith.xori(arith.cmpf(CF.OLT, b, zero), arith.cmpf(CF.OLT, mod, zero))
    adjust = arith.andi(nonzero, signs_differ)
    mod = _select(adjust, arith.addf(mod, b), mod)
    div = _select(adjust, arith.subf(div, one), div)
    mod = _select(nonzero, mod, m.copysign(zero, b))
    floordiv = m.floor(div)
    floordiv = _select(arith.cmpf(CF.OGT, arith.subf(div, floordiv), half),
                       arith.addf(floordiv, one), floordiv)
    div_zero = arith.cmpf(CF.OEQ, div, zero)
    floordiv = _select(div_zero, m.copysign(zero, arith.divf(a, b)), floordiv)
    return floordiv, mod


def _pow(t, a, b):
    if t.is_float:
        return m.powf(a, b)
    return m.ipowi(a, b)


def _shift(t, a, b, left: bool):
    width = const(t, t.bits)
    too_far = arith.cmpi(CI.uge, b, width)
    safe = _select(too_far, const(t, 0), b)
    if left:
        return _select(too_far, const(t, 0), arith.shli(a, safe))
    if not _signed(t):
        return _select(too_far, const(t, 0), arith.shrui(a, safe))
    sign = arith.shrsi(a, const(t, t.bits - 1))
    return _select(too_far, sign, arith.shrsi(a, safe))


BINARY: Final[dict[str, Callable[[T.Scalar, Value, Value], Value]]] = {
    "add": _add, "sub": _sub, "mul": _mul, "truediv": _truediv, "floordiv": _floordiv,
    "mod": _mod, "pow": _pow,
    "and": lambda t, a, b: arith.andi(a, b), "or": lambda t, a, b: arith.ori(a, b),
    "xor": lambda t, a, b: arith.xori(a, b),
    "lshift": lambda t, a, b: _shift(t, a, b, True),
    "rshift": lambda t, a, b: _shift(t, a, b, False),
}


def unary(op: str, t: T.Scalar, a: Value) -> Value:
    if t.is_complex:
        return complex_ops.neg(a)
    if op == "neg":
        return arith.negf(a) if t.is_float else arith.subi(const(t, 0), a)
    if op == "invert":
        return arith.xori(a, const(t, -1))
    assert op == "not"
    return arith.xori(a, const(T.boolean, 1))


def to_storage(t: T.Scalar, value: Value) -> Value:
    """A scalar in its array-element form (bools as one byte)."""
    return arith.extui(ir.IntegerType.get_signless(8), value) if t.is_bool else value


def from_storage(t: T.Scalar, value: Value) -> Value:
    if not t.is_bool:
        return value
    return arith.cmpi(CI.ne, value, arith.constant(value.type, 0))


# --- comparisons and conversions --------------------------------------------------------------
_FCMP: Final = {"eq": CF.OEQ, "ne": CF.UNE, "lt": CF.OLT, "le": CF.OLE, "gt": CF.OGT,
                "ge": CF.OGE}
_SCMP: Final = {"eq": CI.eq, "ne": CI.ne, "lt": CI.slt, "le": CI.sle, "gt": CI.sgt, "ge": CI.sge}
_UCMP: Final = {"eq": CI.eq, "ne": CI.ne, "lt": CI.ult, "le": CI.ule, "gt": CI.ugt, "ge": CI.uge}


def compare(op: str, t: T.Scalar, a: Value, b: Value) -> Value:
    if t.is_complex:
        return complex_ops.compare(op, a, b)
    if t.is_float:
        return arith.cmpf(_FCMP[op], a, b)
    table = _SCMP if _signed(t) else _UCMP
    return arith.cmpi(table[op], a, b)


def truth(t: T.Scalar, a: Value) -> Value:
    if t.is_complex:
        return complex_ops.truth(t, a)
    if t.is_bool:
        return a
    if t.is_float:
        return arith.cmpf(CF.UNE, a, const(t, 0.0))
    return arith.cmpi(CI.ne, a, const(t, 0))


def convert(src: T.Scalar, dst: T.Scalar, a: Value) -> Value:
    """Numeric conversion with numpy/C semantics (float -> int truncates toward zero)."""
    st, dt = scalar_type(src), scalar_type(dst)
    if dst.is_bool:
        return truth(src, a)
    if st == dt:
        return a
    if dst.is_complex:  # the frontend refuses complex -> real (NumPy's ComplexWarning)
        return complex_ops.from_real(src, dst, a, convert)
    if src.is_float and dst.is_float:
        return arith.extf(dt, a) if dst.bits > src.bits else arith.truncf(dt, a)
    if src.is_float:
        return arith.fptosi(dt, a) if _signed(dst) else arith.fptoui(dt, a)
    if dst.is_float:
        return arith.sitofp(dt, a) if _signed(src) else arith.uitofp(dt, a)
    if dst.bits < src.bits:
        return arith.trunci(dt, a)
    return arith.extsi(dt, a) if _signed(src) else arith.extui(dt, a)


# --- builtin calls (tir.Call op keys) -------------------------------------------------------
_MATH1: Final = {
    "sin": m.sin, "cos": m.cos, "tan": m.tan, "asin": m.asin, "acos": m.acos, "atan": m.atan,
    "sinh": m.sinh, "cosh": m.cosh, "tanh": m.tanh, "asinh": m.asinh, "acosh": m.acosh,
    "atanh": m.atanh, "exp": m.exp, "exp2": m.exp2, "expm1": m.expm1, "log": m.log,
    "log1p": m.log1p, "log2": m.log2, "log10": m.log10, "sqrt": m.sqrt, "cbrt": m.cbrt,
    "erf": m.erf, "erfc": m.erfc, "fabs": m.absf, "floor": m.floor, "ceil": m.ceil,
    "trunc": m.trunc, "rint": m.roundeven, "roundeven": m.roundeven,
}
_MATH2: Final = {"pow": m.powf, "copysign": m.copysign, "fmod": arith.remf}
# libm calls: op -> (f64 name, f32 name, arity). The GPU calls libdevice's `__nv_<name>` in
# their place (lowering/gpu.py) and AOT exports may not take these names (aot/collect.py).
# atan2 is a libm call, not math.atan2: MLIR 22's folder turns atan2(+-0, +-0) into NaN.
LIBM: Final = {"hypot": ("hypot", "hypotf", 2), "gamma": ("tgamma", "tgammaf", 1),
               "lgamma": ("lgamma", "lgammaf", 1), "atan2": ("atan2", "atan2f", 2)}


def _f32(v: float) -> float:
    return struct.unpack("f", struct.pack("f", v))[0]


# x * c with CPython's c (pi/180 and 180/pi in f64). NumPy's f32 loops divide the f32-rounded
# pi and 180 in f32 (npy_deg2radf), which gives another 180/pi than rounding the f64 one.
_SCALE: Final = {"radians": (pymath.pi / 180.0, _f32(_f32(pymath.pi) / 180.0)),
                 "degrees": (180.0 / pymath.pi, _f32(180.0 / _f32(pymath.pi)))}


def _scale(op: str, x: Value) -> Value:
    f64_c, f32_c = _SCALE[op]
    c = f32_c if x.type == ir.F32Type.get() else f64_c
    return arith.mulf(x, arith.constant(x.type, ir.FloatAttr.get(x.type, c)))


def call(op: str, t: T.Scalar, args: list[Value], libm: Callable[[str, int, ir.Type], str]) -> Value:
    """Lower builtin `op` on `args`; `libm(name, arity, type)` declares a C math function."""
    if op in complex_ops.CALLS:
        return complex_ops.call(op, args, libm)
    if op in _MATH1:
        return _MATH1[op](args[0])
    if op in _SCALE:
        return _scale(op, args[0])
    if op in _MATH2:
        return _MATH2[op](args[0], args[1])
    if op in LIBM:
        f64_name, f32_name, arity = LIBM[op]
        name = f32_name if t == T.f32 or args[0].type == ir.F32Type.get() else f64_name
        symbol = libm(name, arity, args[0].type)
        return func.call([args[0].type], ir.FlatSymbolRefAttr.get(symbol), args)
    return _SPECIAL[op](t, args)


def _pred(kind: str) -> Callable[[T.Scalar, list[Value]], Value]:
    def rule(t: T.Scalar, args: list[Value]) -> Value:
        x = args[0]
        inf = arith.constant(x.type, ir.FloatAttr.get(x.type, pymath.inf))
        if kind == "isnan":
            return arith.cmpf(CF.UNO, x, x)
        cmp = CF.OEQ if kind == "isinf" else CF.OLT
        return arith.cmpf(cmp, m.absf(x), inf)
    return rule


def _pymax(t: T.Scalar, args: list[Value], larger: bool) -> Value:
    a, b = args
    op = "gt" if larger else "lt"
    return _select(compare(op, t, b, a), b, a)


def _np_minmax(t: T.Scalar, args: list[Value], larger: bool) -> Value:
    a, b = args
    if t.is_float:
        return arith.maximumf(a, b) if larger else arith.minimumf(a, b)
    if _signed(t):
        return arith.maxsi(a, b) if larger else arith.minsi(a, b)
    return arith.maxui(a, b) if larger else arith.minui(a, b)


def _abs(t: T.Scalar, args: list[Value]) -> Value:
    return m.absi(args[0]) if _signed(t) else args[0]


def _sign(t: T.Scalar, args: list[Value]) -> Value:
    x = args[0]
    zero = const(t, 0)
    pos = convert(T.boolean, t, compare("gt", t, x, zero))
    neg = convert(T.boolean, t, compare("lt", t, x, zero))
    result = _sub(t, pos, neg)
    if t.is_float:  # NaN stays NaN, zeros keep their sign
        result = _select(arith.cmpf(CF.UNE, x, x), x, result)
        result = _select(arith.cmpf(CF.OEQ, x, zero), x, result)
    return result


def _round_n(t: T.Scalar, args: list[Value]) -> Value:
    """numpy's round(x, n): rint(x * 10**n) / 10**n, or rint(x / 10**-n) * 10**-n for n < 0."""
    x, n = args
    i64 = T.i64
    ft = x.type
    neg = compare("lt", i64, n, const(i64, 0))
    k = _select(neg, arith.subi(const(i64, 0), n), n)
    scale = m.powf(arith.constant(ft, ir.FloatAttr.get(ft, 10.0)), arith.sitofp(ft, k))
    up = arith.divf(m.roundeven(arith.mulf(x, scale)), scale)
    down = arith.mulf(m.roundeven(arith.divf(x, scale)), scale)
    return _select(neg, down, up)


def _pyround_n(t: T.Scalar, args: list[Value]) -> Value:
    """CPython's round(x, n): the exact value of x rounded half-even to n decimals.
    y = x * 10**n (or x / 10**-n) is rounded; an FMA gives the exact residual, which decides
    the ties that the rounding of y itself created or hid."""
    x, n = args
    ft = x.type

    def f(v: float) -> Value:
        return arith.constant(ft, ir.FloatAttr.get(ft, v))

    i64 = T.i64
    neg = compare("lt", i64, n, const(i64, 0))
    k = _select(neg, arith.subi(const(i64, 0), n), n)
    scale = m.powf(f(10.0), arith.sitofp(ft, k))
    y = _select(neg, arith.divf(x, scale), arith.mulf(x, scale))
    residual = _select(neg, m.fma(arith.negf(y), scale, x), m.fma(x, scale, arith.negf(y)))
    low = m.floor(y)
    tie = arith.cmpf(CF.OEQ, arith.subf(y, low), f(0.5))
    r = m.roundeven(y)
    r = _select(arith.andi(tie, arith.cmpf(CF.OGT, residual, f(0.0))), arith.addf(low, f(1.0)), r)
    r = _select(arith.andi(tie, arith.cmpf(CF.OLT, residual, f(0.0))), low, r)
    out = _select(neg, arith.mulf(r, scale), arith.divf(r, scale))
    small = arith.cmpf(CF.OLT, m.absf(y), f(2.0 ** 52))  # else x has no digits to drop
    return _select(small, out, x)


def range_len(start: ir.Value, stop: ir.Value, step: ir.Value) -> ir.Value:
    """len(range(start, stop, step)) without overflow anywhere in int64 (0 if step == 0)."""
    i64 = T.i64
    zero, one = const(i64, 0), const(i64, 1)
    up = compare("gt", i64, step, zero)
    down = compare("lt", i64, step, zero)
    # distance - 1 and |step| are exact as unsigned numbers when the range is not empty
    distance = arith.select(up, arith.subi(stop, start), arith.subi(start, stop))
    magnitude = arith.select(up, step, arith.subi(zero, step))
    safe = arith.select(arith.cmpi(CI.eq, magnitude, zero), one, magnitude)
    count = arith.addi(arith.divui(arith.subi(distance, one), safe), one)
    nonempty = arith.select(up, compare("lt", i64, start, stop),
                            arith.andi(down, compare("gt", i64, start, stop)))
    return arith.select(nonempty, count, zero)


def disjoint(a: ir.Value, b: ir.Value) -> ir.Value:
    """True if memrefs `a` and `b` share no byte (empty arrays share none)."""
    (lo_a, hi_a, empty_a), (lo_b, hi_b, empty_b) = _extent(a), _extent(b)
    apart = arith.ori(arith.cmpi(CI.ule, hi_a, lo_b), arith.cmpi(CI.ule, hi_b, lo_a))
    return arith.ori(apart, arith.ori(empty_a, empty_b))


def _extent(array: ir.Value) -> tuple[ir.Value, ir.Value, ir.Value]:
    """[first byte, past the last byte) of a strided memref, and whether it is empty."""
    index = ir.IndexType.get()
    meta = memref.ExtractStridedMetadataOp(array)
    rank = ir.MemRefType(array.type).rank
    sizes, strides = meta.sizes[:rank], meta.strides[:rank]
    zero, one = arith.constant(index, 0), arith.constant(index, 1)
    lo, hi, empty = meta.offset, arith.addi(meta.offset, one), arith.constant(ir.IntegerType.get_signless(1), 0)
    for size, stride in zip(sizes, strides, strict=True):
        reach = arith.muli(arith.subi(size, one), stride)
        lo = arith.addi(lo, arith.minsi(reach, zero))
        hi = arith.addi(hi, arith.maxsi(reach, zero))
        empty = arith.ori(empty, arith.cmpi(CI.eq, size, zero))
    width = complex_ops.element_bytes(ir.MemRefType(array.type).element_type)
    nbytes = arith.constant(index, max(width, 1))
    base = memref.extract_aligned_pointer_as_index(array)
    return (arith.addi(base, arith.muli(lo, nbytes)), arith.addi(base, arith.muli(hi, nbytes)),
            empty)


def _mixed(op: str) -> Callable[[T.Scalar, list[Value]], Value]:
    """Exact comparison of a signed (first) and an unsigned (second) 64-bit integer."""
    when_negative = {"lt": True, "le": True, "ne": True, "gt": False, "ge": False, "eq": False}

    def rule(t: T.Scalar, args: list[Value]) -> Value:
        signed, unsigned = args
        negative = arith.cmpi(CI.slt, signed, const(T.i64, 0))
        as_unsigned = compare(op, T.u64, signed, unsigned)
        return _select(negative, const(T.boolean, when_negative[op]), as_unsigned)
    return rule


def _bit_length(t: T.Scalar, args: list[Value]) -> Value:
    """Python's int.bit_length() of a 64-bit integer: the width of |x| (|INT64_MIN| wraps to
    itself, whose 64 bits are right)."""
    x = args[0]
    zero = const(t, 0)
    magnitude = _select(arith.cmpi(CI.slt, x, zero), arith.subi(zero, x), x)
    return arith.subi(const(t, t.bits), m.ctlz(magnitude))


_SPECIAL: Final[dict[str, Callable[[T.Scalar, list[Value]], Value]]] = {
    "isnan": _pred("isnan"), "isinf": _pred("isinf"), "isfinite": _pred("isfinite"),
    "max": lambda t, a: _pymax(t, a, True), "min": lambda t, a: _pymax(t, a, False),
    "maximum": lambda t, a: _np_minmax(t, a, True),
    "minimum": lambda t, a: _np_minmax(t, a, False),
    "abs": _abs, "sign": _sign, "round_n": _round_n, "pyround_n": _pyround_n,
    "range_len": lambda t, a: range_len(*a), "disjoint": lambda t, a: disjoint(*a),
    "bit_length": _bit_length,
    "stop_gradient": lambda t, a: a[0],  # the value; its derivative: adrules.ZERO_DERIVATIVE
    **{f"mixed_{op}": _mixed(op) for op in ("lt", "le", "gt", "ge", "eq", "ne")},
}

for _op in complex_ops.BINARY:  # complex operands: ir/complex_ops.py
    BINARY[_op] = complex_ops.dispatch(_op, BINARY[_op])

OPS: Final = frozenset([*_MATH1, *_MATH2, *_SCALE, *LIBM, *_SPECIAL, *complex_ops.CALLS])
"""Every op key `call` lowers (tests/test_builtin_tables.py checks the frontend against it)."""
