"""Frontend: `raise` statements (and `assert`, desugared to `if not c: raise AssertionError`)
-> `tir.Raise` with a message site, and the sites of run-time checks (bounds, division).

The message is a string literal, an f-string of scalars or one scalar; it becomes a template
in `str.format` syntax over the scalar arguments, which the runtime formats with Python's
rules when the kernel raises (runtime/kernel_errors.c), so the text matches CPython's.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Final, Protocol

from .. import types as T
from ..errors import CompileError, Span
from ..options import CompileOptions
from . import tir
from .scope import Scope
from .source import Source

RAISABLE: Final = frozenset({
    "ArithmeticError", "AssertionError", "Exception", "FloatingPointError", "IndexError",
    "KeyError", "LookupError", "NotImplementedError", "OverflowError", "RuntimeError",
    "TypeError", "ValueError", "ZeroDivisionError",
})
VALUE: Final = ":value"
"""Suffix of a site's kind whose message is str() of one scalar (runtime/call.py)."""
MAX_ARGS: Final = 16
"""Values one message may format (runtime/kernel_errors.c MAX_ARGS)."""
_TAGS: Final = {("f", 64): "d", ("f", 32): "f", ("b", 1): "?"}
# Python's format-spec mini-language, less grouping (',' '_'), 'n' and 'c'
_SPEC: Final = re.compile(r"(?:.?[<>=^])?[-+ ]?#?0?\d*(?:\.\d+)?[bdoxXeEfFgG%]?")
_SAMPLES: Final = {"d": 1.5, "f": 1.5, "q": -3, "Q": 3, "?": True}


class Sites(Protocol):
    def site(self, site: tir.Site) -> int: ...


class Located(Protocol):
    """What the run-time check sites use of the typer (operators.Typer, which imports this
    module, so it is not named here)."""

    @property
    def src(self) -> Source: ...

    @property
    def scope(self) -> Scope: ...


def tag(t: T.Scalar) -> str:
    """The runtime's type letter of a formatted value."""
    return _TAGS.get((t.kind, t.bits), "Q" if t.kind == "u" else "q")


def add_site(sites: Sites, kind: str, template: str, tags: str, span: Span,
             func: str) -> int:
    return sites.site(tir.Site(kind, template, tags, span.file, span.line, func))


class RaiseBuilder:
    """`visit_Raise` for the statement builder (a mixin of StmtBuilder, whose ExprTyper
    provides `error`, `scalar`, `src` and `scope`)."""

    error: Callable[[ast.AST, str], CompileError]
    expr: Callable[[ast.expr], tir.Expr]
    scalar: Callable[[ast.expr, str], tir.Expr]
    src: Source
    scope: Scope

    def visit_Raise(self, node: ast.Raise) -> list[tir.Stmt]:
        if node.exc is None:
            raise self.error(node, "a bare 'raise' (re-raise) is not supported in kernels; "
                             "raise an exception, e.g. raise ValueError(\"...\")")
        if node.cause is not None:
            raise self.error(node.cause, "'raise ... from ...' is not supported in kernels; "
                             "write raise ValueError(\"...\")")
        kind, message = self._exception(node.exc)
        template, args = self._message(message)
        if template == "{0}" and not isinstance(message, ast.JoinedStr):
            kind += VALUE  # E(x): Python rebuilds E with the value (KeyError(4) shows 4)
        tags = "".join(tag(a.type) for a in args)  # type: ignore[arg-type]
        span = self.src.span(node)
        site = add_site(self.scope.callees, kind, template, tags, span, self.src.name)
        return [tir.Raise(span, site, tuple(args))]

    def _exception(self, exc: ast.expr) -> tuple[str, ast.expr | None]:
        call = exc if isinstance(exc, ast.Call) else None
        name = call.func if call else exc
        kind = name.id if isinstance(name, ast.Name) else None
        if kind not in RAISABLE:
            supported = ", ".join(sorted(RAISABLE))
            raise self.error(exc, f"kernels can raise the built-in exceptions {supported}; "
                             f"'{ast.unparse(name)}' is not one of them")
        if call is None or not (call.args or call.keywords):
            return kind, None
        if len(call.args) != 1 or call.keywords:
            raise self.error(call, f"{kind}(...) in a kernel takes one message: a string, an "
                             "f-string of scalars or a scalar")
        return kind, call.args[0]

    def _message(self, node: ast.expr | None) -> tuple[str, list[tir.Expr]]:
        if node is None:
            return "", []
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return _escape(node.value), []
        if not isinstance(node, ast.JoinedStr) and _builds_text(node):
            raise self.error(node, "an exception message in a kernel is a string literal, an "
                             "f-string of scalars or one scalar; write it as an f-string, e.g. "
                             "f\"x={x}\"")
        fstring = isinstance(node, ast.JoinedStr)
        parts = node.values if isinstance(node, ast.JoinedStr) else [
            ast.FormattedValue(node, ord("s"), None)]
        template: list[str] = []
        args: list[tir.Expr] = []
        for part in parts:
            if isinstance(part, ast.Constant):
                template.append(_escape(str(part.value)))
                continue
            assert isinstance(part, ast.FormattedValue)
            value = self._field(part, fstring)
            spec = self._spec(part.format_spec, value.type)  # type: ignore[arg-type]
            template.append(f"{{{len(args)}{':' + spec if spec else ''}}}")
            args.append(value)
        if len(args) > MAX_ARGS:
            raise self.error(node, f"an exception message can format at most {MAX_ARGS} values")
        return "".join(template), args

    def _field(self, part: ast.FormattedValue, fstring: bool) -> tir.Expr:
        """The value of one message field. format() of a float32 formats it as a Python
        float (NumPy's rule), str() prints its own shortest digits; repr() of a float32
        (`!r`, `{x=}`) is 'np.float32(...)' in Python, which is refused."""
        value = self.expr(part.value)
        t = value.type
        if not isinstance(t, T.Scalar):
            raise self.error(part.value, f"an exception message can format scalars only, "
                             f"not {t}; format single elements, e.g. "
                             f"{{{ast.unparse(part.value)}[0]}}")
        conversion = chr(part.conversion) if part.conversion > 0 else ""
        if conversion and part.format_spec is not None:
            raise self.error(part, f"a conversion (!{conversion}) together with a format spec "
                             "is not supported in kernel messages; drop one of them")
        single = t.is_float and t.bits == 32
        if single and conversion in ("r", "a"):
            raise self.error(part, "repr() of a float32 in a kernel message is not "
                             "supported (Python prints np.float32(...)); write {float(x)} or "
                             "{x!s}")
        widen = single and fstring and not conversion
        return tir.Cast(T.f64, value.span, value) if widen else value

    def _spec(self, spec: ast.expr | None, t: T.Scalar) -> str:
        if spec is None:
            return ""
        assert isinstance(spec, ast.JoinedStr)
        if not all(isinstance(v, ast.Constant) for v in spec.values):
            raise self.error(spec, "format specs in kernel messages must be constant "
                             "(no nested {...} fields)")
        text = "".join(str(v.value) for v in spec.values)  # type: ignore[attr-defined]
        try:
            format(_SAMPLES[tag(t)], text)
            ok = _SPEC.fullmatch(text) is not None
        except ValueError:
            ok = False
        if not ok:
            raise self.error(spec, f"format spec ':{text}' is not supported for a value of type "
                             f"{t} in a kernel message; use fill/align, sign, width, "
                             "precision and one of the types b d o x X e E f F g G %")
        return text


