"""Derivative rules for the math ops Enzyme cannot differentiate (used when emitting for AD).

Enzyme (enzyme-ad 0.0.16) has no adjoint for erf, erfc, asin, acos, atan2, expm1, tan, sinh,
cosh, asinh, acosh, atanh, log10, floor-like ops and libm calls. For those, the emitter writes

    y = f(sg(x)) + sum_i f_i'(sg(x)) * (x_i - sg(x_i))

where sg(x) is a bitcast round trip through an integer, which Enzyme treats as inactive: the
value is exactly f(x) and Enzyme differentiates only the linear term, giving f'(x). Ops with no
closed-form derivative here (gamma, lgamma: libm calls) are left alone: Enzyme accepts them on
constant inputs and rejects them, with a CompileError at the user's line, on active ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

from mlir import ir
from mlir.dialects import arith
from mlir.dialects import math as m

Value = ir.Value
Rule = Callable[[list[Value], Value], list[Value]]
"""(stopped arguments, value) -> partial derivatives, one per argument."""


def stop_gradient(x: Value) -> Value:
    bits = ir.IntegerType.get_signless(32 if x.type == ir.F32Type.get() else 64)
    return arith.bitcast(x.type, arith.bitcast(bits, x))


def _c(like: Value, v: float) -> Value:
    return arith.constant(like.type, ir.FloatAttr.get(like.type, v))


def _inv_sqrt(x: Value) -> Value:
    return arith.divf(_c(x, 1.0), m.sqrt(x))


def _sq(x: Value) -> Value:
    return arith.mulf(x, x)


def _erf(xs, v):
    (x,) = xs
    return [arith.mulf(_c(x, 2.0 / math.sqrt(math.pi)), m.exp(arith.negf(_sq(x))))]


def _atan2(xs, v):
    y, x = xs
    r2 = arith.addf(_sq(x), _sq(y))
    return [arith.divf(x, r2), arith.divf(arith.negf(y), r2)]


def _hypot(xs, v):
    return [arith.divf(xs[0], v), arith.divf(xs[1], v)]


RULES: Final[dict[str, Rule]] = {
    "erf": _erf,
    "erfc": lambda xs, v: [arith.negf(_erf(xs, v)[0])],
    "asin": lambda xs, v: [_inv_sqrt(arith.subf(_c(xs[0], 1.0), _sq(xs[0])))],
    "acos": lambda xs, v: [arith.negf(_inv_sqrt(arith.subf(_c(xs[0], 1.0), _sq(xs[0]))))],
    "asinh": lambda xs, v: [_inv_sqrt(arith.addf(_sq(xs[0]), _c(xs[0], 1.0)))],
    "acosh": lambda xs, v: [_inv_sqrt(arith.subf(_sq(xs[0]), _c(xs[0], 1.0)))],
    "atanh": lambda xs, v: [arith.divf(_c(xs[0], 1.0), arith.subf(_c(xs[0], 1.0), _sq(xs[0])))],
    "expm1": lambda xs, v: [m.exp(xs[0])],
    "tan": lambda xs, v: [arith.addf(_c(v, 1.0), _sq(v))],
    "sinh": lambda xs, v: [m.cosh(xs[0])],
    "cosh": lambda xs, v: [m.sinh(xs[0])],
    "log10": lambda xs, v: [arith.divf(_c(xs[0], 1.0 / math.log(10.0)), xs[0])],
    "atan2": _atan2,
    "hypot": _hypot,
}
ZERO_DERIVATIVE: Final = {"floor", "ceil", "trunc", "rint", "roundeven", "round_n", "pyround_n",
                          "stop_gradient"}
"""Piecewise-constant ops (and `ember.stop_gradient`): their arguments are stopped, so the
derivative is 0."""
ENZYME: Final = frozenset({
    "sin", "cos", "atan", "tanh", "exp", "exp2", "log", "log1p", "log2", "sqrt", "cbrt", "pow",
    "fabs", "copysign", "fmod", "abs", "sign", "min", "max", "minimum", "maximum",
    "radians", "degrees",
    # complex ops (ir/complex_ops.py): complex-dialect ops, as arith/math on the parts for
    # Enzyme (lowering/complexes.py); abs and angle emit the hypot/atan2 rules above
    *(f"c.{op}" for op in ("exp", "log", "log10", "sqrt", "sin", "cos", "tan", "sinh", "cosh",
                           "tanh", "expm1", "log1p", "conj", "real", "imag", "abs", "angle",
                           "create"))})
"""Ops whose emitted MLIR (math/arith ops, selects) Enzyme differentiates itself."""
NOT_DIFFERENTIABLE: Final = frozenset({"gamma", "lgamma"})
"""libm calls with no derivative here (no digamma): Enzyme rejects them on active values."""
DISCRETE: Final = frozenset({"isnan", "isinf", "isfinite", "range_len", "disjoint",
                             "c.isnan", "c.isinf", "c.isfinite", "bit_length",
                             *(f"mixed_{op}" for op in ("lt", "le", "gt", "ge", "eq", "ne"))})
"""Ops with a bool or integer result: nothing to differentiate."""


def emit(op: str, args: list[Value], build: Callable[[list[Value]], Value]) -> Value:
    """`build(args)` for op `op`, made differentiable by Enzyme through the rules above."""
    if op in ZERO_DERIVATIVE:
        return build([stop_gradient(a) if isinstance(a.type, ir.FloatType) else a for a in args])
    stopped = [stop_gradient(a) for a in args]
    value = build(stopped)
    result = value
    for arg, arg_sg, partial in zip(args, stopped, RULES[op](stopped, value), strict=True):
        result = arith.addf(result, arith.mulf(partial, arith.subf(arg, arg_sg)))
    return result
