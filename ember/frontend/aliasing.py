"""Frontend: which arrays a variable may share memory with, so that a store through it marks
the right arrays written.

Input: typed values as the statement builder assigns them. Output: `Scope.aliases` (a
variable that is a view of one array: that array) and `Scope.alias_sets` (a variable that
may be any of several arrays: a tuple holding arrays, `t[k]` of one, the result of a called
kernel that may return one of its array arguments), and `mark_written`, which every store,
in-place update and argument passed to a writing callee goes through. A kernel's `written`
parameters are what the runtime checks for writability and what derivatives make active, so
the sets over-approximate: a name may alias each array it could hold on any path.
`result_aliases` says which parameters a kernel's result may share memory with (its callers
read it through `KernelCall`).
"""

from __future__ import annotations

from collections.abc import Iterable

from .. import types as T
from . import tir
from .scope import Scope

_VIEWS = (tir.View, tir.Transpose, tir.Reshape)


def roots(scope: Scope, e: tir.Expr, resolve: bool = True) -> frozenset[str]:
    """The variables whose arrays `e` may share memory with (parameters, locals, constants);
    without `resolve`, the variables `e` reads them from (not what those alias)."""
    while isinstance(e, _VIEWS):
        e = e.array
    if isinstance(e, tir.Var):
        return names(scope, e.name) if resolve else frozenset([e.name])
    if isinstance(e, tir.TupleExpr):
        return _union(roots(scope, i, resolve) for i in e.items)
    if isinstance(e, tir.TupleGet):
        if isinstance(e.value, tir.TupleExpr):
            return roots(scope, e.value.items[e.index], resolve)
        return roots(scope, e.value, resolve)
    if isinstance(e, tir.IfExp):
        return roots(scope, e.then, resolve) | roots(scope, e.orelse, resolve)
    if isinstance(e, tir.KernelCall):
        return _call_roots(scope, e, resolve)
    return frozenset()


def names(scope: Scope, name: str) -> frozenset[str]:
    """What variable `name` may alias (itself when it aliases nothing else)."""
    if name in scope.alias_sets:
        return scope.alias_sets[name]
    return frozenset([scope.aliases.get(name, name)])


def track(scope: Scope, name: str, value: tir.Expr) -> None:
    """Record what `name` aliases once it is assigned `value` (an array or a tuple)."""
    if not _holds_arrays(value.type):
        return
    scope.alias_edges.setdefault(name, set()).update(roots(scope, value, resolve=False) - {name})
    found = roots(scope, value) - {name}
    if isinstance(value.type, T.Array) and len(found) == 1 and name not in scope.alias_sets:
        scope.aliases[name] = next(iter(found))
    elif found:
        scope.alias_sets[name] = scope.alias_sets.get(name, frozenset()) | found


def mark_written(scope: Scope, name: str) -> None:
    """A store through variable `name` (or a view of it): every array it may be is written."""
    scope.stored.add(name)
    scope.written.update(names(scope, name))


def written(scope: Scope) -> frozenset[str]:
    """Every variable a store may reach, over all the kernel's assignments: a variable
    rebound later (`a, b = b, a` in a loop) stores into each array it is ever bound to."""
    return frozenset(scope.written) | _reachable(scope, scope.stored)


def result_aliases(scope: Scope, body: tuple[tir.Stmt, ...]) -> frozenset[str]:
    """The parameters the kernel's result may share memory with (through any `return`)."""
    found = _union(roots(scope, s.value, resolve=False) for s in tir.walk(body)
                   if isinstance(s, tir.Return) and s.value is not None)
    return _reachable(scope, found) & frozenset(scope.params)


def _reachable(scope: Scope, start: Iterable[str]) -> frozenset[str]:
    """`start` and every variable assigned, directly or through others, into one of them."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(scope.alias_edges.get(name, ()))
            todo.extend(names(scope, name))
    return frozenset(seen)


def _call_roots(scope: Scope, call: tir.KernelCall, resolve: bool = True) -> frozenset[str]:
    callee = scope.callees.functions.get(call.callee)
    params = [n for n, _ in callee.params] if callee is not None else []
    may = callee.result_aliases if callee is not None else None
    out: list[frozenset[str]] = []
    for k, arg in enumerate(call.args):
        name = params[k] if k < len(params) else None
        if _holds_arrays(arg.type) and (may is None or name is None or name in may):
            out.append(roots(scope, arg, resolve))
    return _union(out)


def _holds_arrays(t: T.Type) -> bool:
    return isinstance(t, T.Array) or (isinstance(t, T.Tuple) and any(
        _holds_arrays(i) for i in t.items))


def _union(sets: Iterable[frozenset[str]]) -> frozenset[str]:
    out: frozenset[str] = frozenset()
    for s in sets:
        out |= s
    return out
