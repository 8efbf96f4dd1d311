"""Indices that enclosing range loops prove non-negative: `r[k - i - 1]` in `for i in range(k)`.

bounds.py knows a lower bound per variable, which cannot see that `k - i - 1 >= 0`: that
needs the relation `i <= k - 1` that the loop `for i in range(a, k)` gives its body. Left with
Python's negative wrap-around, such an index becomes a compare and select per access, which
keeps LLVM from vectorizing a reversed access into contiguous loads and a reverse shuffle.

Input: a desugared function and the variables' lower bounds (bounds.py). Output: the index
nodes of its subscripts (`ast.expr` objects, the nodes the typer later sees) whose value is
provably >= 0. An index is a linear form over atoms (variables, `len(x)`, `x.shape[c]`) with
integer coefficients; inside `for v in range(start, stop[, step > 0])`, `start <= v <= stop -
1` holds when the body assigns neither `v` nor a variable of `start`/`stop` (and does not resize
a list they measure). The proof substitutes upper bounds for atoms with negative coefficients,
then lower bounds for the rest, until only a constant is left. Like bounds.py it reasons about
exact integers (an index whose i64 arithmetic overflows is out of every array anyway).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

_STEPS = 16
"""Substitutions per proof (each removes one atom; nests deeper than this are rare)."""

Linear = dict[str, int]
"""atom key -> coefficient; the key "" holds the constant term."""


@dataclass(frozen=True)
class _Loop:
    var: str
    start: Linear | None
    stop: Linear | None


def nonnegative_indices(fdef: ast.FunctionDef, bounds: dict[str, int]) -> set[ast.expr]:
    """The subscript index nodes of `fdef` that its range loops prove non-negative."""
    found: set[ast.expr] = set()
    _walk(fdef.body, [], bounds, found)
    return found


def _walk(body: list[ast.stmt], loops: list[_Loop], bounds: dict[str, int],
          found: set[ast.expr]) -> None:
    for stmt in body:
        if isinstance(stmt, ast.For):
            loop = _range_loop(stmt)
            _scan(stmt.iter, loops, bounds, found)
            _walk(stmt.body, [*loops, loop] if loop else loops, bounds, found)
            _walk(stmt.orelse, loops, bounds, found)
            continue
        for field in ("body", "orelse", "finalbody"):
            _walk(getattr(stmt, field, []) if _is_block(stmt, field) else [], loops, bounds,
                  found)
        for handler in getattr(stmt, "handlers", []):
            _walk(handler.body, loops, bounds, found)
        for child in _own_expressions(stmt):
            _scan(child, loops, bounds, found)


def _is_block(stmt: ast.stmt, field: str) -> bool:
    value = getattr(stmt, field, None)
    return isinstance(value, list) and all(isinstance(s, ast.stmt) for s in value)


def _own_expressions(stmt: ast.stmt) -> Iterator[ast.expr]:
    """The expressions of `stmt` itself (not those of nested statements)."""
    for _, value in ast.iter_fields(stmt):
        items = value if isinstance(value, list) else [value]
        yield from (v for v in items if isinstance(v, ast.expr))


def _scan(expr: ast.expr, loops: list[_Loop], bounds: dict[str, int],
          found: set[ast.expr]) -> None:
    for node in ast.walk(expr):
        if not (loops and isinstance(node, ast.Subscript)):
            continue
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        for part in parts:
            form = linear(part)
            if form is not None and _provably_nonnegative(form, loops, bounds):
                found.add(part)


# --- The facts of a loop ---------------------------------------------------------------------


def _range_loop(stmt: ast.For) -> _Loop | None:
    """`for v in range(...)` with a positive constant step, and the bounds its body keeps."""
    call = stmt.iter
    if not (isinstance(stmt.target, ast.Name) and isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name) and call.func.id in ("range", "prange")
            and 1 <= len(call.args) <= 3 and not call.keywords):
        return None
    if len(call.args) == 3 and not _positive_constant(call.args[2]):
        return None
    changed = _changed_names(stmt.body)
    if stmt.target.id in changed:
        return None
    start = call.args[0] if len(call.args) > 1 else ast.Constant(0)
    stop = call.args[1] if len(call.args) > 1 else call.args[0]
    return _Loop(stmt.target.id, _kept(start, changed), _kept(stop, changed))


def _positive_constant(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value > 0


def _kept(node: ast.expr, changed: set[str]) -> Linear | None:
    """The linear form of `node` if the loop body leaves all its variables alone."""
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    return linear(node) if not names & changed else None


def _changed_names(body: list[ast.stmt]) -> set[str]:
    """Variables the statements assign (or delete), and lists they resize (`b.pop()`)."""
    out: set[str] = set()
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                out.add(node.id)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and isinstance(node.func.value, ast.Name)):
                out.add(node.func.value.id)
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Del):
                out.update(n.id for n in ast.walk(node.value) if isinstance(n, ast.Name))
    return out


# --- Linear forms ----------------------------------------------------------------------------


def linear(node: ast.expr) -> Linear | None:
    """`node` as a linear form over atoms, or None if it is not one."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return {"": node.value}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = linear(node.operand)
        return _scale(inner, -1) if inner is not None else None
    if isinstance(node, ast.BinOp):
        return _binop(node)
    atom = _atom(node)
    return {atom: 1} if atom is not None else None


