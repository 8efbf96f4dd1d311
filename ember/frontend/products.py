"""Frontend: NumPy's products of arrays -> `tir.Product`.

Input: `a @ b` (exprs.py) and the calls `np.dot/matmul/inner/vdot/outer/trace` (calls.py,
a special form: the operands are typed here). Output: one `tir.Product` whose `kind` names
the shape case of NumPy's rules for 1-D and 2-D operands (ir/products.py emits each). The
result dtype is NEP 50's promotion of the operand dtypes (int products stay int); an operand
of another dtype is converted first (elementwise, a new array). Operands may be any array
expressions or views: a transpose is read through its view, never copied here. Contracted
sizes are compared at run time and a mismatch raises NumPy's ValueError, worded as NumPy
words it for the function the user called. Not yet: operands of 3 or more dimensions, bool
products, scalars as operands.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Final

from .. import types as T
from . import arrays, builtins, complexes, tir
from .operators import Typer, cast
from .raises import add_site

MATMUL: Final = ("matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc "
                 "signature (n?,k),(k,m?)->(n?,m?) (size {1} is different from {0})")
_KINDS: Final = {(1, 1): "dot", (2, 1): "matvec", (1, 2): "vecmat", (2, 2): "matmul"}


def matmul(typer: Typer, node: ast.BinOp, a: tir.Expr, b: tir.Expr) -> tir.Expr:
    """`a @ b`."""
    _operands(typer, node, "matmul", (a, b), (1, 2))
    return _contract(typer, node, a, b, MATMUL)


def call(typer: Typer, node: ast.Call, row: builtins.Builtin) -> tir.Expr:
    """`np.dot(a, b)`, `np.matmul`, `np.inner`, `np.vdot`, `np.outer`, `np.trace`."""
    if node.keywords and row.op != "trace":
        raise typer.error(node, f"{row.name}() takes no keyword arguments in kernels")
    arity = (1, 2) if row.op == "trace" else (2, 2)
    if not arity[0] <= len(node.args) <= arity[1]:
        raise typer.error(node, f"{row.name}() takes {arity[1]} argument(s), "
                          f"got {len(node.args)}")
    if row.op == "trace":
        return _trace(typer, node)
    a, b = (typer.expr(x) for x in node.args)
    return _FORMS[row.op](typer, node, a, b)


def _dot(typer: Typer, node: ast.Call, a: tir.Expr, b: tir.Expr) -> tir.Expr:
    _operands(typer, node, "np.dot", (a, b), (1, 2))
    return _contract(typer, node, a, b, _aligned(a, b))


def _matmul_call(typer: Typer, node: ast.Call, a: tir.Expr, b: tir.Expr) -> tir.Expr:
    _operands(typer, node, "np.matmul", (a, b), (1, 2))
    return _contract(typer, node, a, b, MATMUL)


def _inner(typer: Typer, node: ast.Call, a: tir.Expr, b: tir.Expr) -> tir.Expr:
    """np.inner(a, b) = np.dot(a, b.T) for 1-D and 2-D operands (NumPy's message, too)."""
    _operands(typer, node, "np.inner", (a, b), (1, 2))
    assert isinstance(b.type, T.Array)
    if b.type.ndim == 2:
        b = tir.Transpose(b.type, b.span, b, (1, 0))
    return _contract(typer, node, a, b, _aligned(a, b))


def _vdot(typer: Typer, node: ast.Call, a: tir.Expr, b: tir.Expr) -> tir.Expr:
    _operands(typer, node, "np.vdot", (a, b), (1, 1))
    assert isinstance(a.type, T.Array)
    if a.type.dtype.is_complex:  # np.vdot conjugates its first argument
        span = typer.src.span(node)
        a = arrays.lift(typer, node, [a], lambda e: complexes.conjugate(span, e))
    return _contract(typer, node, a, b, "cannot reshape array of size {1} into shape ({0},)")


def _outer(typer: Typer, node: ast.Call, a: tir.Expr, b: tir.Expr) -> tir.Expr:
    """np.outer(a, b) of arrays (or views) is `a[:, None] * b[None, :]`, an array expression
    that fuses with the expression around it (`A + np.outer(u, v)`: no temporary)."""
    _operands(typer, node, "np.outer", (a, b), (1, 1))
    t = _dtype(typer, node, a, b)
    span = typer.src.span(node)
    if all(isinstance(x, tir.Var | tir.View) for x in (a, b)):
        whole: tir.ViewItem = (None, None, None)
        rows = tir.View(T.Array(_elem(a), 2), span, a, (whole, None))
        cols = tir.View(T.Array(_elem(b), 2), span, b, (None, whole))
        return arrays.lift(typer, node, [rows, cols], lambda x, y: tir.BinOp(
            t, span, "mul", cast(x, t), cast(y, t)))
    return tir.Product(T.Array(t, 2), span, "outer", _converted(typer, node, a, t),
                       _converted(typer, node, b, t))


def _elem(x: tir.Expr) -> T.Scalar:
    assert isinstance(x.type, T.Array)
    return x.type.dtype


_FORMS: Final[dict[str, Callable[[Typer, ast.Call, tir.Expr, tir.Expr], tir.Expr]]] = {
    "dot": _dot, "matmul": _matmul_call, "inner": _inner, "vdot": _vdot, "outer": _outer,
}


def _trace(typer: Typer, node: ast.Call) -> tir.Expr:
    """np.trace(a, offset=0) of a 2-D array; the dtype of np.sum (small ints widen)."""
    names = [k.arg for k in node.keywords]
    if any(n != "offset" for n in names) or (names and len(node.args) > 1):
        raise typer.error(node, "np.trace() takes an array and an offset only in kernels")
    a = typer.expr(node.args[0])
    _operands(typer, node, "np.trace", (a,), (2, 2))
    offset_node = node.args[1] if len(node.args) > 1 else (
        node.keywords[0].value if node.keywords else None)
    span = typer.src.span(node)
    offset: tir.Expr = tir.Const(T.i64, span, 0)
    if offset_node is not None:
        offset = typer.expr(offset_node)
        if not (isinstance(offset.type, T.Scalar) and offset.type.is_int):
            raise typer.error(offset_node, f"the offset must be an integer, not {offset.type}")
        offset = cast(offset, T.i64)
    assert isinstance(a.type, T.Array)
    return tir.Product(_sum_dtype(a.type.dtype), span, "trace", a, offset)


def _sum_dtype(t: T.Scalar) -> T.Scalar:
    """NumPy's np.sum dtype: bool and ints narrower than 64 bits widen to (u)int64."""
    if t.is_bool or (t.is_int and t.bits < 64):
        return T.u64 if t.kind == "u" else T.i64
    return t


# --- shared -----------------------------------------------------------------------------------
def _operands(typer: Typer, node: ast.AST, name: str, values: tuple[tir.Expr, ...],
              ranks: tuple[int, int]) -> None:
    """Refuse what is not (yet) supported: derivative builds, scalars, other ranks, bools."""
    for k, v in enumerate(values):
        t = v.type
        if not isinstance(t, T.Array):
            raise typer.error(node, f"{name}: operand {k} is {t}; products need arrays here "
                              "(write a * b to scale by a scalar)")
        if not ranks[0] <= t.ndim <= ranks[1]:
            want = "a 1-D" if ranks == (1, 1) else "a 2-D" if ranks == (2, 2) else "a 1-D or 2-D"
            raise typer.error(node, f"{name}: operand {k} has {t.ndim} dimension(s); "
                              f"{name} in kernels takes {want} array")
        if t.dtype.is_bool and name != "np.trace":
            raise typer.error(node, f"{name} of bool arrays is not supported yet; convert "
                              "with .astype(np.int64)")


def _dtype(typer: Typer, node: ast.AST, a: tir.Expr, b: tir.Expr) -> T.Scalar:
    assert isinstance(a.type, T.Array) and isinstance(b.type, T.Array)
    return T.promote(a.type.dtype, b.type.dtype)


def _converted(typer: Typer, node: ast.AST, x: tir.Expr, t: T.Scalar) -> tir.Expr:
    assert isinstance(x.type, T.Array)
    return x if x.type.dtype == t else arrays.lift(typer, node, [x], lambda e: cast(e, t))


def _shape(ndim: int, first: int) -> str:
    return f"({{{first}}},)" if ndim == 1 else f"({{{first}}},{{{first + 1}}})"


def _aligned(a: tir.Expr, b: tir.Expr) -> str:
    """np.dot's message; its fields: the shapes of a and b (filled in by _contract)."""
    assert isinstance(a.type, T.Array) and isinstance(b.type, T.Array)
    na, nb = a.type.ndim, b.type.ndim
    return (f"shapes {_shape(na, 2)} and {_shape(nb, 2 + na)} not aligned: "
            f"{{0}} (dim {na - 1}) != {{1}} (dim 0)")


def _contract(typer: Typer, node: ast.AST, a: tir.Expr, b: tir.Expr, message: str) -> tir.Expr:
    """The product of 1-D/2-D `a` and `b` over a's last and b's first axis. The error site's
    arguments are a's contracted size, b's, then a's shape and b's shape."""
    assert isinstance(a.type, T.Array) and isinstance(b.type, T.Array)
    t = _dtype(typer, node, a, b)
    kind = _KINDS[a.type.ndim, b.type.ndim]
    ndim = a.type.ndim + b.type.ndim - 2
    span = typer.src.span(node)
    fields = 2 + a.type.ndim + b.type.ndim
    site = add_site(typer.scope.callees, "ValueError", message, "q" * fields, span,
                    typer.src.name)
    result: T.Type = t if ndim == 0 else T.Array(t, ndim)
    return tir.Product(result, span, kind, _converted(typer, node, a, t),
                       _converted(typer, node, b, t), site)
