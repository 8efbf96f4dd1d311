"""Annotation objects -> Ember types (parameters, return, annotated locals).

Input: the values Python evaluated for annotations (`float`, `f64[:]`, `tuple[float, int]`,
`np.float32`, `None`). Output: an Ember `Type`, or None when the annotation is outside the
subset (callers turn that into a CompileError at the annotation's span).
"""

from __future__ import annotations

import ast
import types as pytypes
import typing
from typing import Any, Final

import numpy as np

from ..errors import CompileError
from ..types import (
    PYTHON_ANNOTATIONS,
    Array,
    Scalar,
    Tuple,
    Type,
    UnionAnnotation,
    from_dtype,
    none,
)
from .source import Source


def type_of_annotation(value: Any) -> Type | None:
    """The Ember type an annotation object denotes, or None if it denotes none."""
    if isinstance(value, Scalar | Array):
        return value
    if value is None or value is type(None):
        return none
    if isinstance(value, type) and value in PYTHON_ANNOTATIONS:
        return PYTHON_ANNOTATIONS[value]
    if isinstance(value, type) and issubclass(value, np.generic):
        return from_dtype(value)
    if typing.get_origin(value) is tuple:
        items = [type_of_annotation(a) for a in typing.get_args(value)]
        if items and all(isinstance(t, Scalar | Array) for t in items):
            return Tuple(tuple(t for t in items if t is not None))
    return None


def describe(value: Any) -> str:
    """A short user-facing spelling of an annotation or Python value's type."""
    if isinstance(value, type):
        return value.__name__
    if isinstance(value, list):
        inner = type(value[0]).__name__ if value else "Any"
        return f"list[{inner}]"
    return str(value) if isinstance(value, pytypes.GenericAlias) else type(value).__name__


_ONE_TYPE = ("kernels give every value a single type (only a parameter may be Optional, "
             "'x: f64[:] | None = None'); annotate one type, e.g. 'f64[:]'")
_REFUSALS: Final[dict[object, str]] = {
    list: "kernels take numpy arrays, not lists; annotate the array's dtype and dimensions, "
    "e.g. 'f64[:]'",
    dict: "dicts are not supported in kernels; pass numpy arrays and scalars",
    set: "sets are not supported in kernels; pass numpy arrays and scalars",
    str: "strings are not supported in kernels; pass numbers and numpy arrays",
    bytes: "bytes are not supported in kernels; pass numbers and numpy arrays",
    np.ndarray: "annotate arrays with their dtype and number of dimensions, e.g. 'f64[:]' or "
    "'f32[:, :]'",
    tuple: "tuples hold scalars and arrays, e.g. 'tuple[f64[:], int]'",
    typing.Union: _ONE_TYPE,
    pytypes.UnionType: _ONE_TYPE,
    UnionAnnotation: _ONE_TYPE,
    typing.Any: "kernels need a concrete type; use a scalar type (int, float, f32, i64, ...) "
    "or an array type (f64[:], ...)",
}


def eval_annotation(src: Source, node: ast.expr) -> Type:
    """Evaluate an annotation expression in the kernel's globals and convert it. A string
    annotation (`"f64[:]"`) is evaluated from its text, as typing resolves forward references."""
    value = _evaluate(src, node, node)
    if isinstance(value, str):
        try:
            text = ast.parse(value.strip(), mode="eval").body
        except SyntaxError:
            raise src.error(node, f"cannot read annotation {value!r}") from None
        value = _evaluate(src, text, node)
    result = type_of_annotation(value)
    if result is None:
        raise src.error(node, f"unsupported annotation '{_spelling(node)}': {_refusal(value)}")
    return result


def _evaluate(src: Source, expr: ast.expr, node: ast.expr) -> Any:
    try:
        code = compile(ast.fix_missing_locations(ast.Expression(expr)), src.file, "eval")
        return eval(code, dict(src.func.__globals__), _closure_values(src))
    except Exception as exc:
        raise src.error(node, f"cannot evaluate annotation '{_spelling(node)}': {exc}") from None


def _spelling(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ast.unparse(node)


def _refusal(value: Any) -> str:
    origin = typing.get_origin(value) or value
    try:
        found = _REFUSALS.get(origin) or _REFUSALS.get(type(origin))
    except TypeError:  # unhashable annotation values
        found = None
    return found or ("use a scalar type (int, float, bool, f32, i64, ...) or an array type "
                     "(f64[:], ...)")


def _closure_values(src: Source) -> dict[str, Any]:
    code, cells = src.func.__code__, src.func.__closure__ or ()
    out = {}
    for name, cell in zip(code.co_freevars, cells, strict=False):
        try:
            out[name] = cell.cell_contents
        except ValueError:
            continue
    return out


def return_type(src: Source) -> Type | None:
    """The declared return type, or None when the kernel has no return annotation."""
    node = src.tree.returns
    if node is None:
        return None
    return eval_annotation(src, node)


def require(ok: bool, src: Source, node: ast.AST, message: str) -> None:
    if not ok:
        raise CompileError(message, src.span(node))
