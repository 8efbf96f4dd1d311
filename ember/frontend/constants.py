"""Frontend: constants of the kernel's module (or closure) -> typed values, frozen at compile
time (Numba's rule: a later change to the global is seen only by a new compilation; the values
are part of the disk-cache key, deps.py).

Numbers are `tir.Const`s (exprs.global_value). A tuple of numbers is a `tir.TupleExpr` of
constants. A NumPy array becomes a `tir.GlobalArray` (a constant in the compiled module,
ir/constants.py) bound once, at the top of the kernel, to a variable named `__ember_g_<name>`
that every read of the global uses, so views of it alias it like any array variable. The array
is read-only: a store into it, into a view of it or through a kernel that writes its argument,
and returning it, are compile errors asking to pass it as a parameter (`bind`).
"""

from __future__ import annotations

import ast
import hashlib
from typing import Any, Final

import numpy as np

from .. import types as T
from ..errors import CompileError, Span
from . import complexes, tir
from .annotations import describe
from .operators import Typer, cast, convert, is_dotted, is_local
from .raises import bounds_site
from .scope import Scope
from .views import root_var

PREFIX: Final = "__ember_g_"
_WEAK: Final = {bool: T.py_bool, int: T.py_int, float: T.py_float}


def value(typer: Typer, node: ast.expr, obj: Any) -> tir.Expr | None:
    """The typed value of global `obj` read at `node`: a tuple of numbers or an array (None
    for other objects)."""
    if isinstance(obj, tuple):
        return _tuple(typer, node, obj)
    if isinstance(obj, np.ndarray):
        return _array(typer, node, obj)
    return None


def is_constant(typer: Typer, node: ast.expr) -> bool:
    """Whether `node` (a global name or dotted attribute) is a module-level array or tuple, so
    its methods and attributes are typed like a local value's (`W.sum()`, `W.shape`)."""
    if is_local(typer.scope, node) or not is_dotted(node):
        return False
    try:
        return isinstance(typer.resolve(node), np.ndarray | tuple)
    except CompileError:
        return False


def number(obj: Any, span: Span) -> tir.Expr | None:
    """A Python number (weakly typed, like a literal) or a NumPy scalar, as a constant."""
    if type(obj) is complex:
        return complexes.literal(span, obj)
    if type(obj) in _WEAK:
        weak = _WEAK[type(obj)]
        return tir.Const(weak, span, convert(obj, weak))
    if isinstance(obj, np.generic):
        dtype = T.from_dtype(obj.dtype)
        if dtype is not None:
            return tir.Const(dtype, span, obj.item())
    return None


def _tuple(typer: Typer, node: ast.expr, obj: tuple[Any, ...]) -> tir.Expr:
    span = typer.src.span(node)
    items = [number(item, span) for item in obj]
    for item, const in zip(obj, items, strict=True):
        if const is None:
            raise typer.error(node, f"module-level tuple '{ast.unparse(node)}' holds "
                              f"{describe(item)}; kernels read module-level tuples of numbers "
                              "only; pass this value as a parameter")
    consts = tuple(c for c in items if c is not None)
    return tir.TupleExpr(T.Tuple(tuple(c.type for c in consts)), span, consts)


def dynamic_item(typer: Typer, node: ast.Subscript, base: tir.Expr) -> tir.Expr | None:
    """`T[k]` of a tuple of number constants, `k` known at run time: an element of the
    constant array of its items (NumPy's indexing: a negative `k` counts from the end; an index
    out of range is an IndexError under boundscheck, as for arrays). None for other tuples."""
    items = base.items if isinstance(base, tir.TupleExpr) else ()
    types = [i.type for i in items if isinstance(i, tir.Const) and isinstance(i.type, T.Scalar)]
    if not items or len(types) != len(items):
        return None
    common: T.Type | None = types[0]
    for t in types[1:]:
        common = T.join(common, t) if common is not None else None
    if not isinstance(common, T.Scalar):
        return None
    index = typer.expr(node.slice)
    if not (isinstance(index.type, T.Scalar) and (index.type.is_int or index.type.is_bool)):
        raise typer.error(node.slice, f"tuple index must be an integer, not {index.type}")
    values = np.array([i.value for i in items if isinstance(i, tir.Const)],
                      dtype=common.strong().np_dtype)
    array = _array(typer, node.value, values)
    span = typer.src.span(node)
    load = tir.Load(common.strong(), span, array, (cast(index, T.i64),), (True,),
                    bounds_site(typer, node, node.value))
    return cast(load, common)


