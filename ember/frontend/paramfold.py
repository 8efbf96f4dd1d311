"""Frontend step 0c: rewrite a kernel's AST for one specialization of its parameters.

Input: the `Source`, its `Binding` (with the Optional parameters that are None) and the flat
typed parameters (params.py). Output: the source whose function takes the flat parameters:
- `x is None` / `x is not None` fold to constants (True for a parameter that is None in this
  specialization, before any assignment to it; False for every other value but a call's
  result, as no Ember value can be None), and `if`/`while`/`and`/`or`/`not`/`a if c else b` on constants keep only the
  branch taken, so a dead branch is never typed; any other use of a None parameter is an error
  (passing it on to another kernel passes None);
- a tuple or NamedTuple parameter `t` reads as its items: `t[0]`, `t.x` (a field), `t[-1]`,
  `t[1:]` and `len(t)` become the item names or constants, and any other read of `t` a tuple
  of its items (`a, b = t`, `for v in t`, `t[k]` with a variable `k`, passing `t` on).
"""

from __future__ import annotations

import ast
import copy
import dataclasses
from typing import Any

from .. import types as T
from ..binding import Binding
from .source import Source


def fold_parameters(src: Source, binding: Binding, flat: list[tuple[str, T.Type]]) -> Source:
    tree = copy.deepcopy(src.tree)
    first = _first_assignments(tree)
    tree = _NoneFold(src, set(binding.none), first).visit(tree)
    tree = _Simplify().visit(tree)
    _check_none_uses(src, tree, set(binding.none) - set(first))
    tuples = {p.name: (p.items, p.fields) for p in binding.params
              if p.items and p.name not in binding.none}
    if tuples:
        for name in tuples:
            if name in first:
                raise src.error(first[name][1], f"cannot assign to tuple parameter '{name}'; "
                                "store the new value in a new variable")
        tree = _TupleParams(src, tuples).visit(tree)
    _fill_empty(tree)
    originals = {a.arg: a for a in (*tree.args.posonlyargs, *tree.args.args,
                                    *tree.args.kwonlyargs)}
    by_flat = {n: originals[p.name] for p in binding.params if p.name in originals
               for n in p.flat}
    tree.args = ast.arguments(posonlyargs=[], args=[
        ast.copy_location(ast.arg(n, ast.Name("object", ast.Load())), by_flat[n])
        for n, _ in flat], kwonlyargs=[], kw_defaults=[], defaults=[])
    ast.fix_missing_locations(tree)
    return dataclasses.replace(src, tree=tree)


