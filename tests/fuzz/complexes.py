"""Complex intermediates inside float expressions: `complex_float(gen, depth)`.

A float expression computed through complex values that CPython and Ember evaluate bit for
bit alike: complex numbers made of clamped floats (never inf or nan), combined with `+ - *`,
negation and `.conjugate()`, brought back with `.real`, `.imag` or `abs` (hypot on both
sides). Division, `**` and `cmath` may differ in the last ulp, so they are left to
complex_stmts.py, which only lets their values reach a function's final result.

(Reconstructed: a first version of this module was overwritten by mistake at 16:56 UTC while
two sessions edited tests/fuzz at once; exprs.py's `complex_float` hook is unchanged.)
"""

from __future__ import annotations

LIMIT = 1e3  # |float| going into a complex value


def _part(gen, depth: int) -> str:
    return gen.clamp(gen.float_expr(max(depth, 0)), LIMIT).text


def _complex(gen, depth: int) -> str:
    kind = gen.pick({"make": 3, "plus": 2, "lit": 1, "op": 3 if depth > 0 else 0,
                     "conj": 1 if depth > 0 else 0})
    if kind == "make":
        return f"complex({_part(gen, depth - 1)}, {_part(gen, depth - 1)})"
    if kind == "plus":
        return f"({_part(gen, depth - 1)} + 1j * {_part(gen, depth - 1)})"
    if kind == "lit":
        return gen.rng.choice(["1j", "(0.5-2j)", "(1.5+0.25j)"])
    if kind == "conj":
        return f"{_complex(gen, depth - 1)}.conjugate()"
    op = gen.rng.choice("+-*")
    return f"({_complex(gen, depth - 1)} {op} {_complex(gen, depth - 1)})"


def complex_float(gen, depth: int):
    """A float Expr through complex intermediates (see the module docstring)."""
    from tests.fuzz.exprs import Expr
    z = _complex(gen, min(depth, 2))
    form = gen.rng.choice(["{}.real", "{}.imag", "abs({})"])
    return Expr(form.format(z), "float", atom=True)
