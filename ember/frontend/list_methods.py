"""Frontend: the statements that resize a local list (frontend/lists.py's rewrite), and the
names that rewrite writes.

`append`/`extend` store through `store_last` (grow the buffer when it is full, store, count),
`pop`/`clear` change the length, `sort`/`reverse` run a prelude routine in place
(ember/prelude/lists.py); `check_resize` refuses resizing a list a loop iterates or that
parallel iterations share. `ListMethods` is the base of `lists._Lists`, whose state
(`values`, `capacity`, `loops`, `ids`, `ad`, `names`) these statements read and extend.
"""

from __future__ import annotations

import ast
import copy
from typing import Any

from ..errors import CompileError
from .list_scan import method_of, name_in
from .source import Source

LEN = "__ember_len_"
"""Prefix of the length variable of each list."""
NEW, GROW, GET, INDEX, VALUE = ("__ember_list_new", "__ember_list_grow", "__ember_list_get",
                                "__ember_list_index", "__ember_list_value")
ARRAY, RETURN, CALL = "__ember_list_array", "__ember_list_return", "__ember_list_call"
INTERNALS = (NEW, GROW, GET, INDEX, VALUE, ARRAY, RETURN, CALL)
"""The internal builtins this rewrite writes (builtins.INTERNAL; typed by list_rules.py)."""
CALLS = {"sum": "total", "min": "smallest", "max": "largest", "in": "contains",
         "pop": "pop_index", "slice": "sliced", "sort": "sort_items", "sorted": "sorted_items",
         "reverse": "reverse_items", "index": "index_of", "count": "count_of"}
"""Builtins over a list -> the ember/prelude/lists.py routine `__ember_list_call` runs."""


