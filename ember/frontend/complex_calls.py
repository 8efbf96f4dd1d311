"""Frontend typing rules of the builtins on complex values.

Rows of builtins.py name the rules here: `complex(re, im)` ("complex"), the `cmath` functions
("cmath": CPython returns a Python complex or float whatever the input) and np.angle/np.conj/
np.real/np.imag ("cpart"). `gate` wraps every other builtin rule of calls.py: a complex
argument goes to NumPy's complex loop where NumPy has one (np.exp, np.abs, np.isnan, ...) and
is refused with the construct's name and what to write otherwise (math.* functions refuse
complex in CPython too). The op keys are ir/complex_ops.py's "c.*" keys.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Final

from .. import types as T
from . import arrays, builtins, complexes, tir
from .operators import Typer, cast

Rule = Callable[[Typer, ast.Call, builtins.Builtin, list[tir.Expr]], tir.Expr]

UNARY: Final = frozenset({"exp", "log", "log10", "sqrt", "sin", "cos", "tan", "sinh", "cosh",
                          "tanh", "expm1", "log1p"})
"""NumPy ufuncs (and cmath functions) with a complex loop that Ember lowers."""
CMATH: Final = (*sorted(UNARY - {"expm1", "log1p"}), "phase", "polar", "rect", "isnan",
                "isinf", "isfinite")
"""The cmath functions builtins.py declares (rule "cmath")."""
_OWN: Final = frozenset({"complex", "cmath", "cpart", "cast", "len", "where", "ufunc_operator"})
"""Rules that take complex arguments themselves."""


def _scalar(e: tir.Expr) -> T.Scalar:
    assert isinstance(e.type, T.Scalar)
    return e.type


def _complex_of(t: T.Scalar) -> T.Scalar:
    """The complex type holding `t` (f32 -> c64, ints -> c128, weak stays weak)."""
    return T.promote(T.arith_operand(t), T.py_complex)


def _call(t: T.Scalar, node: ast.Call, typer: Typer, op: str, *args: tir.Expr) -> tir.Expr:
    return tir.Call(t, typer.src.span(node), op, args)


def _complex(typer: Typer, node: ast.Call, row: builtins.Builtin,
             args: list[tir.Expr]) -> tir.Expr:
    """`complex()`, `complex(x)`, `complex(re, im)` (a Python complex, as in CPython)."""
    span = typer.src.span(node)
    if not args:
        return complexes.literal(span, 0j)
    if len(args) == 1:
        return cast(args[0], T.py_complex)
    re, im = (cast(a, T.py_complex) for a in args)  # complex(a, b) is a + b*1j in CPython
    if not complexes.involved(*(a.type for a in args)):
        re, im = (cast(a, T.py_float) for a in args)
        return _call(T.py_complex, node, typer, "c.create", re, im)
    i = complexes.literal(span, 1j)
    return tir.BinOp(T.py_complex, span, "add", re, tir.BinOp(T.py_complex, span, "mul", im, i))


def _cmath(typer: Typer, node: ast.Call, row: builtins.Builtin,
           args: list[tir.Expr]) -> tir.Expr:
    span = typer.src.span(node)
    if row.op == "rect":
        r, phi = (cast(a, T.py_float) for a in args)
        re = tir.BinOp(T.py_float, span, "mul", r, _call(T.py_float, node, typer, "cos", phi))
        im = tir.BinOp(T.py_float, span, "mul", r, _call(T.py_float, node, typer, "sin", phi))
        return _call(T.py_complex, node, typer, "c.create", re, im)
    z = cast(args[0], T.py_complex)
    if row.op == "phase":
        return _call(T.py_float, node, typer, "c.angle", z)
    if row.op == "polar":
        parts = (_call(T.py_float, node, typer, "c.abs", z),
                 _call(T.py_float, node, typer, "c.angle", z))
        return tir.TupleExpr(T.Tuple((T.py_float, T.py_float)), span, parts)
    if row.op in ("isnan", "isinf", "isfinite"):
        return _call(T.py_bool, node, typer, f"c.{row.op}", z)
    return _call(T.py_complex, node, typer, f"c.{row.op}", z)


def _cpart(typer: Typer, node: ast.Call, row: builtins.Builtin,
           args: list[tir.Expr]) -> tir.Expr:
    """np.real / np.imag / np.conj / np.angle (of real values too, as in NumPy)."""
    arg, span = args[0], typer.src.span(node)
    if row.op in ("real", "imag"):  # of a Python number: its .real/.imag, still Python's
        return complexes.part(span, row.op, cast(arg, T.arith_operand(_scalar(arg))))
    t = T.arith_operand(_scalar(arg)).strong()
    if row.op == "conj":
        return complexes.conjugate(span, cast(arg, t))
    z = cast(arg, _complex_of(t))
    return _call(_complex_of(t).part, node, typer, "c.angle", z)


def keeps_python_number(row: builtins.Builtin) -> bool:
    """np.real(x)/np.imag(x) of a Python number return x.real/x.imag (Python numbers), where
    other np functions give NumPy scalars."""
    return row.rule == "cpart" and row.op in ("real", "imag")


def _complex_arg(typer: Typer, node: ast.Call, row: builtins.Builtin,
                 args: list[tir.Expr]) -> tir.Expr:
    """Another builtin called with a complex argument."""
    z = next(a for a in args if complexes.involved(a.type))
    t = _scalar(z)
    if row.rule == "ufunc1" and row.op in UNARY:
        return _call(t, node, typer, f"c.{row.op}", z)
    if row.rule == "abs":
        return _call(t.part, node, typer, "c.abs", z)
    if row.rule == "np_pred":
        return _call(T.boolean, node, typer, f"c.{row.op}", z)
    if row.rule == "ufunc2" and row.op == "pow":
        return complexes.binary("pow", typer.src.span(node), args[0], args[1])
    if row.name.startswith("math."):
        raise typer.error(node, f"{row.name}() needs a real number, not complex; use "
                          f"cmath.{row.name[5:]}() or np.{row.name[5:]}() for complex values")
    raise typer.error(node, f"{row.name}() is not supported on complex values in kernels; "
                      "apply it to z.real, z.imag or abs(z)")


def gate(row: builtins.Builtin, rule: Rule) -> Rule:
    """`rule` for real arguments, the complex rules above when an argument is complex."""
    if row.rule in _OWN:
        return rule

    def gated(typer: Typer, node: ast.Call, row: builtins.Builtin,
              args: list[tir.Expr]) -> tir.Expr:
        if complexes.involved(*(a.type for a in args)):
            return _complex_arg(typer, node, row, args)
        return rule(typer, node, row, args)
    return gated


METHODS: Final = frozenset({"conjugate", "conj"})
"""Methods of complex values (and of arrays: NumPy's ndarray.conj/conjugate)."""
PARTS: Final = frozenset({"real", "imag"})


def method(typer: Typer, node: ast.Call, base: tir.Expr) -> tir.Expr:
    """`z.conjugate()` of a scalar, `a.conj()` of an array (a new array)."""
    span = typer.src.span(node)
    if isinstance(base.type, T.Array):
        return arrays.lift(typer, node, [base], lambda e: complexes.conjugate(span, e))
    if not isinstance(base.type, T.Scalar):
        raise typer.error(node, f"{base.type} has no method conjugate()")
    return complexes.conjugate(span, base)


def attribute(typer: Typer, node: ast.Attribute, base: tir.Expr) -> tir.Expr:
    """`z.real`/`z.imag` of a scalar; of an array a new array of the parts (NumPy gives a
    view: Ember reads it, and refuses stores through it, stmts.py)."""
    span = typer.src.span(node)
    if isinstance(base.type, T.Array):
        return arrays.lift(typer, node, [base], lambda e: complexes.part(span, node.attr, e))
    return complexes.part(span, node.attr, base)


def refuse_part_store(typer: Typer, target: ast.Subscript) -> None:
    """`a.real[i] = v` / `a.imag[...] = v`: NumPy writes through the view; Ember's `a.real` is
    a new array, so the store would be lost: refused."""
    node: ast.expr = target
    while isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Attribute) and node.attr in PARTS:
        raise typer.error(target, f"cannot store into '{ast.unparse(node)}': in kernels "
                          f".{node.attr} of an array is a copy, not NumPy's view; store whole "
                          "complex elements instead (a[i] = complex(v, a[i].imag))")


RULES: Final[dict[str, Rule]] = {"complex": _complex, "cmath": _cmath, "cpart": _cpart}