def _binop(node: ast.BinOp) -> Linear | None:
    left, right = linear(node.left), linear(node.right)
    if left is None or right is None:
        return None
    if isinstance(node.op, ast.Add | ast.Sub):
        sign = 1 if isinstance(node.op, ast.Add) else -1
        return _plus(left, right, sign)
    if isinstance(node.op, ast.Mult):
        for const, other in ((left, right), (right, left)):
            if set(const) <= {""}:
                return _scale(other, const.get("", 0))
    return None


def _atom(node: ast.expr) -> str | None:
    """A variable, `len(x)` or `x.shape[c]`: keyed by its source text."""
    if isinstance(node, ast.Name):
        return node.id
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len"
            and len(node.args) == 1 and isinstance(node.args[0], ast.Name)):
        return ast.unparse(node)
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)
            and node.value.attr == "shape" and isinstance(node.value.value, ast.Name)
            and isinstance(node.slice, ast.Constant) and type(node.slice.value) is int):
        return ast.unparse(node)
    return None


def _plus(a: Linear, b: Linear, sign: int) -> Linear:
    out = dict(a)
    for key, c in b.items():
        out[key] = out.get(key, 0) + sign * c
    return {k: c for k, c in out.items() if c or k == ""}


def _scale(a: Linear, factor: int) -> Linear:
    return {k: c * factor for k, c in a.items()}


# --- The proof -------------------------------------------------------------------------------


def _provably_nonnegative(form: Linear, loops: list[_Loop], bounds: dict[str, int]) -> bool:
    form = {"": 0, **form}
    for _ in range(_STEPS):
        atoms = [k for k, c in form.items() if k and c]
        if not atoms:
            return form[""] >= 0
        negative = [k for k in atoms if form[k] < 0]
        atom = negative[0] if negative else atoms[0]
        bound = _bound(atom, loops, bounds, upper=bool(negative))
        if bound is None:
            return False
        c = form.pop(atom)
        form = _plus(form, bound, c)  # c * atom >= c * bound (upper if c < 0, lower if c > 0)
        form.setdefault("", 0)
    return False


def _bound(atom: str, loops: list[_Loop], bounds: dict[str, int],
           upper: bool) -> Linear | None:
    """An upper (`v <= stop - 1`) or lower (`v >= start`) bound of `atom`, innermost loop
    first; a lower bound also comes from bounds.py (`len`/`shape` atoms are >= 0)."""
    for loop in reversed(loops):
        if loop.var == atom:
            if upper:
                return _plus(loop.stop, {"": 1}, -1) if loop.stop is not None else None
            if loop.start is not None and atom not in loop.start:
                return loop.start
    if upper:
        return None
    if atom in bounds:
        return {"": bounds[atom]}
    return {"": 0} if atom.startswith("len(") or ".shape[" in atom else None
