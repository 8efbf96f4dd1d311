"""Frontend typing rules of complex scalars (c64, c128 and Python's weak `complex`).

Operators, literals, `.real`/`.imag`/`.conjugate()` and the implicit-conversion guard; the
builtins (`complex(...)`, `abs`, `cmath.*`, `np.exp/np.angle/np.conj/...`) are in
complex_calls.py. Complex values follow NumPy 2 promotion (types.py rule 3: a Python complex
takes a strong float partner's precision). CPython's refusals become CompileErrors with its
wording: `//`, `%` and bitwise operators, ordering comparisons, `~`. This module sits below
operators.py (which calls in here), so it imports nothing of the typer.
"""

from __future__ import annotations

from typing import Any, Final

from .. import types as T
from ..errors import CompileError, Span
from . import tir

ALLOWED: Final = frozenset({"add", "sub", "mul", "truediv", "pow"})
"""The binary operators Python defines on complex numbers."""
_SYMBOL: Final = {"floordiv": "//", "mod": "%", "and": "&", "or": "|", "xor": "^",
                  "lshift": "<<", "rshift": ">>", "lt": "<", "le": "<=", "gt": ">",
                  "ge": ">="}
_PYNAME: Final = {"b": "bool", "i": "int", "u": "int", "f": "float", "c": "complex"}


def involved(*types: T.Type) -> bool:
    """Some operand is a complex scalar."""
    return any(isinstance(t, T.Scalar) and t.is_complex for t in types)


def convert(e: tir.Expr, to: T.Type) -> tir.Expr:
    """operators.cast of a conversion to or from a complex type (guard_cast checked it)."""
    assert isinstance(to, T.Scalar)
    return _cast(e, to)


def _cast(e: tir.Expr, to: T.Scalar) -> tir.Expr:
    if e.type == to:
        return e
    if isinstance(e, tir.Const):
        return tir.Const(to, e.span, _constant(e.value, to))
    return tir.Cast(to, e.span, e)


def _constant(value: bool | int | float | complex, to: T.Scalar) -> Any:
    """A constant's value converted to `to` (a Python complex: see tir.Const)."""
    if to.is_complex:
        return complex(to.np_dtype.type(value))
    assert to.is_bool
    return bool(value)


def _pytype(t: T.Scalar) -> str:
    return _PYNAME[t.kind] if t.weak else str(t)


def binary(op: str, span: Span, left: tir.Expr, right: tir.Expr) -> tir.Expr:
    """`left op right` with a complex operand (NumPy's promotion, no division checks:
    division by zero gives inf/nan as in NumPy)."""
    lt, rt = left.type, right.type
    assert isinstance(lt, T.Scalar) and isinstance(rt, T.Scalar)
    if op not in ALLOWED:
        raise CompileError(f"unsupported operand type(s) for {_SYMBOL[op]}: '{_pytype(lt)}' "
                           f"and '{_pytype(rt)}'", span)
    t = T.promote(T.arith_operand(lt), T.arith_operand(rt))
    return tir.BinOp(t, span, op, _cast(left, t), _cast(right, t))


def refuse_order(ops: list[str], span: Span, types: list[T.Scalar]) -> None:
    """Ordering comparisons of complex numbers (also in a chain) are CPython's TypeError."""
    for op, lt, rt in zip(ops, types, types[1:], strict=False):
        if op not in ("eq", "ne") and involved(lt, rt):
            raise CompileError(f"'{_SYMBOL[op]}' not supported between instances of "
                               f"'{_pytype(lt)}' and '{_pytype(rt)}'; complex numbers have no "
                               "order: compare abs(z) or z.real", span)


def compare(op: str, span: Span, left: tir.Expr, right: tir.Expr,
            result: T.Scalar) -> tir.Expr:
    """`==`/`!=` compare both parts (`refuse_order` refused the others)."""
    lt, rt = left.type, right.type
    assert isinstance(lt, T.Scalar) and isinstance(rt, T.Scalar)
    t = T.promote(T.arith_operand(lt), T.arith_operand(rt))
    return tir.Compare(result, span, op, _cast(left, t), _cast(right, t))


