"""Frontend step 4b': the arguments of a call of another kernel -> the callee's flat arguments.

Input: the call node and the callee's `Binding` (params.py). Output: the None-pattern that
picks the callee's specialization (arguments that are the constant None) and one AST node per
flat parameter of that specialization: keywords bound by name and omitted parameters filled
with their defaults as CPython does (its TypeError wording becomes a CompileError at the
call), tuple arguments split into their items (`(a, b)` literals item by item, any other
tuple value `t` as `t[0]`, `t[1]`, ...).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from .. import types as T
from ..binding import Binding, Param
from .source import Source


def bind_call(src: Source, node: ast.Call, binding: Binding, name: str,
              type_of: Callable[[ast.expr], T.Type]) -> tuple[tuple[str, ...], list[ast.expr]]:
    """(the callee's None-pattern, the flat argument nodes) of call `node`; `type_of` types
    a tuple argument that is not a literal."""
    for a in node.args:
        if isinstance(a, ast.Starred):
            raise src.error(a, f"calls of kernel '{name}' cannot unpack arguments with *; "
                            "pass each argument")
    for k in node.keywords:
        if k.arg is None:
            raise src.error(k.value, f"calls of kernel '{name}' cannot unpack arguments "
                            "with **; pass each argument by name")
    try:
        values = binding.bind(node.args, {k.arg: k.value for k in node.keywords
                                          if k.arg is not None})
    except TypeError as err:
        raise src.error(node, str(err)) from None
    bound = [v if isinstance(v, ast.expr) else _literal(v, node) for v in values]
    pattern: list[str] = []
    flat: list[ast.expr] = []
    for p, v in zip(binding.params, bound, strict=True):
        if isinstance(v, ast.Constant) and v.value is None:
            if not p.optional:
                raise src.error(v, f"argument '{p.name}' of kernel '{name}' cannot be None; "
                                f"annotate it '... | None' to accept None")
            pattern.append(p.name)
            continue
        flat.extend(_items(src, p, v, name, type_of) if p.items else [v])
    return tuple(pattern), flat


def _literal(value: Any, at: ast.AST) -> ast.expr:
    """A default value as an expression node at the call."""
    if isinstance(value, tuple):
        out: ast.expr = ast.Tuple([_literal(v, at) for v in value], ast.Load())
    else:
        out = ast.Constant(value)
    return ast.fix_missing_locations(ast.copy_location(out, at))


def _items(src: Source, p: Param, value: ast.expr, name: str,
           type_of: Callable[[ast.expr], T.Type]) -> list[ast.expr]:
    n = len(p.items)
    if isinstance(value, ast.Tuple | ast.List):
        if isinstance(value, ast.List) or len(value.elts) != n:
            what = "a list" if isinstance(value, ast.List) else f"{len(value.elts)} items"
            raise src.error(value, f"argument '{p.name}' of kernel '{name}' must be a tuple "
                            f"of {n} items, got {what}")
        return list(value.elts)
    built = _constructed(src, value, p, name)
    if built is not None:
        return built
    t = type_of(value)
    if not isinstance(t, T.Tuple) or len(t.items) != n:
        raise src.error(value, f"argument '{p.name}' of kernel '{name}' must be a tuple of "
                        f"{n} items, got {t}")
    return [ast.fix_missing_locations(ast.copy_location(
        ast.Subscript(value, ast.copy_location(ast.Constant(k), value), ast.Load()), value))
        for k in range(n)]


def _constructed(src: Source, value: ast.expr, p: Param, name: str) -> list[ast.expr] | None:
    """The field values of `Cls(...)`, a NamedTuple built at the call, in field order."""
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
        return None
    found, cls = src.lookup(value.func.id)
    if not (found and isinstance(cls, type) and issubclass(cls, tuple)
            and hasattr(cls, "_fields")):
        return None
    fields = tuple(cls._fields)
    if fields != p.fields:
        raise src.error(value, f"argument '{p.name}' of kernel '{name}' takes fields "
                        f"{', '.join(p.fields) or '(a plain tuple)'}; {cls.__name__} has "
                        f"{', '.join(fields)}")
    defaults = getattr(cls, "_field_defaults", {})
    ctor = Binding(cls.__name__, tuple(Param(f, has_default=f in defaults,
                                             default=defaults.get(f)) for f in fields))
    try:
        values = ctor.bind(value.args, {k.arg: k.value for k in value.keywords if k.arg})
    except TypeError as err:
        raise src.error(value, str(err)) from None
    return [v if isinstance(v, ast.expr) else _literal(v, value) for v in values]
