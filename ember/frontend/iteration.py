"""Frontend step 2a: `for` loops over arrays, `enumerate(...)` and `zip(...)` -> index loops.

Input: a checked `ast.FunctionDef`. Output: the same function in which every `for` iterates
over `range(...)` or `prange(...)`: `for i, v in enumerate(a)` becomes
`for i in range(len(a)): v = a[i]`, `for x, y in zip(a, b)` becomes
`for k in range(min(len(a), len(b))): x = a[k]; y = b[k]`. The iterables are evaluated once,
before the loop, as Python does (into temporaries unless they are names the loop leaves
alone). Element reads use the internal builtins `__ember_iter_len` / `__ember_item`
(calls.py): the items of a 1-D array are its elements, those of an n-D array its rows
(views). `enumerate`, `zip`
and `range` are recognized by name, as exits.py recognizes `range`. A tuple literal's item `k`
is `__ember_pick(k, e0, e1, ...)` (frontend/sugar.py: scalars of one type); a loop directly over
a tuple literal that is not all numbers gets one copy of its body per item (`unrolled`), so a
tuple of arrays works and each copy stores into its own array.
"""

from __future__ import annotations

import ast
import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass

ITER_LEN = "__ember_iter_len"
ITEM = "__ember_item"
RANGE_LEN = "__ember_range_len"
PICK = "__ember_pick"
_RANGES = ("range", "prange")


@dataclass(frozen=True)
class _Items:
    """What a loop iterates: how many items, and the expression of item `k`."""

    length: ast.expr
    item: Callable[[ast.expr], ast.expr]