def _first_assignments(tree: ast.FunctionDef) -> dict[str, tuple[int, ast.AST]]:
    """The line of the first assignment to each name (its node, for errors)."""
    out: dict[str, tuple[int, ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            line = getattr(node, "lineno", 0)
            if node.id not in out or line < out[node.id][0]:
                out[node.id] = (line, node)
    return out


class _NoneFold(ast.NodeTransformer):
    def __init__(self, src: Source, none: set[str], first: dict[str, tuple[int, Any]]) -> None:
        self.src, self.none, self.first = src, none, first

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        self.generic_visit(node)
        if len(node.ops) != 1 or not isinstance(node.ops[0], ast.Is | ast.IsNot):
            return node
        left, right = node.left, node.comparators[0]
        other = right if _is_none(left) else left if _is_none(right) else None
        if other is None or isinstance(other, ast.Call):  # a call may return None
            return node
        value = self._is_none(other, node)
        return ast.copy_location(ast.Constant(value != isinstance(node.ops[0], ast.IsNot)), node)

    def _is_none(self, e: ast.expr, at: ast.AST) -> bool:
        if _is_none(e):
            return True
        if isinstance(e, ast.Name) and e.id in self.none:
            line = self.first.get(e.id, (None, None))[0]
            return line is None or getattr(at, "lineno", 0) < line
        return False


class _Simplify(ast.NodeTransformer):
    """Branches on constant tests keep only the branch taken."""

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        self.generic_visit(node)
        stop = isinstance(node.op, ast.Or)  # the value that decides an `or`
        rest: list[ast.expr] = []
        for v in node.values:
            if isinstance(v, ast.Constant) and isinstance(v.value, bool):
                if v.value == stop:
                    return v if not rest else node
                continue
            rest.append(v)
        if not rest:
            return ast.copy_location(ast.Constant(not stop), node)
        if len(rest) == 1:
            return rest[0]
        node.values = rest
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and _is_bool(node.operand):
            return ast.copy_location(ast.Constant(not node.operand.value), node)  # type: ignore[attr-defined]
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.expr:
        self.generic_visit(node)
        if _is_bool(node.test):
            return node.body if node.test.value else node.orelse  # type: ignore[attr-defined]
        return node

    def visit_If(self, node: ast.If) -> Any:
        node.test = self.visit(node.test)
        if _is_bool(node.test):
            taken = node.body if node.test.value else node.orelse  # type: ignore[attr-defined]
            return [s for stmt in taken for s in _as_list(self.visit(stmt))]
        self.generic_visit(node)
        return node

    def visit_While(self, node: ast.While) -> Any:
        self.generic_visit(node)
        if _is_bool(node.test) and not node.test.value:  # type: ignore[attr-defined]
            return node.orelse
        return node


def _as_list(value: Any) -> list[ast.stmt]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _is_bool(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, bool)


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _check_none_uses(src: Source, tree: ast.FunctionDef, none: set[str]) -> None:
    """Parameters that are None here may only be passed on to other kernels (as None)."""
    if not none:
        return
    passed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _is_kernel(src, node.func):
            passed |= {id(a) for a in [*node.args, *(k.value for k in node.keywords)]}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in none and id(node) not in passed:
            raise src.error(node, f"'{node.id}' is None in this specialization; guard its "
                            f"use with `if {node.id} is not None:`")
    _NoneArgs(none).visit(tree)


class _NoneArgs(ast.NodeTransformer):
    def __init__(self, none: set[str]) -> None:
        self.none = none

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.none:
            return ast.copy_location(ast.Constant(None), node)
        return node


def _is_kernel(src: Source, func: ast.expr) -> bool:
    if not isinstance(func, ast.Name):
        return False
    found, value = src.lookup(func.id)
    return found and hasattr(value, "__ember_kernel__")


class _TupleParams(ast.NodeTransformer):
    """Reads of tuple parameters as reads of their items."""

    def __init__(self, src: Source, tuples: dict[str, tuple[tuple[str, ...],
                                                             tuple[str, ...]]]) -> None:
        self.src, self.tuples = src, tuples

    def _items(self, node: ast.expr) -> tuple[str, ...] | None:
        if isinstance(node, ast.Name) and node.id in self.tuples:
            return self.tuples[node.id][0]
        return None

    def _name(self, name: str, at: ast.AST) -> ast.Name:
        return ast.copy_location(ast.Name(name, ast.Load()), at)

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        items = self._items(node.value)
        if items is None:
            self.generic_visit(node)
            return node
        name = node.value.id  # type: ignore[attr-defined]
        if not isinstance(node.ctx, ast.Load):
            raise self.src.error(node, f"cannot assign to an item of tuple parameter '{name}': "
                                 "tuples are immutable")
        try:
            key = ast.literal_eval(node.slice) if not isinstance(node.slice, ast.Slice) else \
                slice(*(ast.literal_eval(p) if p is not None else None
                        for p in (node.slice.lower, node.slice.upper, node.slice.step)))
        except (ValueError, TypeError, SyntaxError):  # t[k]: as a tuple value's (tuples.py)
            node.value = self.visit(node.value)
            node.slice = self.visit(node.slice)
            return node
        try:
            picked = items[key] if isinstance(key, slice) else items[int(key)]
        except (TypeError, IndexError):
            raise self.src.error(node, f"tuple parameter '{name}' has {len(items)} items; index "
                                 f"it from {-len(items)} to {len(items) - 1}") from None
        if isinstance(picked, tuple):
            return ast.copy_location(ast.Tuple([self._name(n, node) for n in picked],
                                               ast.Load()), node)
        return self._name(picked, node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        items = self._items(node.value)
        if items is None:
            self.generic_visit(node)
            return node
        name = node.value.id  # type: ignore[attr-defined]
        fields = self.tuples[name][1]
        if node.attr not in fields:
            known = ", ".join(fields) or "none: it is a plain tuple"
            raise self.src.error(node, f"parameter '{name}' has no field '{node.attr}' "
                                 f"(fields: {known})")
        return self._name(items[fields.index(node.attr)], node)

    def visit_Call(self, node: ast.Call) -> ast.expr:
        if (isinstance(node.func, ast.Name) and node.func.id == "len" and len(node.args) == 1
                and self._items(node.args[0]) is not None):
            return ast.copy_location(ast.Constant(len(self._items(node.args[0]) or ())), node)
        self.generic_visit(node)
        return node

    def visit_Name(self, node: ast.Name) -> ast.expr:
        items = self._items(node)
        if items is None:
            return node
        if not isinstance(node.ctx, ast.Load):
            raise self.src.error(node, f"cannot assign to tuple parameter '{node.id}'; store "
                                 "the new value in a new variable")
        return ast.copy_location(ast.Tuple([self._name(n, node) for n in items], ast.Load()),
                                 node)


def _fill_empty(tree: ast.AST) -> None:
    """Blocks emptied by folding get a `pass`."""
    for node in ast.walk(tree):
        for field in ("body", "orelse"):
            block = getattr(node, field, None)
            if field == "body" and isinstance(block, list) and not block:
                setattr(node, field, [ast.copy_location(ast.Pass(), node)])
