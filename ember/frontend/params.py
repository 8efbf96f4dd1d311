"""Frontend step 0b: a kernel's parameters -> its `Binding` and its flat, typed parameters.

Input: the parsed `Source` and the pattern of Optional parameters that are None in the
specialization being compiled. Output: `ember.binding.Binding` (names, keyword-only, defaults,
tuple/NamedTuple items, Optional), the flat typed parameter list the native entry takes, and
the source rewritten for that specialization (paramfold.py): tuple parameters read as their
items, `x is None` folded to a constant and its dead branch removed.
"""

from __future__ import annotations

import ast
import dataclasses
import typing
from typing import Any

import numpy as np

from .. import types as T
from ..binding import Binding, Param
from .annotations import _evaluate, eval_annotation, type_of_annotation
from .paramfold import fold_parameters
from .source import Source

_DEFAULT_HINT = "a default value must be a number, a bool, None or a tuple of numbers"


@dataclasses.dataclass(frozen=True)
class Parameters:
    """The result of reading a kernel's parameters for one None-pattern."""

    binding: Binding
    params: list[tuple[str, T.Type]]
    """The native entry's parameters: flat names and their types."""
    src: Source
    """The source rewritten for this specialization."""


def prepare(src: Source, none: tuple[str, ...] | None) -> Parameters:
    """Read `src`'s parameters; `none` names the Optional ones that are None (None: those
    whose default is None)."""
    binding, read = _read_all(src)
    pattern = binding.default_pattern() if none is None else none
    optional = {p.name for p in binding.params if p.optional}
    for name in pattern:
        if name not in optional:
            raise src.error(src.tree, f"parameter '{name}' cannot be None")
    binding = dataclasses.replace(binding, none=tuple(pattern))
    flat = [(n, t) for (p, types) in read if p.name not in pattern
            for n, t in zip(p.flat, types, strict=True)]
    return Parameters(binding, flat, fold_parameters(src, binding, flat))


def binding_of(src: Source) -> Binding:
    """The kernel's parameters as Python binds them (no parameter None)."""
    return _read_all(src)[0]


def _read_all(src: Source) -> tuple[Binding, list[tuple[Param, list[T.Type]]]]:
    args = src.tree.args
    if args.vararg is not None:
        raise src.error(args.vararg, f"kernels take no *{args.vararg.arg}; name each "
                        f"parameter, or take a tuple ('{args.vararg.arg}: tuple[float, float]')")
    if args.kwarg is not None:
        raise src.error(args.kwarg, f"kernels take no **{args.kwarg.arg}; name each parameter "
                        "(keyword arguments bind to named parameters)")
    taken = {n.id for n in ast.walk(src.tree) if isinstance(n, ast.Name)}
    taken |= {a.arg for a in _all_args(args)}
    read = [_read(src, a, kwonly, taken) for a, kwonly in _each(args)]
    return Binding(src.func.__name__, tuple(p for p, _ in read)), read


def _all_args(args: ast.arguments) -> list[ast.arg]:
    return [*args.posonlyargs, *args.args, *args.kwonlyargs]


def _each(args: ast.arguments) -> list[tuple[ast.arg, bool]]:
    return [(a, False) for a in (*args.posonlyargs, *args.args)] + [
        (a, True) for a in args.kwonlyargs]


def _positional_only(src: Source, name: str) -> bool:
    return any(a.arg == name for a in src.tree.args.posonlyargs)


def _read(src: Source, arg: ast.arg, kwonly: bool,
          taken: set[str]) -> tuple[Param, list[T.Type]]:
    """One parameter: its `Param` and the types of its flat items."""
    name = arg.arg
    if arg.annotation is None:
        raise src.error(arg, f"parameter '{name}' needs a type annotation, "
                        "e.g. 'x: float' or 'a: f64[:]'")
    has_default, default = _default(src, arg, kwonly)
    node, optional = _strip_none(arg.annotation)
    optional = optional or (has_default and default is None)
    if node is None:
        raise src.error(arg.annotation, f"parameter '{name}' cannot be annotated None; "
                        "annotate the type of the value it receives")
    fields, types = _param_type(src, name, node)
    items: tuple[str, ...] = ()
    if fields is not None:
        items = tuple(_fresh(f"{name}_{f}", taken) for f in fields)
    if has_default and default is not None:
        _check_default_shape(src, arg, name, types, fields, default)
    return Param(name, items, tuple(f for f in fields or () if not f.isdigit()), kwonly,
                 has_default, default, optional, _positional_only(src, name)), types