class _ElementLoops(ast.NodeTransformer):
    def __init__(self) -> None:
        self._ids = itertools.count()
        self.before: list[ast.stmt] = []
        """Statements to run before the loop being rewritten (its iterables, evaluated once)."""
        self.assigned: set[str] = set()
        """Names the loop being rewritten assigns."""

    def visit_For(self, node: ast.For) -> ast.AST | list[ast.stmt]:
        node = self.generic_visit(node)  # type: ignore[assignment]
        if _is_range(node.iter):
            return node
        self.before = []
        self.assigned = {n.id for s in node.body for n in ast.walk(s)
                         if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        if isinstance(node.iter, ast.Tuple) and not (node.iter.elts
                                                     and all(map(_literal, node.iter.elts))):
            return self.unrolled(node, node.iter)
        items = self.items(node.iter)
        index, target = self.index_name(node)
        body = _bind(target, items.item(_at(ast.Name(index, ast.Load()), node)), node)
        loop_range = ast.Call(_at(ast.Name("range", ast.Load()), node), [items.length], [])
        loop = ast.For(_at(ast.Name(index, ast.Store()), node.target), _at(loop_range, node.iter),
                       body + node.body, node.orelse)
        return [*self.before, ast.copy_location(loop, node)]

    def index_name(self, node: ast.For) -> tuple[str, ast.expr | None]:
        """The loop variable: the enumerate index itself where it can be, else a new one
        (then the whole target is assigned from the item)."""
        target, it = node.target, _called(node.iter, "enumerate")
        index = target.elts[0] if isinstance(target, ast.Tuple) and len(target.elts) == 2 \
            else None
        if (it is not None and len(_enumerate_args(it)) == 1 and isinstance(index, ast.Name)
                and index.id not in self.assigned):
            return index.id, None
        return f"__ember_ix{next(self._ids)}", target

    def items(self, node: ast.expr) -> _Items:
        enum, zipped, ranged = (_called(node, f) for f in ("enumerate", "zip", "range"))
        if enum is not None and 1 <= len(_enumerate_args(enum)) <= 2:
            return self.enumerate(enum)
        if zipped is not None and zipped.args and _lenient(zipped):
            return self.zip(zipped)
        if ranged is not None and 1 <= len(ranged.args) <= 3 and not ranged.keywords:
            return self.range(ranged)
        if isinstance(node, ast.Tuple):  # item k of a tuple literal: sugar.py's pick
            values = [self.once(e) for e in node.elts]
            return _Items(_at(ast.Constant(len(values)), node),
                          lambda k: _call(PICK, [k, *copy.deepcopy(values)], node))
        array = self.once(node)
        return _Items(_call(ITER_LEN, [array], node),
                      lambda k: _call(ITEM, [copy.deepcopy(array), k], node))

    def unrolled(self, node: ast.For, items: ast.Tuple) -> list[ast.stmt]:
        """`for a in (x, y): body` -> `for k in range(2): if k == 0: a = x; body elif ...`:
        one copy of the body per item, so each copy sees its item's own array (stores
        through `a` mark `x` or `y` written) and break/continue/else keep working."""
        values = [self.once(e) for e in items.elts]
        index = f"__ember_ix{next(self._ids)}"
        chain: list[ast.stmt] = [ast.Pass()]
        for k in range(len(values) - 1, -1, -1):
            body = _bind(node.target, values[k], node) + copy.deepcopy(node.body)
            test = ast.Compare(ast.Name(index, ast.Load()), [ast.Eq()], [ast.Constant(k)])
            chain = body if k == len(values) - 1 else [ast.If(test, body, chain)]
        count = ast.Constant(len(values))
        loop_range = ast.Call(ast.Name("range", ast.Load()), [count], [])
        loop = ast.For(ast.Name(index, ast.Store()), loop_range, chain, node.orelse)
        return [*self.before, ast.fix_missing_locations(ast.copy_location(loop, node))]

    def enumerate(self, node: ast.Call) -> _Items:
        args = _enumerate_args(node)
        inner = self.items(args[0])
        start = self.once(args[1]) if len(args) == 2 else None

        def item(k: ast.expr) -> ast.expr:
            index = _add(k, copy.deepcopy(start), node) if start is not None else k
            return _at(ast.Tuple([index, inner.item(copy.deepcopy(k))], ast.Load()), node)

        return _Items(inner.length, item)

    def zip(self, node: ast.Call) -> _Items:
        parts = [self.items(a) for a in node.args]
        lengths = [p.length for p in parts]
        length = lengths[0] if len(lengths) == 1 else _call("min", lengths, node)
        return _Items(length, lambda k: _at(ast.Tuple(
            [p.item(copy.deepcopy(k)) for p in parts], ast.Load()), node))

    def range(self, node: ast.Call) -> _Items:
        args = [self.once(a) for a in node.args]
        start = args[0] if len(args) > 1 else _at(ast.Constant(0), node)
        stop = args[1] if len(args) > 1 else args[0]
        step = args[2] if len(args) == 3 else _at(ast.Constant(1), node)
        length = _call(RANGE_LEN, [start, stop, step], node)
        return _Items(length, lambda k: _add(copy.deepcopy(start), _at(ast.BinOp(
            k, ast.Mult(), copy.deepcopy(step)), node), node))

    def once(self, node: ast.expr) -> ast.expr:
        """`node` evaluated once before the loop: itself if it has no calls or subscripts
        (a slice is a view, made once) and reads no name the loop assigns, else a temporary."""
        reads = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        if not (reads & self.assigned or any(isinstance(n, ast.Call | ast.Subscript)
                                             for n in ast.walk(node))):
            return node
        temp = f"__ember_it{next(self._ids)}"
        self.before.append(ast.copy_location(
            ast.Assign([_at(ast.Name(temp, ast.Store()), node)], node), node))
        return _at(ast.Name(temp, ast.Load()), node)


def _literal(node: ast.expr) -> bool:
    """A number literal (`2`, `-0.5`): a loop over a tuple of these picks its item by value."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, int | float)


def _is_range(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(
        func, ast.Attribute) else ""
    return name in _RANGES


def _enumerate_args(node: ast.Call) -> list[ast.expr]:
    """enumerate's arguments (iterable, start), or [] if it has others."""
    start = [k.value for k in node.keywords if k.arg == "start"]
    if len(start) != len(node.keywords) or len(node.args) + len(start) > 2:
        return []
    return [*node.args, *start]


def _lenient(node: ast.Call) -> bool:
    """zip() without keywords or with `strict=False` (its default)."""
    return all(k.arg == "strict" and isinstance(k.value, ast.Constant)
               and k.value.value is False for k in node.keywords)


def _called(node: ast.expr, name: str) -> ast.Call | None:
    """`node` if it is a call of the builtin `name`."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name:
        return node
    return None


def _bind(target: ast.expr | None, value: ast.expr, at: ast.stmt) -> list[ast.stmt]:
    """Statements giving `target` the item `value`; for the enumerate index loop (target
    None) only the element, the second item, is assigned."""
    if target is None:
        assert isinstance(value, ast.Tuple)
        element = at.target.elts[1]  # type: ignore[attr-defined]
        return _bind(element, value.elts[1], at)
    if (isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
            and len(target.elts) == len(value.elts)):
        return [s for t, v in zip(target.elts, value.elts, strict=True)
                for s in _bind(t, v, at)]
    return [ast.copy_location(ast.Assign([target], value), target)]


def _at(node: ast.expr, at: ast.AST) -> ast.expr:
    return ast.copy_location(node, at)


def _call(name: str, args: list[ast.expr], at: ast.AST) -> ast.expr:
    return _at(ast.Call(_at(ast.Name(name, ast.Load()), at), args, []), at)


def _add(left: ast.expr, right: ast.expr, at: ast.AST) -> ast.expr:
    return _at(ast.BinOp(left, ast.Add(), right), at)


def lower_element_loops(fdef: ast.FunctionDef) -> ast.FunctionDef:
    """`fdef` with every `for` over an array, `enumerate` or `zip` as an index loop."""
    out: ast.FunctionDef = _ElementLoops().visit(fdef)
    return ast.fix_missing_locations(out)