def unary(op: str, span: Span, operand: tir.Expr) -> tir.Expr:
    t = operand.type
    assert isinstance(t, T.Scalar)
    if op == "invert":
        raise CompileError(f"bad operand type for unary ~: '{_pytype(t)}'", span)
    if isinstance(operand, tir.Const):
        return tir.Const(t, span, _constant(-complex(operand.value), t))
    return tir.UnaryOp(t, span, "neg", operand)


def literal(span: Span, value: complex) -> tir.Expr:
    return tir.Const(T.py_complex, span, _constant(value, T.py_complex))


def part(span: Span, attr: str, value: tir.Expr) -> tir.Expr:
    """`x.real` / `x.imag` of a scalar (NumPy and Python give these on every number)."""
    t = value.type
    assert isinstance(t, T.Scalar)
    if t.is_complex:
        return tir.Call(t.part, span, f"c.{attr}", (value,))
    if attr == "real":
        return value
    return tir.Const(t, span, False if t.is_bool else 0)


def conjugate(span: Span, value: tir.Expr) -> tir.Expr:
    t = value.type
    assert isinstance(t, T.Scalar)
    return tir.Call(t, span, "c.conj", (value,)) if t.is_complex else value


def lost(value: tir.Expr, to: T.Scalar) -> CompileError:
    """A complex value where a real one is wanted (NumPy's ComplexWarning case)."""
    assert isinstance(value.type, T.Scalar)
    return CompileError(f"cannot convert a {_pytype(value.type)} value to {_pytype(to)}: the "
                        "imaginary part would be lost (NumPy's ComplexWarning); write "
                        "z.real (or np.real(z)) for the real part, or abs(z) for the "
                        "magnitude", value.span)


def guard_cast(value: tir.Expr, to: T.Type) -> None:
    """Refuse an implicit complex -> real conversion (bool is a truth test, allowed)."""
    t = value.type
    if (isinstance(t, T.Scalar) and t.is_complex and isinstance(to, T.Scalar)
            and not to.is_complex and not to.is_bool):
        raise lost(value, to)


ROUTINES: Final = frozenset({"np.flip", "np.roll", "np.diff", "np.convolve", "np.tile",
                            "np.repeat", "np.diag", "np.triu", "np.tril", "np.trapezoid",
                            "np.cross"})
"""The NumPy routines written in Ember (ember/prelude) that take complex arrays (tested in
tests/e2e/test_complex.py); the others are refused by name at the user's call."""


def refuse_routine(name: str, span: Span, values: list[object]) -> None:
    """A prelude routine or sort-like function `name` called with complex `values` (typed
    arguments; other bound values are constants)."""
    for v in values:
        t = v.type if isinstance(v, tir.Expr) else None
        if isinstance(t, T.Array | T.Scalar) and involved(
                t.dtype if isinstance(t, T.Array) else t) and name not in ROUTINES:
            raise CompileError(f"{name}() of complex values is not supported in kernels; "
                               "apply it to a.real and a.imag, or np.abs(a)", span)


def refuse_on_gpu(fn: tir.Function) -> None:
    """The GPU target has no complex lowering (libdevice, launch ABI): refuse it by name."""
    bad = [e for e in tir.walk(fn.body) if isinstance(e, tir.Expr) and involved(e.type)] or [
        e for e in tir.walk(fn.body) if isinstance(e, tir.Expr) and isinstance(e.type, T.Array)
        and involved(e.type.dtype)]  # point at a complex value, else at a complex array
    if bad or any(involved(t.dtype if isinstance(t, T.Array) else t) for _, t in fn.params):
        raise CompileError("complex numbers are not supported by the GPU target (target="
                           "\"gpu\"); use the CPU target, or pass real and imaginary parts "
                           "as float arrays", bad[0].span if bad else None)
