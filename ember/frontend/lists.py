"""Frontend step 1b: local Python lists -> a growable buffer array and a length.

Input: a checked `ast.FunctionDef`. Output: the same function without lists. Every list
variable `b` (a name assigned a list display, `b = [1.0, x]`, `b: list[float] = []`, or a copy
of a list: `b.copy()`, `list(b)`, `c[i:j]`) becomes two variables: `b`, a 1-D array whose
length is the list's capacity, and `__ember_len_b`, its length. `b.append(v)` grows the buffer
when it is full (a new buffer of twice the capacity, ember/prelude/lists.py), stores `v` and
counts it; `len(b)`, `b[i]` (negative indices wrap, IndexError under boundscheck), `b[i] = v`,
`for v in b`, `enumerate(b)`, `v in b`, `sum/min/max(b)`, `b.pop()`, `b.extend(...)`,
`np.array(b)` and `return b` (as an array) become array code and internal calls
(`INTERNALS`, typed by list_rules.py). Lists are homogeneous: the element type is the NumPy
promotion of every value ever stored in the list (a float appended to a list of ints makes it
a list of floats, as a variable assigned an int and a float is a float), unless annotated
(`b: list[f32] = []`). A list whose size is bounded at compile time (list_scan.py) gets a
buffer that large and no growth code. Uses this rewrite cannot give a meaning are refused
here, by name.
"""

from __future__ import annotations

import ast
import copy
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

from .list_methods import (
    ARRAY,
    CALL,
    GET,
    INDEX,
    LEN,
    NEW,
    RETURN,
    VALUE,
    ListMethods,
    assign,
    load,
    range_of,
    shape0,
)
from .list_scan import (
    capacities,
    created,
    is_list_annotation,
    list_names,
    method_of,
    name_in,
    names_in,
)
from .source import Source

_ARRAY_LISTS = ("array", "asarray", "concatenate", "stack", "hstack", "vstack")
"""Calls whose list-display arguments creation.py / selection.py type themselves."""
_METHODS = "append, extend, pop, copy, clear, sort, reverse, index and count"
_HINT = ("lists in kernels support len(), indexing, iteration, 'in', sum/min/max, "
         f"{_METHODS}, np.array(b) and NumPy functions of them")


def lower_lists(src: Source, ad: bool) -> ast.FunctionDef:
    """A copy of `src.tree` with its lists rewritten (see the module docstring); `ad`: typing
    for differentiation (a list whose buffer would be reallocated is refused)."""
    fdef = copy.deepcopy(src.tree)
    names = list_names(src, fdef)
    if not names and not _has_list(fdef):
        return fdef
    rewriter = _Lists(src, ad, names, capacities(fdef.body, names))
    fdef.body = rewriter.block(fdef.body)
    rewriter.fill_values()
    ast.fix_missing_locations(fdef)
    return fdef


def _has_list(fdef: ast.FunctionDef) -> bool:
    return any(isinstance(n, ast.List) for n in ast.walk(fdef))


@dataclass
class _Loop:
    prange: bool
    created: set[str]
    """Lists created inside this loop's body."""
    iterated: set[str] = field(default_factory=set)
    """The lists this loop iterates over (they may not grow or shrink inside)."""


