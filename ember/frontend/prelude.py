"""Frontend: calls of NumPy routines written in Ember (ember/prelude) -> typed kernel calls.

A `Routine` row (the table is prelude_table.py) names a NumPy function's parameters, which
of them must be compile-time constants (`axis`, `mode`, `ord`, ...) and their defaults, and a
*picker*: from the bound arguments (typed expressions, or Python values for constants) it
chooses the prelude function to call and its arguments. The program builder types that
generic function once per list of argument types (`Callees.specialize`, like Numba's
overloads), so one dtype-generic source serves f32, f64 and integer arrays. Calls between
prelude functions (their `_helpers`) are specialized the same way. A function that can raise
(a `raise` in it or in a prelude function it calls: `raises`) is specialized per call site
instead, every span of its copy pinned to the user's call (source.PinnedSource), so its
run-time errors name the user's line; its helpers are pinned to that same call. Other
frontend modules (selection.py) call prelude functions through `specialize` too.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import types as T
from . import aliasing, arrays, complexes, tir, views
from .operators import Typer, cast
from .source import load_source

Bound = dict[str, Any]
"""Parameter name -> typed `tir.Expr` (ordinary arguments) or Python value (constants)."""
Picker = Callable[[Typer, ast.Call, Bound], tir.Expr]

PACKAGE = "ember.prelude"


@dataclass(frozen=True)
class Routine:
    name: str
    """The spelling shown in errors, e.g. 'np.linalg.solve'."""
    params: tuple[str, ...]
    """NumPy's parameter names, in order (all may be given by keyword)."""
    pick: Picker
    defaults: dict[str, Any] = field(default_factory=dict)
    """Defaults of the optional parameters (None: absent)."""
    constants: frozenset[str] = frozenset()
    """Parameters that must be compile-time constants (literals or global constants)."""


def is_prelude_function(target: Any) -> bool:
    """A function of the prelude package (a helper one prelude routine calls)."""
    return callable(target) and getattr(target, "__module__", "").startswith(PACKAGE + ".")


def call(typer: Typer, node: ast.Call, routine: Routine) -> tir.Expr:
    """A call of a NumPy function the prelude implements."""
    bound = _bind(typer, node, routine)
    complexes.refuse_routine(routine.name, typer.src.span(node), list(bound.values()))
    return routine.pick(typer, node, bound)


def helper_call(typer: Typer, node: ast.Call, func: Any) -> tir.Expr:
    """A prelude function calling another: positional arguments, specialized on their types."""
    if node.keywords:
        raise typer.error(node, f"prelude helper '{func.__name__}' takes positional arguments")
    return specialize(typer, node, func, [typer.expr(a) for a in node.args])


def specialize(typer: Typer, node: ast.AST, func: Any, args: list[tir.Expr]) -> tir.Expr:
    """A call of prelude function `func`, typed for the types of `args`."""
    names = func.__code__.co_varnames[:func.__code__.co_argcount]
    if len(names) != len(args):
        raise typer.error(node, f"'{func.__name__}' takes {len(names)} argument(s), "
                          f"got {len(args)}")
    span = typer.src.span(node)  # inside a pinned routine: the user's call already
    scope = typer.scope
    callee = scope.callees.specialize(
        func, [(n, a.type) for n, a in zip(names, args, strict=True)], span,
        span if raises(func) else None)
    for name, arg in zip(names, args, strict=True):
        root = views.root_var(arg) if name in callee.written else None
        if root is not None:  # an array the helper writes (through a view: its base)
            aliasing.mark_written(scope, root.name)
    return tir.KernelCall(callee.ret, span, callee.symbol, tuple(args))


@functools.cache
def raises(func: Any) -> bool:
    """Whether prelude function `func` has a `raise`, or calls a prelude function that has."""
    src = load_source(func)
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Raise):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            found, callee = src.lookup(node.func.id)
            if found and callee is not func and is_prelude_function(callee) \
                    and raises(callee):
                return True
    return False


