"""Frontend: subscripts that make views (`a[1:]`, `A[i]`, `A[:, j]`, `a[None]`), `.T` and
`.transpose(...)` -> `tir.View` / `tir.Transpose`, and scalar stores into views (`tir.Fill`).

A subscript with one integer index per axis is an element access (exprs.py); anything else
(slices, fewer indices than axes, np.newaxis/None, `...`) is a view sharing the array's
memory. Views alias their base: stores through one mark the base parameter written (via
`root_name` and `Scope.aliases`), and kernels that make views skip the loop optimizations
(infer.py). Derivative builds take every view (ir/views.py emits them for Enzyme).
"""

from __future__ import annotations

import ast
from typing import Final

from .. import types as T
from . import tir
from .operators import Typer, cast, is_dotted, is_local
from .raises import add_site, bounds_site

ZERO_STEP: Final = "slice step cannot be zero"


def parts_of(node: ast.Subscript) -> list[ast.expr]:
    return list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]


def is_newaxis(typer: Typer, node: ast.expr) -> bool:
    """`None` or `np.newaxis`."""
    if isinstance(node, ast.Constant):
        return node.value is None
    if isinstance(node, ast.Attribute) and is_dotted(node) and not is_local(typer.scope, node):
        return typer.resolve(node) is None
    return False


def _is_ellipsis(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def expand(typer: Typer, node: ast.Subscript, ndim: int) -> list[ast.expr]:
    """The subscript's items with `...` replaced by full slices (too many indices refused)."""
    parts = parts_of(node)
    axes = sum(1 for p in parts if not (is_newaxis(typer, p) or _is_ellipsis(p)))
    if axes > ndim:
        raise typer.error(node, f"too many indices for array '{ast.unparse(node.value)}': "
                          f"it has {ndim} dimension(s), but {axes} were indexed")
    dots = [k for k, p in enumerate(parts) if _is_ellipsis(p)]
    if len(dots) > 1:
        raise typer.error(node, "an index can only have a single ellipsis ('...')")
    if dots:
        full = [ast.copy_location(ast.Slice(), parts[dots[0]]) for _ in range(ndim - axes)]
        parts[dots[0]:dots[0] + 1] = full
    return parts


def is_element(typer: Typer, parts: list[ast.expr], ndim: int) -> bool:
    """One plain index per axis: an element access, not a view."""
    return len(parts) == ndim and not any(
        isinstance(p, ast.Slice) or is_newaxis(typer, p) for p in parts)


def view(typer: Typer, node: ast.Subscript, base: tir.Expr,
         parts: list[ast.expr]) -> tir.Expr:
    """The view `base[parts]` (parts as `expand` returns them)."""
    assert isinstance(base.type, T.Array)
    items: list[tir.ViewItem] = []
    for part in parts:
        if is_newaxis(typer, part):
            items.append(None)
        elif isinstance(part, ast.Slice):
            items.append(_slice(typer, part))
        else:
            items.append(_index(typer, part, "array index"))
    kept = sum(1 for i in items if not isinstance(i, tir.Expr))
    ndim = kept + base.type.ndim - sum(1 for i in items if i is not None)
    indexed = any(isinstance(i, tir.Expr) for i in items)
    steps = [i[2] for i in items if isinstance(i, tuple) and i[2] is not None]
    dynamic = any(not isinstance(s, tir.Const) for s in steps)
    span = typer.src.span(node)
    step_site = add_site(typer.scope.callees, "ValueError", ZERO_STEP, "", span,
                         typer.src.name) if dynamic else None
    return tir.View(T.Array(base.type.dtype, ndim), span, base, tuple(items),
                    bounds_site(typer, node, node.value) if indexed else None, step_site)


def _index(typer: Typer, node: ast.expr, what: str) -> tir.Expr:
    value = typer.expr(node)
    t = value.type
    if not (isinstance(t, T.Scalar) and (t.is_int or t.is_bool)):
        raise typer.error(node, f"{what} must be an integer, not {t}")
    return cast(value, T.i64)


def _slice(typer: Typer, node: ast.Slice) -> tuple[tir.Expr | None, tir.Expr | None,
                                                   tir.Expr | None]:
    bounds = [None if p is None else _index(typer, p, "slice index")
              for p in (node.lower, node.upper)]
    step = None if node.step is None else _index(typer, node.step, "slice step")
    if isinstance(step, tir.Const) and step.value == 0:
        assert node.step is not None
        raise typer.error(node.step, ZERO_STEP)
    return (bounds[0], bounds[1], step)


def transpose(typer: Typer, node: ast.expr, base: tir.Expr,
              axes: list[ast.expr]) -> tir.Expr:
    """`base.T` (no `axes`) or `base.transpose(*axes)` with constant axes."""
    assert isinstance(base.type, T.Array)
    ndim = base.type.ndim
    if len(axes) == 1 and isinstance(axes[0], ast.Tuple):
        axes = list(axes[0].elts)
    perm = tuple(range(ndim))[::-1] if not axes else _permutation(typer, node, axes, ndim)
    if perm == tuple(range(ndim)):
        return base
    return tir.Transpose(base.type, typer.src.span(node), base, perm)


def _permutation(typer: Typer, node: ast.expr, axes: list[ast.expr],
                 ndim: int) -> tuple[int, ...]:
    values = [_constant_int(a) for a in axes]
    perm = tuple(v % ndim if v is not None and -ndim <= v < ndim else -1 for v in values)
    if len(perm) != ndim or sorted(perm) != list(range(ndim)):
        raise typer.error(node, f"transpose() takes a permutation of the {ndim} axes as "
                          "constant integers (a.transpose(1, 0)), got "
                          f"({', '.join(ast.unparse(a) for a in axes)})")
    return perm


def _constant_int(node: ast.expr) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _constant_int(node.operand)
        return -inner if inner is not None else None
    return None


def fill(typer: Typer, target: ast.Subscript, array: tir.Expr,
         value_node: ast.expr) -> tir.Stmt:
    """`view = scalar`: every element of the view set (an array value is refused)."""
    assert isinstance(array.type, T.Array)
    value = typer.expr(value_node)
    if not isinstance(value.type, T.Scalar):
        raise typer.error(value_node, "assigning an array to a slice or row is not supported "
                          "yet (whole-array assignment comes with array expressions); assign a "
                          "scalar, or copy the elements in a loop")
    return tir.Fill(typer.src.span(target), array, cast(value, array.type.dtype))


def root_name(node: ast.expr) -> str | None:
    """The variable a (possibly viewed) array expression reads: `x` for `x[1:][0]`, `x.T`."""
    while True:
        if isinstance(node, ast.Subscript) or (isinstance(node, ast.Attribute)
                                               and node.attr == "T"):
            node = node.value
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("transpose", "reshape", "ravel")):
            node = node.func.value
        else:
            return node.id if isinstance(node, ast.Name) else None


def root_var(e: tir.Expr) -> tir.Var | None:
    """The array variable under a view expression (None for views of other values)."""
    while isinstance(e, tir.View | tir.Transpose | tir.Reshape):
        e = e.array
    return e if isinstance(e, tir.Var) else None


def makes_views(body: tuple[tir.Stmt, ...]) -> bool:
    """Whether `body` makes a view (its arrays may then share memory under other names)."""
    return any(isinstance(n, tir.View | tir.Transpose | tir.Reshape) for n in tir.walk(body))