@dataclass
class _Lists(ListMethods):
    src: Source
    ad: bool
    names: set[str]
    capacity: dict[str, int]
    """Lists whose size is bounded at compile time (see `capacities`): that bound."""
    loops: list[_Loop] = field(default_factory=list)
    values: dict[str, list[ast.expr]] = field(default_factory=dict)
    """Per list: every value stored in it (its element type is their promotion)."""
    news: dict[str, list[ast.Call]] = field(default_factory=dict)
    """Per list: its creations, which receive `values` once all are known."""
    ids: Iterator[int] = field(default_factory=itertools.count)
    raw: set[int] = field(default_factory=set)
    """Ids of the views of lists this rewrite wrote (`b[:len(b)]`), left as they are."""
    hoisted: list[ast.stmt] | None = None
    """Statements to run before the statement being rewritten (the `b.pop()` in it), or None
    where there is no such place (a `while` test)."""
    pending: list[ast.stmt] = field(default_factory=list)
    """Statements to run before the loop being rewritten (a list display it iterates)."""

    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        outer = self.hoisted
        for stmt in stmts:
            self.hoisted = []
            new = self.visit(stmt)
            out.extend(self.hoisted)
            out.extend(new if isinstance(new, list) else [new])
        self.hoisted = outer
        return out

    def fill_values(self) -> None:
        """Give every creation of a list the values stored in it (for its element type)."""
        for name, calls in self.news.items():
            for call in calls:
                call.args.extend(copy.deepcopy(self.values.get(name, [])))

    # --- statements ----------------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> ast.AST | list[ast.stmt]:
        target = node.targets[0]
        if name_in(target, self.names):
            assert isinstance(target, ast.Name)
            return self.create(target.id, node.value, None, node)
        if method_of(node.value) == "pop" and name_in(node.value.func.value,  # type: ignore
                                                        self.names):
            return self.pop(node.value, node, target)  # type: ignore[arg-type]
        if isinstance(target, ast.Subscript) and name_in(target.value, self.names):
            assert isinstance(target.value, ast.Name)
            value = self.item(node.value)
            self.values.setdefault(target.value.id, []).append(copy.deepcopy(value))
            node.targets = [self.visit(target)]
            node.value = self.internal(VALUE, [load(target.value.id, node), value], node)
            return node
        if name_in(node.value, self.names):
            raise self.error(node.value, "assigning a list to another name (an alias in "
                             f"Python) is not supported in kernels; copy it with "
                             f"{ast.unparse(node.value)}.copy()")
        return self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST | list[ast.stmt]:
        if name_in(node.target, self.names):
            assert isinstance(node.target, ast.Name)
            if node.value is None or not is_list_annotation(node.annotation):
                raise self.error(node, "annotate a list variable as list[float] (or "
                                 "list[int], list[f32], ...) and give it a value: "
                                 "b: list[float] = []")
            return self.create(node.target.id, node.value, node.annotation, node)
        return self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST | list[ast.stmt]:
        target = node.target
        if isinstance(target, ast.Subscript) and name_in(target.value, self.names):
            return self.update_item(node, target)
        if not name_in(node.target, self.names):
            return self.generic_visit(node)
        if not isinstance(node.op, ast.Add):
            raise self.error(node, "only 'b += ...' (extend) is supported on a list in "
                             "kernels")
        call = ast.Call(ast.Attribute(node.target, "extend", ast.Load()), [node.value], [])
        out: list[ast.stmt] = self.visit_Expr(
            ast.copy_location(ast.Expr(ast.copy_location(call, node)), node))  # type: ignore
        return out

    def update_item(self, node: ast.AugAssign, target: ast.Subscript) -> list[ast.stmt]:
        """`b[i] += v` -> `k = index(i); b[k] = b[k] + v` (the element may change type)."""
        assert isinstance(target.value, ast.Name)
        name = target.value.id
        if isinstance(target.slice, ast.Slice | ast.Tuple):
            raise self.error(target, f"list '{name}' is indexed with one integer in kernels")
        k = f"__ember_li{next(self.ids)}"
        index = self.internal(INDEX, [self.visit(target.slice), self.length(name),
                                      ast.Constant(False)], target)
        item = ast.Subscript(load(name, node), load(k, node), ast.Load())
        value = ast.copy_location(ast.BinOp(item, node.op, self.item(node.value)), node)
        self.values.setdefault(name, []).append(copy.deepcopy(value))
        store = ast.Subscript(load(name, node), load(k, node), ast.Store())
        return [assign(k, index, node), ast.copy_location(ast.Assign(
            [store], self.internal(VALUE, [load(name, node), value], node)), node)]

    def visit_Expr(self, node: ast.Expr) -> ast.AST | list[ast.stmt]:
        call = node.value
        method = method_of(call)
        if method is None or not name_in(call.func.value, self.names):  # type: ignore
            return self.generic_visit(node)
        assert isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
        name = call.func.value.id  # type: ignore[attr-defined]
        if method == "pop":
            return self.pop(call, node, None)
        handlers = {"append": self.append, "extend": self.extend, "clear": self.clear,
                    "sort": self.in_place, "reverse": self.in_place}
        if method in ("index", "count"):
            return self.generic_visit(node)
        if method not in handlers:
            raise self.error(call, f"list method '{method}' is not supported in kernels; "
                             f"lists support {_METHODS}")
        if method not in ("sort", "reverse"):
            self.check_resize(name, call)
        return handlers[method](name, call)

    def visit_Return(self, node: ast.Return) -> ast.AST:
        """`return b` / `return b, x`: lists are returned as arrays (list_rules.py)."""
        value = node.value
        if isinstance(value, ast.Tuple):
            value.elts = [self.returned(e, k) for k, e in enumerate(value.elts)]
        elif value is not None:
            node.value = self.returned(value, -1)
        return node

    def returned(self, value: ast.expr, item: int) -> ast.expr:
        if not name_in(value, self.names):
            out: ast.expr = self.visit(value)
            return out
        assert isinstance(value, ast.Name)
        return self.internal(RETURN, [value, self.length(value.id), ast.Constant(item)],
                             value)

    def visit_For(self, node: ast.For) -> ast.AST | list[ast.stmt]:
        iterated = self.iterated_list(node.iter)
        loop = _Loop(_is_prange(node.iter), created(node.body, self.names),
                     {iterated} if iterated is not None else names_in(node.iter, self.names))
        node.iter = self.visit(node.iter) if iterated is None else node.iter
        self.loops.append(loop)
        try:
            node.body = self.block(node.body)
            node.orelse = self.block(node.orelse)
        finally:
            self.loops.pop()
        return self.index_loop(node, iterated) if iterated is not None else node

    def visit_While(self, node: ast.While) -> ast.AST:
        outer, self.hoisted = self.hoisted, None
        node.test = self.test(node.test)
        self.hoisted = outer
        self.loops.append(_Loop(False, created(node.body, self.names)))
        try:
            node.body = self.block(node.body)
            node.orelse = self.block(node.orelse)
        finally:
            self.loops.pop()
        return node

    # --- list statements -----------------------------------------------------------------
    def create(self, name: str, value: ast.expr | None, annotation: ast.expr | None,
               node: ast.stmt) -> list[ast.stmt]:
        """`b = [x, y]`, `b: list[f32] = []`, `b = c.copy()`, `b = c[i:j]`."""
        if isinstance(value, ast.IfExp):  # b = [x] if c else [] -> an if statement
            test = self.test(value.test)
            return [ast.copy_location(ast.If(
                test, self.create(name, value.body, annotation, node),
                self.create(name, value.orelse, annotation, node)), node)]
        elem = annotation.slice if isinstance(annotation, ast.Subscript) else None
        ann: ast.expr = elem if elem is not None else ast.Constant(None)
        if isinstance(value, ast.List):
            items = [self.item(e) for e in value.elts]
            self.values.setdefault(name, []).extend(copy.deepcopy(items))
            room = max(self.capacity.get(name, 0), len(items) if items else 8)
            new = self.internal(NEW, [ast.Constant(name), ast.Constant(len(items)), ann,
                                      ast.Constant(room), *items], node)
            length: ast.expr = ast.Constant(len(items))
        else:
            assert value is not None
            new = self.internal(NEW, [ast.Constant(name), ast.Constant(-1), ann,
                                      ast.Constant(-1), self.copied(value)], node)
            length = shape0(name, node)
        self.news.setdefault(name, []).append(new)
        return [assign(name, new, node), assign(LEN + name, length, node)]

    def copied(self, value: ast.expr) -> ast.expr:
        """The buffer of a copy: `b.copy()`, `list(b)`, `b[i:j]` (a new exact-size array)."""
        source = value.func.value if isinstance(value, ast.Call) and isinstance(
            value.func, ast.Attribute) else value.args[0] if isinstance(value, ast.Call) \
            else value.value  # type: ignore[attr-defined]
        assert isinstance(source, ast.Name)
        n = self.length(source.id)
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
                and value.func.id == "sorted":
            return self.internal(CALL, [ast.Constant("sorted"), load(source.id, value), n],
                                 value)
        if not isinstance(value, ast.Subscript):
            return self.internal(ARRAY, [load(source.id, value), n], value)
        part = value.slice
        assert isinstance(part, ast.Slice)
        if part.step is not None:
            raise self.error(part, "list slices with a step are not supported in kernels; "
                             "slice an array instead: np.array(b)[i:j:k]")
        lo = self.visit(part.lower) if part.lower is not None else ast.Constant(0)
        hi = self.visit(part.upper) if part.upper is not None else copy.deepcopy(n)
        return self.internal(CALL, [ast.Constant("slice"), load(source.id, value), n, lo, hi],
                             value)

    # --- loops over lists ----------------------------------------------------------------
    def iterated_list(self, node: ast.expr) -> str | None:
        """The list a `for` iterates (`for v in b`, `enumerate(b)`), else None; a list
        display iterated over becomes a list first."""
        inner = node.args[0] if isinstance(node, ast.Call) and _builtin_call(
            node, "enumerate") and node.args else node
        if isinstance(inner, ast.List):
            temp = f"__ember_ll{next(self.ids)}"
            self.names.add(temp)
            self.pending.extend(self.create(temp, inner, None, node))  # type: ignore[arg-type]
            return temp
        if name_in(inner, self.names):
            assert isinstance(inner, ast.Name)
            return inner.id
        if isinstance(node, ast.Call):  # zip(b, c), enumerate(zip(b, c)), ...: views
            self.raw |= {id(v) for v in _views_of_lists(node, self.names)}
        return None

    def index_loop(self, node: ast.For, name: str) -> list[ast.stmt]:
        """`for v in b` -> `for k in range(len(b)): v = b[k]`; enumerate(b, s) likewise."""
        before, self.pending = self.pending, []
        target = node.target
        index: ast.expr | None = None
        start: ast.expr | None = None
        if _builtin_call(node.iter, "enumerate"):
            assert isinstance(node.iter, ast.Call)
            args = [*node.iter.args[1:], *(k.value for k in node.iter.keywords)]
            start = self.visit(args[0]) if args else None
            if not (isinstance(target, ast.Tuple) and len(target.elts) == 2):
                raise self.error(target, "unpack enumerate() into two names: for i, v in ...")
            index, target = target.elts
        if start is not None and not isinstance(start, ast.Constant):
            first = f"__ember_ls{next(self.ids)}"
            before.append(assign(first, start, node))
            start = load(first, node)
        k = f"__ember_lk{next(self.ids)}"
        head: list[ast.stmt] = []
        if index is not None:
            value = load(k, node) if start is None else ast.BinOp(load(k, node), ast.Add(),
                                                                   start)
            head.append(ast.Assign([index], value))
        item = ast.Subscript(load(name, node), load(k, node), ast.Load())
        head.append(ast.Assign([self.visit(target)], item))
        loop = ast.For(ast.Name(k, ast.Store()), range_of(self.length(name)),
                       [ast.copy_location(s, node) for s in head] + node.body, node.orelse)
        return [*before, ast.copy_location(loop, node)]

    # --- expressions ---------------------------------------------------------------------
    def test(self, node: ast.expr) -> ast.expr:
        """A condition: a list is true when it is not empty (`while b:`, `if not b:`)."""
        if name_in(node, self.names):
            assert isinstance(node, ast.Name)
            size = ast.Compare(self.length(node.id), [ast.NotEq()], [ast.Constant(0)])
            return ast.copy_location(size, node)
        if isinstance(node, ast.BoolOp):
            node.values = [self.test(v) for v in node.values]
            return node
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            node.operand = self.test(node.operand)
            return node
        out: ast.expr = self.visit(node)
        return out

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        return self.test(node) if isinstance(node.op, ast.Not) else self.generic_visit(node)

    def visit_If(self, node: ast.If) -> ast.AST:
        node.test = self.test(node.test)
        node.body = self.block(node.body)
        node.orelse = self.block(node.orelse)
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        node.test = self.test(node.test)
        node.body, node.orelse = self.visit(node.body), self.visit(node.orelse)
        return node

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
        node.test = self.test(node.test)
        if node.msg is not None:
            node.msg = self.visit(node.msg)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        if id(node) in self.raw:
            return node
        if not name_in(node.value, self.names):
            return self.generic_visit(node)
        assert isinstance(node.value, ast.Name)
        name = node.value.id
        if isinstance(node.slice, ast.Slice | ast.Tuple):
            raise self.error(node, f"list '{name}' is indexed with one integer in kernels; "
                             f"copy a slice into a new list (c = {name}[i:j]) or use "
                             f"np.array({name})")
        index = self.visit(node.slice)
        if isinstance(node.ctx, ast.Load):
            return self.internal(GET, [node.value, self.length(name), index], node)
        node.slice = self.internal(INDEX, [index, self.length(name), ast.Constant(True)],
                                   node.slice)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        method = method_of(node)
        if method is not None and name_in(node.func.value, self.names):  # type: ignore
            return self.popped(node, method)
        arg = node.args[0] if len(node.args) == 1 and not node.keywords else None
        if arg is not None and name_in(arg, self.names):
            special = self.builtin_of_list(node, arg)  # type: ignore[arg-type]
            if special is not None:
                return special
        if isinstance(node.func, ast.Attribute) and node.args and isinstance(
                node.args[0], ast.List) and node.func.attr in _ARRAY_LISTS:
            self.display_items(node.args[0])
            node.args[1:] = [self.argument(node, a) for a in node.args[1:]]
        else:
            node.args = [self.argument(node, a) for a in node.args]
        for kw in node.keywords:
            kw.value = self.argument(node, kw.value)
        node.func = self.visit(node.func)
        return node

    def popped(self, node: ast.Call, method: str) -> ast.expr:
        """`b.pop()` inside an expression: popped into a temporary before the statement;
        `b.index(v)`, `b.count(v)`."""
        name = node.func.value.id  # type: ignore[attr-defined]
        if method in ("index", "count") and len(node.args) == 1 and not node.keywords:
            return self.internal(CALL, [ast.Constant(method), load(name, node),
                                        self.length(name), self.visit(node.args[0])], node)
        if method != "pop" or self.hoisted is None:
            where = "" if method != "pop" else " outside a while condition"
            raise self.error(node, f"list method '{method}()' is supported as a statement"
                             f"{where} (b.append(x), b.pop(), x = b.pop(), c = b.copy()); "
                             f"{_HINT}")
        temp = f"__ember_lp{next(self.ids)}"
        self.hoisted.extend(self.pop(node, node, ast.Name(temp, ast.Store())))
        return load(temp, node)

    def display_items(self, display: ast.List | ast.Tuple) -> None:
        """The items of `np.array([[...], ...])`'s (nested) display, rewritten in place."""
        for k, item in enumerate(display.elts):
            if isinstance(item, ast.List | ast.Tuple):
                self.display_items(item)
            else:
                display.elts[k] = self.visit(item)

    def builtin_of_list(self, node: ast.Call, arg: ast.Name) -> ast.expr | None:
        """`len(b)`, `bool(b)`, `sum(b)`, `min(b)`, `max(b)`, `sorted(b)` (an array)."""
        if not isinstance(node.func, ast.Name):
            return None
        if node.func.id in ("len", "bool"):
            return self.test(arg) if node.func.id == "bool" else ast.copy_location(
                self.length(arg.id), node)
        if node.func.id in ("sum", "min", "max", "sorted"):
            return self.internal(CALL, [ast.Constant(node.func.id), arg, self.length(arg.id)],
                                 node)
        return None

    def argument(self, call: ast.Call, arg: ast.expr) -> ast.expr:
        """A list passed to a NumPy function is a new array of its elements."""
        if not name_in(arg, self.names):
            out: ast.expr = self.visit(arg)
            return out
        assert isinstance(arg, ast.Name)
        if isinstance(call.func, ast.Attribute):
            return self.internal(ARRAY, [arg, self.length(arg.id)], arg)
        callee = ast.unparse(call.func)
        raise self.error(arg, f"list '{arg.id}' cannot be passed to '{callee}': kernels and "
                         f"functions take arrays; pass np.array({arg.id}) (a copy)")

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        ops = node.ops
        right = node.comparators[-1]
        if not (len(ops) == 1 and isinstance(ops[0], ast.In | ast.NotIn)
                and (isinstance(right, ast.List) or name_in(right, self.names))):
            return self.generic_visit(node)
        left = self.visit(node.left)
        if isinstance(right, ast.List):
            found = self.contains_literal(left, [self.item(e) for e in right.elts], node)
        else:
            assert isinstance(right, ast.Name)
            found = self.internal(CALL, [ast.Constant("in"), right, self.length(right.id),
                                         left], node)
        if isinstance(ops[0], ast.NotIn):
            found = ast.UnaryOp(ast.Not(), found)
        return ast.copy_location(found, node)

    def contains_literal(self, left: ast.expr, items: list[ast.expr], at: ast.AST) -> ast.expr:
        """`x in [a, b]` -> `x == a or x == b` (False for an empty display)."""
        if not items:
            return ast.copy_location(ast.Constant(False), at)
        tests: list[ast.expr] = [ast.Compare(copy.deepcopy(left), [ast.Eq()], [e])
                                 for e in items]
        return tests[0] if len(tests) == 1 else ast.BoolOp(ast.Or(), tests)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.names:
            raise self.error(node, f"list '{node.id}' cannot be used here; {_HINT}")
        return node

    def visit_List(self, node: ast.List) -> ast.AST:
        raise self.error(node, "a list cannot be used here in kernels; assign it to a name "
                         "(b = [...]) or make an array with np.array([...])")

    # --- helpers -------------------------------------------------------------------------


def _views_of_lists(call: ast.Call, names: set[str]) -> list[ast.Subscript]:
    """Inside zip(...)/enumerate(...): each list `b` -> the view `b[:len(b)]` of its items
    (returned)."""
    if not (_builtin_call(call, "zip") or _builtin_call(call, "enumerate")):
        return []
    views: list[ast.Subscript] = []
    for k, arg in enumerate(call.args):
        if isinstance(arg, ast.Call):
            views += _views_of_lists(arg, names)
        elif isinstance(arg, ast.Name) and arg.id in names:
            part = ast.Slice(None, ast.Name(LEN + arg.id, ast.Load()), None)
            views.append(ast.copy_location(ast.Subscript(
                ast.Name(arg.id, ast.Load()), part, ast.Load()), arg))
            call.args[k] = views[-1]
    return views


def _is_prange(node: ast.expr) -> bool:
    func = node.func if isinstance(node, ast.Call) else None
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(
        func, ast.Attribute) else ""
    return name == "prange"


def _builtin_call(node: ast.expr, name: str) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == name)