def _bind(typer: Typer, node: ast.Call, routine: Routine) -> Bound:
    """Python's argument binding against `routine.params`, constants evaluated."""
    given: dict[str, ast.expr] = {}
    if len(node.args) > len(routine.params):
        raise typer.error(node, f"{routine.name}() takes at most {len(routine.params)} "
                          f"arguments in kernels, got {len(node.args)}")
    given.update(zip(routine.params, node.args, strict=False))
    for kw in node.keywords:
        if kw.arg is None or kw.arg not in routine.params:
            raise typer.error(kw.value if kw.arg is None else kw, f"{routine.name}() got an "
                              f"unexpected keyword argument '{kw.arg}'")
        if kw.arg in given:
            raise typer.error(kw, f"{routine.name}() got multiple values for argument "
                              f"'{kw.arg}'")
        given[kw.arg] = kw.value
    bound: Bound = {}
    for name in routine.params:
        if name in given:
            bound[name] = (constant(typer, given[name], routine, name)
                           if name in routine.constants else typer.expr(given[name]))
        elif name in routine.defaults:
            bound[name] = routine.defaults[name]
        else:
            raise typer.error(node, f"{routine.name}() missing required argument '{name}'")
    return bound


_CONSTANT_TYPES = (bool, int, float, str, type(None), tuple)


def constant(typer: Typer, node: ast.expr, routine: Routine, name: str) -> Any:
    """The value of a constant argument: a literal, or a global (np.inf, a module constant)."""
    try:
        value = ast.literal_eval(node)
    except ValueError:
        value = _global(typer, node)
    if value is _NOT_CONSTANT or not isinstance(value, _CONSTANT_TYPES):
        raise typer.error(node, f"argument '{name}' of {routine.name}() must be a constant "
                          f"in kernels (a literal such as 0, None or 'full'), not "
                          f"'{ast.unparse(node)}'")
    return value


_NOT_CONSTANT = object()


def _global(typer: Typer, node: ast.expr) -> Any:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _global(typer, node.operand)
        return -inner if isinstance(inner, int | float) else _NOT_CONSTANT
    if isinstance(node, ast.Name | ast.Attribute) and _is_global(typer, node):
        return typer.resolve(node)
    return _NOT_CONSTANT


def _is_global(typer: Typer, node: ast.expr) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name) and node.id not in typer.scope.assigned \
        and node.id not in typer.scope.params


# --- argument helpers for pickers --------------------------------------------------------------
def array(typer: Typer, node: ast.Call, value: Any, what: str, ndims: tuple[int, ...]) -> T.Array:
    """The type of array argument `value`, which must have one of `ndims` dimensions."""
    t = value.type if isinstance(value, tir.Expr) else None
    if not isinstance(t, T.Array) or t.ndim not in ndims:
        dims = " or ".join(f"{d}-D" for d in ndims)
        raise typer.error(node, f"{what} must be a {dims} array in kernels, not "
                          f"{t if t is not None else repr(value)}")
    return t


def as_dtype(typer: Typer, node: ast.Call, value: tir.Expr, dtype: T.Scalar) -> tir.Expr:
    """`value` (an array or scalar) converted to `dtype` (a copy only if it differs)."""
    if isinstance(value.type, T.Array):
        return value if value.type.dtype == dtype else arrays.astype(typer, node, value, dtype)
    return cast(value, dtype)


def float_dtype(*types: T.Scalar) -> T.Scalar:
    """NumPy linalg's computation dtype: the promoted dtype, integers and bools as float64."""
    t = types[0]
    for u in types[1:]:
        t = T.promote(t, u)
    return t.strong() if t.is_float else T.f64


def axis(typer: Typer, node: ast.Call, value: Any, ndim: int, name: str) -> int | None:
    """A constant axis normalized to [0, ndim) (None stays None), with NumPy's AxisError text."""
    if value is None:
        return None
    if type(value) is not int:
        raise typer.error(node, f"{name}() needs an integer axis, not {value!r}")
    if not -ndim <= value < ndim:
        raise typer.error(node, f"axis {value} is out of bounds for array of dimension {ndim}")
    return int(value % ndim)
