"""Annotation objects -> Ember types (parameters, return, annotated locals).

Input: the values Python evaluated for annotations (`float`, `f64[:]`, `tuple[float, int]`,
`np.float32`, `None`). Output: an Ember `Type`, or None when the annotation is outside the
subset (callers turn that into a CompileError at the annotation's span).
"""

from __future__ import annotations

import ast
import types as pytypes
from typing import Any

import numpy as np

from ..errors import CompileError
from ..types import PYTHON_ANNOTATIONS, Array, Scalar, Tuple, Type, from_dtype, none
from .source import Source


def type_of_annotation(value: Any) -> Type | None:
    """The Ember type an annotation object denotes, or None if it denotes none."""
    if isinstance(value, Scalar | Array):
        return value
    if value is None or value is type(None):
        return none
    if value in PYTHON_ANNOTATIONS:
        return PYTHON_ANNOTATIONS[value]
    if isinstance(value, type) and issubclass(value, np.generic):
        return from_dtype(value)
    if isinstance(value, pytypes.GenericAlias) and value.__origin__ is tuple:
        items = [type_of_annotation(a) for a in value.__args__]
        if items and all(isinstance(t, Scalar) for t in items):
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


def eval_annotation(src: Source, node: ast.expr) -> Type:
    """Evaluate an annotation expression in the kernel's globals and convert it."""
    try:
        code = compile(ast.Expression(node), src.file, "eval")
        value = eval(code, dict(src.func.__globals__), _closure_values(src))
    except Exception as exc:
        raise src.error(node, f"cannot evaluate annotation: {exc}") from None
    result = type_of_annotation(value)
    if result is None:
        raise src.error(node, f"unsupported annotation '{describe(value)}'; use a scalar type "
                        "(int, float, bool, f32, i64, ...) or an array type (f64[:], ...)")
    return result


def _closure_values(src: Source) -> dict[str, Any]:
    code, cells = src.func.__code__, src.func.__closure__ or ()
    out = {}
    for name, cell in zip(code.co_freevars, cells, strict=False):
        try:
            out[name] = cell.cell_contents
        except ValueError:
            continue
    return out


def param_types(src: Source) -> list[tuple[str, Type]]:
    """The annotated parameter types of the kernel, in order."""
    return [(a.arg, eval_annotation(src, a.annotation)) for a in src.tree.args.args
            if a.annotation is not None]


def return_type(src: Source) -> Type | None:
    """The declared return type, or None when the kernel has no return annotation."""
    node = src.tree.returns
    if node is None:
        return None
    return eval_annotation(src, node)


def require(ok: bool, src: Source, node: ast.AST, message: str) -> None:
    if not ok:
        raise CompileError(message, src.span(node))
