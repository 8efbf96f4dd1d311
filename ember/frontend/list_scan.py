"""Frontend step 1b, part one: find the local lists of a kernel and what lists.py may assume.

Input: a checked `ast.FunctionDef`. Output: facts, no rewrite: which names are lists (assigned
list displays or copies of lists: `list_names`), which list displays the subset check lets
through (`accepted_literals`), and which lists have a size bounded at compile time
(`capacities`: created and grown by displays, append and extend of displays in one loop body),
whose buffers are made that large so they never reallocate.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

from .source import Source


def is_list_annotation(node: ast.expr | None) -> bool:
    """`list` or `list[...]`."""
    if isinstance(node, ast.Subscript):
        node = node.value
    return isinstance(node, ast.Name) and node.id == "list"


def accepted_literals(fdef: ast.FunctionDef) -> set[int]:
    """The ids of the list displays lists.py takes (check.py lets them through): assigned to
    a name (also as `[...] if c else [...]`), extending a list, iterated over, or the right
    operand of `in`."""
    found: set[int] = set()
    for node in ast.walk(fdef):
        places: list[ast.expr | None] = []
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            places = [node.value]
            if isinstance(node.value, ast.IfExp):
                places = [node.value.body, node.value.orelse]
        elif isinstance(node, ast.For):
            places = [node.iter]
        elif isinstance(node, ast.Compare):
            places = list(node.comparators)
        elif isinstance(node, ast.Call) and method_of(node) in ("extend", "append"):
            places = list(node.args)
        for p in places:  # nested displays too: the rewrite refuses them by name
            if isinstance(p, ast.List):
                found |= {id(n) for n in ast.walk(p) if isinstance(n, ast.List)}
    return found


def method_of(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def list_valued(value: ast.expr | None, names: set[str]) -> bool:
    """A list display, or a copy of a known list (`b.copy()`, `list(b)`, `sorted(b)`,
    `b[i:j]`), or a choice of two of these."""
    if isinstance(value, ast.List):
        return True
    if isinstance(value, ast.IfExp):  # `b = [x] if c else []`
        return list_valued(value.body, names) and list_valued(value.orelse, names)
    if isinstance(value, ast.Call) and method_of(value) == "copy" and not value.args:
        return name_in(value.func.value, names)  # type: ignore[attr-defined]
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
            and value.func.id in ("list", "sorted") and len(value.args) == 1:
        return name_in(value.args[0], names)
    return (isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Slice)
            and name_in(value.value, names))


def name_in(node: ast.AST, names: set[str]) -> bool:
    return isinstance(node, ast.Name) and node.id in names


def targets(fdef: ast.AST) -> Iterator[tuple[str, ast.expr | None, ast.stmt]]:
    for node in ast.walk(fdef):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            yield node.targets[0].id, node.value, node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            yield node.target.id, node.value, node


def list_names(src: Source, fdef: ast.FunctionDef) -> set[str]:
    """The list variables (a fixpoint: a copy of a list is a list), each assigned lists only."""
    names: set[str] = set()
    while True:
        found = {n for n, v, s in targets(fdef) if list_valued(v, names)
                 or isinstance(s, ast.AnnAssign) and is_list_annotation(s.annotation)}
        if found <= names:
            break
        names |= found
    params = {a.arg for a in fdef.args.args}
    for name, value, stmt in targets(fdef):
        if name in params and name in names:
            raise src.error(stmt, f"parameter '{name}' cannot be rebound to a list; give the "
                            "list a name of its own")
        if name in names and not list_valued(value, names):
            what = "nothing" if value is None else f"'{ast.unparse(value)}'"
            raise src.error(stmt, f"'{name}' is a list, so it cannot be assigned {what}: a "
                            "variable keeps one type (start a new list with [] or [...])")
    return names


@dataclass
class _Sizes:
    """What `capacities` finds about one list."""

    size: int = 0
    """The most elements it can hold: its longest display plus every append and extend."""
    homes: set[int] = field(default_factory=set)
    """The innermost loops (ids; 0: none) of its creations and of the statements growing it."""
    dynamic: bool = False
    """It is a copy, or grows by an amount known only at run time (extend by a list)."""


def capacities(body: list[ast.stmt], names: set[str]) -> dict[str, int]:
    """The lists whose number of elements is bounded at compile time, and that bound: those
    grown by displays, append and extend by displays only, all in the loop body that creates
    them (or all outside loops), where a list made inside a loop is made on every pass (at
    the top of the body, no `continue`), so no pass appends to an older list. Their buffer is
    made that large, so they never reallocate (which derivatives need: Enzyme cannot follow
    a buffer reallocated in a loop)."""
    sizes: dict[str, _Sizes] = {n: _Sizes() for n in names}
    _scan(body, 0, sizes, False)
    return {n: s.size for n, s in sizes.items() if not s.dynamic and len(s.homes) == 1}


def _scan(body: list[ast.stmt], loop: int, sizes: dict[str, _Sizes], partial: bool) -> None:
    """`partial`: the statements may be skipped on a pass of `loop` (an `if`, a `continue`)."""
    for stmt in body:
        if isinstance(stmt, ast.For | ast.While):
            _scan(stmt.body, id(stmt), sizes, _continues(stmt.body))
            _scan(stmt.orelse, loop, sizes, partial)
        elif isinstance(stmt, ast.If):
            _scan(stmt.body, loop, sizes, True)
            _scan(stmt.orelse, loop, sizes, True)
        else:
            found = _growth(stmt, sizes)
            if found is not None:
                name, count, creates = found
                info = sizes[name]
                info.homes.add(loop)
                info.dynamic |= count is None or (creates and loop != 0 and partial)
                info.size = max(info.size, count or 0) if creates else info.size + (count or 0)


def _continues(body: list[ast.stmt]) -> bool:
    """Whether a `continue` of this loop body (not of a loop inside it) can skip statements."""
    todo: list[ast.AST] = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Continue):
            return True
        if not isinstance(node, ast.For | ast.While):
            todo.extend(ast.iter_child_nodes(node))
    return False


def _growth(stmt: ast.stmt, sizes: dict[str, _Sizes]) -> tuple[str, int | None, bool] | None:
    """(list, elements or None if not known, whether `stmt` creates it) for a statement that
    creates or grows a list."""
    if isinstance(stmt, ast.Assign | ast.AnnAssign):
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) else stmt.target
        if isinstance(target, ast.Name) and target.id in sizes:
            return target.id, _display_size(stmt.value), True
    call = stmt.value if isinstance(stmt, ast.Expr) else None
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
        call = ast.Call(ast.Attribute(stmt.target, "extend"), [stmt.value], [])
    method = method_of(call) if call is not None else None
    if method in ("append", "extend") and name_in(call.func.value, set(sizes)):  # type: ignore
        assert isinstance(call, ast.Call)
        arg = call.args[0] if call.args else None
        count = 1 if method == "append" else len(arg.elts) if isinstance(arg, ast.List) \
            else None
        return call.func.value.id, count, False  # type: ignore[attr-defined]
    return None


def created(body: list[ast.stmt], names: set[str]) -> set[str]:
    return {n for s in body for n, _, _ in targets(s) if n in names}


def names_in(node: ast.expr, names: set[str]) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in names}


def _display_size(value: ast.expr | None) -> int | None:
    """The most items a list-valued expression has, if it is made of displays only."""
    if isinstance(value, ast.List):
        return len(value.elts)
    if isinstance(value, ast.IfExp):
        sizes = (_display_size(value.body), _display_size(value.orelse))
        return None if None in sizes else max(s for s in sizes if s is not None)
    return None