def _array(typer: Typer, node: ast.expr, obj: np.ndarray) -> tir.Expr:
    name = ast.unparse(node)
    dtype = T.from_dtype(obj.dtype)
    if dtype is None:
        raise typer.error(node, f"module-level array '{name}' has dtype {obj.dtype}, which "
                          "kernels do not support; convert it (np.asarray(..., np.float64)) "
                          "or pass it as a parameter")
    span = typer.src.span(node)
    if obj.ndim == 0:
        return tir.Const(dtype, span, obj.item())
    data = np.ascontiguousarray(obj, dtype=dtype.np_dtype)
    raw = (data.view(np.uint8) if dtype.is_bool else data).tobytes()
    digest = hashlib.sha256(f"{dtype}{obj.shape}".encode() + raw).hexdigest()[:16]
    t = T.Array(dtype, obj.ndim)
    plain = name.replace(".", "_")  # mod.W -> mod_W; a tuple literal's items: the digest
    var = PREFIX + (plain if plain.isidentifier() else digest)
    scope = typer.scope
    if var not in scope.constants:
        scope.constants[var] = tir.GlobalArray(t, span, f"__ember_const_{digest}",
                                               tuple(obj.shape), raw)
    return tir.Var(t, span, var)


def bind(scope: Scope, body: tuple[tir.Stmt, ...],
         types: dict[str, T.Type]) -> tuple[tuple[tir.Stmt, ...], dict[str, T.Type]]:
    """`body` with each global array bound to its variable first, and the variable types;
    refuses writes into a global array and returning one."""
    if not scope.constants:
        return body, types
    _check_read_only(scope, body)
    binds = tuple(tir.Assign(g.span, var, g) for var, g in scope.constants.items())
    return binds + body, {**types, **{var: g.type for var, g in scope.constants.items()}}


def _check_read_only(scope: Scope, body: tuple[tir.Stmt, ...]) -> None:
    for node in tir.walk(body):
        for target, returned in _targets(node) + _written_args(scope, node):
            var = _constant_root(scope, target)
            if var is not None:
                raise _error(scope, node.span, var[len(PREFIX):], returned)
    for var in scope.constants:  # written where no statement shows it (e.g. a.sort())
        if var in scope.written:
            raise _error(scope, scope.constants[var].span, var[len(PREFIX):], False)


def _targets(node: tir.Expr | tir.Stmt) -> list[tuple[tir.Expr, bool]]:
    """The arrays `node` writes (False) or returns (True)."""
    if isinstance(node, tir.Store | tir.Fill | tir.ArrayStore):
        return [(node.array, False)]
    if isinstance(node, tir.Return) and node.value is not None:
        value = node.value
        items = value.items if isinstance(value, tir.TupleExpr) else (value,)
        return [(item, True) for item in items]
    return []


def _written_args(scope: Scope, node: tir.Expr | tir.Stmt) -> list[tuple[tir.Expr, bool]]:
    """The arguments of a kernel (or prelude) call that the callee writes."""
    if not isinstance(node, tir.KernelCall):
        return []
    callee = scope.callees.functions.get(node.callee)
    if callee is None:
        return []
    return [(arg, False) for (name, _), arg in zip(callee.params, node.args, strict=False)
            if name in callee.written]


def _constant_root(scope: Scope, e: tir.Expr) -> str | None:
    root = root_var(e)
    if root is None:
        return None
    name = scope.aliases.get(root.name, root.name)
    return name if name in scope.constants else None


def _error(scope: Scope, span: Span, name: str, returned: bool) -> CompileError:
    what = "returned" if returned else "written"
    fix = (f"return a copy ({name}.copy())" if returned
           else "pass the array as a parameter to modify it")
    return CompileError(f"module-level array '{name}' is frozen into the kernel as a "
                        f"read-only constant and cannot be {what}; {fix}", span)
