"""Derivatives of the host expressions of GPU kernels (the JSON lists of runtime/cuda.py).

A GPU kernel's host steps compute scalars between launches (`m = s / n`, `return t * t`).
Its derivative (driver/gpu_derivatives.py) carries them forward as tangents and back as
adjoints, with new host expressions written here: `tangent(e, d)` is the tangent of `e`
given the tangent expression of each variable (`d(name)`, None: zero); `partial(e, v)` is
d e / d v. Zero is None throughout, so inactive parts leave no work. The integer-valued
operations (`//`, casts to integers, shapes) have zero derivatives; `min`, `max` and `abs` of
a value with a derivative are refused (the host expressions have no comparison to pick the
branch's derivative).
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import CompileError

Expr = list
Tangents = Callable[[str], Expr | None]


def const(value: float) -> Expr:
    return ["const", value]


def add(a: Expr | None, b: Expr | None) -> Expr | None:
    if a is None or b is None:
        return a if b is None else b
    return ["bin", "add", a, b]


def mul(a: Expr | None, b: Expr | None) -> Expr | None:
    return None if a is None or b is None else ["bin", "mul", a, b]


def neg(a: Expr | None) -> Expr | None:
    return None if a is None else ["neg", a]


def _bin(e: Expr, d: Tangents) -> Expr | None:
    op, a, b = e[1], e[2], e[3]
    da, db = tangent(a, d), tangent(b, d)
    if op == "add":
        return add(da, db)
    if op == "sub":
        return add(da, neg(db))
    if op == "mul":
        return add(mul(da, b), mul(a, db))
    if op == "truediv":  # (da - (a / b) db) / b
        top = add(da, neg(mul(["bin", "truediv", a, b], db)))
        return None if top is None else ["bin", "truediv", top, b]
    if op == "mod":  # a - floor(a / b) b
        return add(da, neg(mul(["bin", "floordiv", a, b], db)))
    return None  # floordiv: piecewise constant


def _call(e: Expr, d: Tangents) -> Expr | None:
    if any(tangent(a, d) is not None for a in e[2]):
        raise CompileError(f"cannot differentiate `{e[1]}(...)` of a differentiated value at "
                           "the top level of a GPU kernel; compute it inside a prange loop "
                           "or on the CPU")
    return None


_RULES: dict[str, Callable[[Expr, Tangents], Expr | None]] = {
    "const": lambda e, d: None,
    "dim": lambda e, d: None,
    "var": lambda e, d: d(e[1]),
    "bin": _bin,
    "neg": lambda e, d: neg(tangent(e[1], d)),
    "cast": lambda e, d: tangent(e[3], d) if e[1] == "f" else None,
    "call": _call,
}


def tangent(e: Expr, d: Tangents) -> Expr | None:
    """The tangent of host expression `e` (None: zero)."""
    if e[0] == "tuple":
        raise CompileError("a GPU kernel differentiated must return one float value")
    return _RULES[e[0]](e, d)


def partial(e: Expr, name: str) -> Expr | None:
    """d e / d name (None: zero)."""
    return tangent(e, lambda v: const(1.0) if v == name else None)


def variables(e: object) -> set[str]:
    """The variables host expression `e` reads."""
    if not isinstance(e, list) or not e:
        return set()
    if e[0] == "var":
        return {e[1]}
    return set().union(*(variables(x) for x in e))


def rename(e: Expr, names: dict[str, str]) -> Expr:
    """`e` with each variable replaced by its name in `names` (unchanged if absent)."""
    if e and e[0] == "var":
        return ["var", names.get(e[1], e[1])]
    return [rename(x, names) if isinstance(x, list) else x for x in e]