def _fresh(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _default(src: Source, arg: ast.arg, kwonly: bool) -> tuple[bool, Any]:
    func = src.func
    if kwonly:
        values = func.__kwdefaults__ or {}
        if arg.arg not in values:
            return False, None
        value = values[arg.arg]
    else:
        names = [a.arg for a in (*src.tree.args.posonlyargs, *src.tree.args.args)]
        defaults = func.__defaults__ or ()
        k = names.index(arg.arg) - (len(names) - len(defaults))
        if k < 0:
            return False, None
        value = defaults[k]
    return True, _plain_default(src, arg, value)


def _plain_default(src: Source, arg: ast.arg, value: Any) -> Any:
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, tuple) and all(isinstance(v, bool | int | float) for v in value):
        return tuple(value)
    raise src.error(arg, f"unsupported default value {value!r} of parameter '{arg.arg}': "
                    f"{_DEFAULT_HINT}")


def _check_default_shape(src: Source, arg: ast.arg, name: str, types: list[T.Type],
                         fields: tuple[str, ...] | None, default: Any) -> None:
    values = default if isinstance(default, tuple) else (default,)
    ok = (isinstance(default, tuple) == (fields is not None) and len(values) == len(types)
          and all(isinstance(t, T.Scalar) and _fits(t, v) for t, v in zip(types, values,
                                                                             strict=False)))
    if not ok:
        raise src.error(arg, f"the default value {default!r} of parameter '{name}' does not "
                        f"fit its annotation; {_DEFAULT_HINT} matching the annotation")


def _fits(t: T.Scalar, value: Any) -> bool:
    """Whether a call passing `value` for a parameter of type `t` is accepted."""
    if t.is_bool:
        return isinstance(value, bool)
    return not (t.is_int and isinstance(value, float))


def _strip_none(node: ast.expr) -> tuple[ast.expr | None, bool]:
    """(the annotation without its None alternative, whether it had one): `X | None`,
    `None | X`, `Optional[X]`, `Union[X, None]`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            parsed = ast.parse(node.value.strip(), mode="eval").body
        except SyntaxError:
            return node, False
        inner, optional = _strip_none(parsed)
        return (node if not optional else inner), optional
    if _is_none(node):
        return None, True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        if _is_none(node.right):
            return node.left, True
        if _is_none(node.left):
            return node.right, True
    if isinstance(node, ast.Subscript) and _typing_name(node.value) == "Optional":
        return node.slice, True
    if isinstance(node, ast.Subscript) and _typing_name(node.value) == "Union":
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        rest = [i for i in items if not _is_none(i)]
        if len(rest) == 1 and len(items) == 2:
            return rest[0], True
    return node, False


def _is_none(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and node.value is None) or (
        isinstance(node, ast.Name) and node.id == "NoneType")


def _typing_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _param_type(src: Source, name: str,
                node: ast.expr) -> tuple[tuple[str, ...] | None, list[T.Type]]:
    """(the item names of a tuple/NamedTuple parameter or None, the flat item types)."""
    if _variadic(node):
        raise src.error(node, f"tuple parameter '{name}' needs a fixed number of items: write "
                        "each item's type, e.g. 'tuple[float, float, float]', or take a 1-D "
                        "array ('f64[:]') for any length")
    expr = node
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            expr = ast.copy_location(ast.parse(node.value.strip(), mode="eval").body, node)
        except SyntaxError:
            expr = node
    value = _evaluate(src, expr, node) if not isinstance(expr, ast.Constant) else None
    if isinstance(value, type) and issubclass(value, tuple) and hasattr(value, "_fields"):
        return _named_tuple(src, name, node, value)
    t = eval_annotation(src, node)
    if isinstance(t, T.Tuple):
        if not all(isinstance(i, T.Scalar | T.Array) for i in t.items):
            raise src.error(node, f"tuple parameter '{name}' holds scalars and arrays only")
        return tuple(str(k) for k in range(len(t.items))), list(t.items)
    if isinstance(t, T.NoneType):
        raise src.error(node, f"parameter '{name}' cannot be annotated None; "
                        "annotate the type of the value it receives")
    return None, [t]


def _variadic(node: ast.expr) -> bool:
    """`tuple[X, ...]`."""
    return (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple)
            and any(isinstance(e, ast.Constant) and e.value is Ellipsis
                    for e in node.slice.elts))


def _named_tuple(src: Source, name: str, node: ast.expr,
                 cls: type) -> tuple[tuple[str, ...], list[T.Type]]:
    try:
        hints = typing.get_type_hints(cls)
    except Exception:
        hints = dict(getattr(cls, "__annotations__", {}))
    fields = tuple(cls._fields)  # type: ignore[attr-defined]
    types: list[T.Type] = []
    for f in fields:
        t = type_of_annotation(hints.get(f))
        if not isinstance(t, T.Scalar | T.Array):
            raise src.error(node, f"field '{f}' of NamedTuple '{cls.__name__}' (parameter "
                            f"'{name}') must be annotated with a scalar or array type, e.g. "
                            "'x: f64[:]' or 'k: float'")
        types.append(t)
    return fields, types
