"""Frontend step 2: small single-purpose AST rewrites that shrink the subset.

Input: a checked `ast.FunctionDef`. Output: the same function using fewer constructs:
`assert` becomes `if not c: raise AssertionError(msg)`, `x op= y` becomes `x = x op y` (an index with calls in it is evaluated once, into a
temporary), tuple assignment `a, b = e` becomes single assignments through temporaries (an
array's length checked at run time: sugar.py), a chained `a = b[i] = e` one assignment per
target, left to right, of `e` evaluated once. Loops
over arrays, `enumerate` and `zip` first become index loops (iteration.py). Early exits are
handled next, in `exits.py`. Every new node copies the location of the node it replaces.
"""

from __future__ import annotations

import ast
import copy
import itertools

from .builtins import INPLACE
from .creation import inline_dtype_aliases
from .iteration import lower_element_loops


class _Rewriter(ast.NodeTransformer):
    def __init__(self) -> None:
        self._temps = itertools.count()

    def temp(self) -> str:
        return f"__ember_t{next(self._temps)}"

    def visit_Return(self, node: ast.Return) -> ast.AST:
        if isinstance(node.value, ast.Constant) and node.value.value is None:
            node.value = None  # `return None` is a bare `return`
        return node

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
        """`assert c, msg` -> `if not c: raise AssertionError(msg)` (always checked)."""
        exc: ast.expr = _name("AssertionError", node)
        if node.msg is not None:
            exc = ast.copy_location(ast.Call(exc, [node.msg], []), node)
        test = ast.copy_location(ast.UnaryOp(ast.Not(), node.test), node.test)
        raise_ = ast.copy_location(ast.Raise(exc, None), node)
        return ast.copy_location(ast.If(test, [raise_], []), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST | list[ast.stmt]:
        node = self.generic_visit(node)  # type: ignore[assignment]
        before: list[ast.stmt] = []
        target = node.target
        if isinstance(target, ast.Subscript) and _has_call(target.slice):
            parts = target.slice.elts if isinstance(target.slice, ast.Tuple) else [target.slice]
            names = [self.temp() for _ in parts]
            before = [_assign(n, p, node) for n, p in zip(names, parts, strict=True)]
            index: list[ast.expr] = [_name(n, node) for n in names]
            target.slice = (ast.copy_location(ast.Tuple(index, ast.Load()), node)
                            if len(index) > 1 else index[0])
        load = copy.deepcopy(node.target)
        _set_ctx(load, ast.Load())
        new = ast.copy_location(ast.BinOp(load, node.op, node.value), node)
        # arrays update in place (NumPy), scalars rebind: stmts.py decides once types are known
        first = copy.deepcopy(load)
        value = ast.copy_location(ast.Call(_name(INPLACE, node), [first, new], []), node)
        return [*before, ast.copy_location(ast.Assign([node.target], value), node)]

    def visit_Assign(self, node: ast.Assign) -> ast.AST | list[ast.stmt]:
        node = self.generic_visit(node)  # type: ignore[assignment]
        if len(node.targets) > 1:
            return self._chained(node)
        target = node.targets[0]
        if not isinstance(target, ast.Tuple):
            return node
        return self._unpack(target, node.value, node)

    def _chained(self, node: ast.Assign) -> list[ast.stmt]:
        """`a = b[i] = e`: `e` evaluated once (into a temporary unless it is a literal), then
        assigned to the targets left to right, as Python does."""
        out: list[ast.stmt] = []
        value = node.value
        if not _literal(value):
            temp = self.temp()
            out.append(_assign(temp, value, node))
            value = _name(temp, node)
        for target in node.targets:
            single = ast.copy_location(ast.Assign([target], copy.deepcopy(value)), node)
            out.extend(self._unpack(target, single.value, single) if isinstance(target, ast.Tuple)
                       else [single])
        return out

    def _unpack(self, target: ast.Tuple, value: ast.expr, at: ast.stmt) -> list[ast.stmt]:
        if isinstance(value, ast.Tuple) and len(value.elts) == len(target.elts):
            temps = [self.temp() for _ in value.elts]
            first = [_assign(name, elt, at) for name, elt in zip(temps, value.elts, strict=True)]
            return first + [_assign_to(t, _name(n, at), at)
                            for t, n in zip(target.elts, temps, strict=True)]
        whole = self.temp()
        count = ast.copy_location(ast.Constant(len(target.elts)), at)
        checked = ast.copy_location(
            ast.Call(_name("__ember_unpack", at), [value, count], []), value)
        check = ast.copy_location(ast.Call(_name("__ember_unpack_check", at), [
            _name(whole, at), copy.deepcopy(count)], []), value)  # arrays: their length
        out: list[ast.stmt] = [_assign(whole, checked, at), ast.copy_location(ast.Expr(check), at)]
        for i, elt in enumerate(target.elts):
            item = ast.copy_location(
                ast.Subscript(_name(whole, at), ast.Constant(i), ast.Load()), elt)
            out.append(_assign_to(elt, item, at))
        return out


def _literal(node: ast.expr) -> bool:
    """A number literal (`0.0`, `-1`): assigned as itself, so literal typing and index bounds
    see it."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    return isinstance(node, ast.Constant)


def _has_call(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) for n in ast.walk(node))


def _set_ctx(node: ast.AST, ctx: ast.expr_context) -> None:
    for sub in ast.walk(node):
        if hasattr(sub, "ctx"):
            sub.ctx = ctx
    if isinstance(node, ast.Subscript):
        node.ctx = ctx


def _name(name: str, at: ast.AST, ctx: ast.expr_context | None = None) -> ast.Name:
    return ast.copy_location(ast.Name(name, ctx or ast.Load()), at)


def _assign(name: str, value: ast.expr, at: ast.AST) -> ast.stmt:
    return ast.copy_location(ast.Assign([_name(name, at, ast.Store())], value), at)


def _assign_to(target: ast.expr, value: ast.expr, at: ast.AST) -> ast.stmt:
    return ast.copy_location(ast.Assign([target], value), target if hasattr(target, "lineno") else at)


def desugar(fdef: ast.FunctionDef) -> ast.FunctionDef:
    """Apply the rewrites above to a copy of `fdef`."""
    fdef = inline_dtype_aliases(copy.deepcopy(fdef))
    out: ast.FunctionDef = _Rewriter().visit(lower_element_loops(fdef))
    ast.fix_missing_locations(out)
    return out