def _builds_text(node: ast.expr) -> bool:
    """Whether `node` computes a string (concatenation, str()/repr(), .format, %)."""
    for n in ast.walk(node):
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            return True
        if isinstance(n, ast.Call) and (
                (isinstance(n.func, ast.Name) and n.func.id in ("str", "repr", "format"))
                or (isinstance(n.func, ast.Attribute) and n.func.attr == "format")):
            return True
    return False


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


# --- run-time checks (CompileOptions.boundscheck, error_model="python") ----------------------
def _options(typer: Located) -> CompileOptions | None:
    return typer.scope.callees.checks


def bounds_site(typer: Located, node: ast.AST, array: ast.expr) -> int | None:
    """The IndexError site of an array access under boundscheck=True (else None)."""
    checks = _options(typer)
    if checks is None or not checks.boundscheck:
        return None
    template = ("index {0} is out of bounds for axis {1} with size {2} "
                f"(array '{_escape(ast.unparse(array))}')")
    return add_site(typer.scope.callees, "IndexError", template, "qqq", typer.src.span(node),
                    typer.src.name)


_DIVISION: Final = {  # (op, operands were floats) -> CPython's message
    ("truediv", False): "division by zero", ("truediv", True): "float division by zero",
    ("floordiv", False): "integer division or modulo by zero",
    ("floordiv", True): "float floor division by zero",
    ("mod", False): "integer modulo by zero", ("mod", True): "float modulo",
}
NEGATIVE_POWER: Final = ("0.0 cannot be raised to a negative power",
                         "integers to negative integer powers are not allowed")
"""Messages of `int ** negative` under error_model="python": ZeroDivisionError for a zero
base (as CPython), ValueError otherwise (Ember's int ** int is an int, as in NumPy)."""


def checked_binop(typer: Located, node: ast.AST, e: tir.BinOp, floats: bool) -> tir.BinOp:
    """`e` with a ZeroDivisionError site under error_model="python" (division, modulo,
    integer powers); `floats`: the user's operands were floats (CPython's messages differ)."""
    checks = _options(typer)
    if checks is None or checks.error_model != "python":
        return e
    span = typer.src.span(node)
    sites = typer.scope.callees
    t = e.type
    assert isinstance(t, T.Scalar)
    if e.op == "pow" and not t.is_float:
        zero = add_site(sites, "ZeroDivisionError", NEGATIVE_POWER[0], "", span, typer.src.name)
        add_site(sites, "ValueError", NEGATIVE_POWER[1], "", span, typer.src.name)
        return replace(e, check=zero)  # the ValueError site follows it (ir/raising.py)
    message = _DIVISION.get((e.op, floats))
    if message is None:
        return e
    return replace(e, check=add_site(sites, "ZeroDivisionError", message, "", span,
                                     typer.src.name))