class ListMethods(ast.NodeTransformer):
    """The resizing statements of `lists._Lists` (see the module docstring), and the helpers
    they share with it."""

    src: Source
    values: dict[str, list[ast.expr]]
    capacity: dict[str, int]
    loops: list[Any]
    ids: Any
    ad: bool
    names: set[str]

    def error(self, node: ast.AST, message: str) -> CompileError:
        return self.src.error(node, message)

    def item(self, node: ast.expr) -> ast.expr:
        """A value stored in a list (rewritten): a number, never a list."""
        if isinstance(node, ast.List) or name_in(node, self.names):
            raise self.error(node, "lists of lists are not supported in kernels; use a 2-D "
                             "array, e.g. np.array([[1.0, 2.0], [3.0, 4.0]]) or np.zeros((m, n))")
        if isinstance(node, ast.Starred):
            raise self.error(node, "starred items are not supported in list displays")
        out: ast.expr = self.visit(node)
        return out

    def internal(self, name: str, args: list[ast.expr], at: ast.AST) -> ast.Call:
        return ast.copy_location(ast.Call(ast.copy_location(ast.Name(name, ast.Load()), at),
                                          args, []), at)

    def length(self, name: str) -> ast.Name:
        return ast.Name(LEN + name, ast.Load())

    def append(self, name: str, call: ast.Call) -> list[ast.stmt]:
        if len(call.args) != 1 or call.keywords:
            raise self.error(call, "append() takes exactly one argument")
        value = self.item(call.args[0])
        return self.store_last(name, value, call)

    def store_last(self, name: str, value: ast.expr, at: ast.AST) -> list[ast.stmt]:
        """Append the (rewritten) `value`: grow the buffer if full, store, count."""
        self.values.setdefault(name, []).append(copy.deepcopy(value))
        n = self.length(name)
        full = ast.Compare(copy.deepcopy(n), [ast.Eq()], [shape0(name, at)])
        grow = self.internal(GROW, [load(name, at), copy.deepcopy(n),
                                    ast.Constant(self.ad)], at)
        store = ast.Assign([ast.Subscript(load(name, at), copy.deepcopy(n), ast.Store())],
                           self.internal(VALUE, [load(name, at), value], at))
        count = ast.BinOp(copy.deepcopy(n), ast.Add(), ast.Constant(1))
        out = [ast.If(full, [assign(name, grow, at)], []), store,
               assign(LEN + name, count, at)]
        if name in self.capacity:  # room for every append was made at the creation
            out = out[1:]
        return [ast.copy_location(s, at) for s in out]

    def extend(self, name: str, call: ast.Call) -> list[ast.stmt]:
        if len(call.args) != 1 or call.keywords:
            raise self.error(call, "extend() takes exactly one argument")
        arg = call.args[0]
        if isinstance(arg, ast.List):
            return [s for e in arg.elts for s in self.store_last(name, self.item(e), e)]
        k = f"__ember_lk{next(self.ids)}"
        before: list[ast.stmt] = []
        count: ast.expr
        if name_in(arg, self.names):
            assert isinstance(arg, ast.Name)
            source, count = arg.id, ast.Name(LEN + arg.id, ast.Load())
        else:
            source = f"__ember_lx{next(self.ids)}"
            before = [assign(source, self.visit(arg), call)]
            count = shape0(source, call)
        limit = f"__ember_ln{next(self.ids)}"  # Python's b.extend(b) reads the old length
        before.append(assign(limit, count, call))
        item = ast.Subscript(load(source, call), load(k, call), ast.Load())
        body = self.store_last(name, item, call)
        loop = ast.For(ast.Name(k, ast.Store()), range_of(load(limit, call)), body, [])
        return [*before, ast.copy_location(loop, call)]

    def in_place(self, name: str, call: ast.Call) -> list[ast.stmt]:
        """`b.sort()`, `b.reverse()` (no arguments: no key, no reverse=)."""
        if call.args or call.keywords:
            raise self.error(call, f"{name}.{method_of(call)}() takes no arguments in kernels")
        what = ast.Constant(method_of(call))
        run = self.internal(CALL, [what, load(name, call), self.length(name)], call)
        return [ast.copy_location(ast.Expr(run), call)]

    def clear(self, name: str, call: ast.Call) -> list[ast.stmt]:
        return [assign(LEN + name, ast.Constant(0), call)]

    def pop(self, call: ast.Call, node: ast.AST, target: ast.expr | None) -> list[ast.stmt]:
        """`b.pop()` / `x = b.pop()`: IndexError if empty, else the last element, removed."""
        assert isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
        name = call.func.value.id
        if call.args or call.keywords:
            raise self.error(call, "pop() with an index is not supported in kernels; "
                             "only b.pop() (the last element)")
        self.check_resize(name, call)
        n = self.length(name)
        out = [assign(LEN + name, self.internal(CALL, [ast.Constant("pop"), n], call), call)]
        if target is not None:
            item = ast.Subscript(load(name, call), self.length(name), ast.Load())
            out.append(ast.copy_location(ast.Assign([self.visit(target)], item), node))
        return out

    def check_resize(self, name: str, call: ast.Call) -> None:
        """Refuse resizing a list being iterated or shared by parallel iterations."""
        what = f"{name}.{method_of(call)}()"
        for loop in self.loops:
            if name in loop.iterated:
                raise self.error(call, f"{what} changes the length of list '{name}' while a "
                                 "loop iterates over it; iterate over range(len(...)) of a "
                                 "copy, or collect into another list")
            if loop.prange and name not in loop.created:
                raise self.error(call, f"{what} inside a prange loop is a data race: its "
                                 "iterations run in parallel and share the list; preallocate "
                                 "an array (out = np.empty(n)) and assign out[i] = ...")


def load(name: str, at: ast.AST) -> ast.Name:
    return ast.copy_location(ast.Name(name, ast.Load()), at)


def assign(name: str, value: ast.expr, at: ast.AST) -> ast.stmt:
    target = ast.copy_location(ast.Name(name, ast.Store()), at)
    return ast.copy_location(ast.Assign([target], value), at)


def shape0(name: str, at: ast.AST) -> ast.expr:
    shape = ast.Attribute(load(name, at), "shape", ast.Load())
    return ast.copy_location(ast.Subscript(shape, ast.Constant(0), ast.Load()), at)


def range_of(stop: ast.expr) -> ast.expr:
    return ast.Call(ast.Name("range", ast.Load()), [stop], [])
