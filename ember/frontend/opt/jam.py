"""Frontend step 7 (opt_level >= 2): unroll-and-jam of row loops.

A loop `for i in range(lo, hi)` whose body is straight-line code plus inner `for j` loops
with bounds that do not depend on the row runs ROWS rows at a time: each inner loop runs once
for ROWS rows, its body repeated per row, statement by statement:

    for i in range(n):                 for i0 in range(0, n - n % 4, 4):
        s = 0.0                            s0 = 0.0; s1 = 0.0; s2 = 0.0; s = 0.0
        for j in range(m):       ->        for j in range(m):
            s += a[i, j] * x[j]                s0 += a[i0, j] * x[j]; ...; s += a[i0+3, j] * x[j]
        y[i] = s                           y[i0] = s0; ...; y[i0 + 3] = s
                                       for i in range(n - n % 4, n): <the original body>

A row reduction becomes ROWS independent dependency chains (a latency-bound loop becomes
throughput-bound), loads shared by the rows (`x[j]`) happen once, and column walks
(`a[j, i]`) touch ROWS neighbouring elements per step. Every row performs its own operations
in its original order, so results are bitwise those of the plain loop.

Rows must not interact. Accepted: locals assigned before they are read in the same row;
inner loops whose bounds use no row value; arrays written at one subscript only, which either
names the row (`y[i]`, `b[i, j]`: rows touch different elements) or, when all its accesses sit
in one inner loop, names that loop's variable (`s[j] += ...`: each element still sees the rows
in order). Arrays that might share memory are told apart at run time: if a written array
overlaps another array of the nest, the plain loop runs instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import TypeAlias, overload

from ... import types as T
from ...errors import Span
from .. import dataflow, tir

ROWS = 4
MAX_NODES = 300
"""Bodies larger than this are not jammed (code size grows ROWS-fold) nor fused."""


def jam_loops(body: tuple[tir.Stmt, ...], types: dict[str, T.Type],
              rectangular: bool = False) -> tuple[tir.Stmt, ...]:
    """`body` (with `carried` computed) with its row loops jammed; new locals go into
    `types`. The caller recomputes `carried` afterwards. `rectangular`: only row loops whose
    bounds are the same in every iteration of the loops around them (a derivative build:
    Enzyme sizes its caches of a jammed loop once, not per outer iteration)."""
    jammer = _Jammer(types)
    jammer.rectangular = rectangular
    jammer.fresh = fresh_arrays(body)
    jammer.assigned = {n.name for n in tir.walk(body) if isinstance(n, tir.Assign)}
    return jammer.block(body)


def fresh_arrays(body: tuple[tir.Stmt, ...]) -> frozenset[str]:
    """Arrays assigned once in `body`, from a new allocation (`h = np.empty(n)`), and named
    nowhere before (in program order: not a parameter read before it is rebound): such an
    array shares memory with no parameter and no other allocation."""
    nodes = list(tir.walk(body))
    first: dict[str, int] = {}
    for k, n in enumerate(nodes):
        if isinstance(n, tir.Var):
            first.setdefault(n.name, k)
    assigns = [(k, n) for k, n in enumerate(nodes) if isinstance(n, tir.Assign)]
    count = Counter(n.name for _, n in assigns)
    return frozenset(n.name for k, n in assigns if count[n.name] == 1
                     and isinstance(n.value, tir.Alloc) and first.get(n.name, k) >= k)


def apart(fresh: frozenset[str], assigned: set[str]) -> Callable[[str, str], bool]:
    """Whether two arrays are known to be distinct: one is fresh and the other is fresh too
    or never assigned (a parameter)."""
    def known(a: str, b: str) -> bool:
        return a in fresh and (b in fresh or b not in assigned)
    return lambda a, b: known(a, b) or known(b, a)


@dataclass
class _Plan:
    locals: set[str]
    written: list[str]
    arrays: list[str]
    """All arrays of the nest, if some must be checked for overlap at run time."""


class LoopRewriter(tir.Transformer):
    """Walks a body and offers every serial `for` to `rewrite` (None: keep the loop and look
    inside it); prange loops are left alone. New locals go into `types`."""

    def __init__(self, types: dict[str, T.Type]) -> None:
        self.types = types
        self.count = 0

    def visit_For(self, s: tir.For) -> object:
        if s.parallel:
            return s
        out = self.rewrite(s)
        return out if out is not None else self.generic_visit(s)

    def rewrite(self, loop: tir.For) -> tuple[tir.Stmt, ...] | None:
        raise NotImplementedError


class _Jammer(LoopRewriter):
    fresh: frozenset[str] = frozenset()
    """Arrays known to share memory with no other (fresh_arrays) ..."""
    assigned: set[str] = set()
    """... and the names the function assigns (the others are parameters)."""

    rectangular = False
    varying: tuple[set[str], ...] = ()
    """Per enclosing loop: its variable and the names its body assigns."""

    def visit_For(self, s: tir.For) -> object:
        outer = self.varying
        self.varying = (*outer, {s.var} | dataflow.assigned(s.body))
        try:
            return super().visit_For(s)
        finally:
            self.varying = outer

    def rewrite(self, loop: tir.For) -> tuple[tir.Stmt, ...] | None:
        bounds = dataflow.uses((loop.start, loop.stop, loop.step))
        if self.rectangular and any(bounds & names for names in self.varying[:-1]):
            return None
        plan = _plan(loop, self.types)
        return self.jam(loop, plan) if plan else None

    def local(self, name: str, t: T.Type) -> str:
        self.types[name] = t
        return name

    def jam(self, loop: tir.For, plan: _Plan) -> tuple[tir.Stmt, ...]:
        k, span, it = self.count, loop.span, self.types[loop.var]
        self.count += 1
        lo, hi, main, rest, base = (self.local(f"__jam{k}_{s}", it)
                                    for s in ("lo", "hi", "main", "rest", "i"))

        def var(name: str) -> tir.Var:
            return tir.Var(it, span, name)

        def const(v: int) -> tir.Const:
            return tir.Const(it, span, v)

        setup = (tir.Assign(span, lo, loop.start), tir.Assign(span, hi, loop.stop),
                 tir.Assign(span, main, whole_blocks(var(lo), var(hi), ROWS)))
        rows = [self.row(loop, plan, var(base), r) for r in range(ROWS)]
        jammed = tir.For(span, base, var(lo), var(main), const(ROWS), 1,
                         _jammed_body(loop.body, rows))
        check = checked_disjoint(plan.written, plan.arrays, self.types, span,
                                 apart(self.fresh, self.assigned))
        if check is None:  # (a derivative's leftover rows stay warm: their reverse, run
            # every sample where the row count is no multiple of ROWS, vectorizes)
            left = replace(loop, start=var(main), stop=var(hi))
            return (*setup, jammed, left if self.rectangular else cold(left))
        # The plain loop finishes the rows left over, or runs them all if arrays overlap.
        guarded = tir.If(span, check, (jammed, tir.Assign(span, rest, var(main))), ())
        return (*setup, tir.Assign(span, rest, var(lo)), guarded,
                cold(replace(loop, start=var(rest), stop=var(hi))))

    def row(self, loop: tir.For, plan: _Plan, base: tir.Var, r: int) -> Row:
        last = r == ROWS - 1
        renames = {n: n if last else self.local(f"{n}__row{r}", self.types[n])
                   for n in plan.locals}
        index: tir.Expr = base if r == 0 else tir.BinOp(
            base.type, base.span, "add", base, tir.Const(base.type, base.span, r))
        return Row(loop.var, index, renames)


def cold(s: tir.Stmt) -> tir.Stmt:
    """`s` with every loop in it marked cold (see tir.For.cold)."""
    out = _Cold().visit(s)
    assert isinstance(out, tir.Stmt)
    return out


class _Cold(tir.Transformer):
    def visit_For(self, s: tir.For) -> tir.For:
        return replace(self.generic_visit(s), cold=True)


def _jammed_body(body: tuple[tir.Stmt, ...], rows: list[Row]) -> tuple[tir.Stmt, ...]:
    out: list[tir.Stmt] = []
    for s in body:
        if isinstance(s, tir.For):
            inner = tuple(row.stmt(t) for t in s.body for row in rows)
            out.append(replace(s, body=inner, carried=()))
        else:
            out.extend(row.stmt(s) for row in rows)
    return tuple(out)


def whole_blocks(lo: tir.Var, hi: tir.Var, size: int) -> tir.Expr:
    """lo + (len(range(lo, hi)) // size) * size: where the whole blocks of `size` end."""
    it, span = lo.type, lo.span
    step = tir.Const(it, span, size)
    trips = tir.Call(it, span, "range_len", (lo, hi, tir.Const(it, span, 1)))
    return tir.BinOp(it, span, "add", lo, tir.BinOp(
        it, span, "mul", tir.BinOp(it, span, "floordiv", trips, step), step))


def disjoint(written: list[str], arrays: list[str], types: dict[str, T.Type],
             span: Span) -> tir.Expr:
    """True if no written array shares memory with another of `arrays`."""
    check = checked_disjoint(written, arrays, types, span, lambda a, b: False)
    assert check is not None
    return check


def checked_disjoint(written: list[str], arrays: list[str], types: dict[str, T.Type],
                     span: Span, known: Callable[[str, str], bool]) -> tir.Expr | None:
    """`disjoint` over the pairs not `known` to be apart; None if none is left."""
    pairs = sorted({tuple(sorted((w, a))) for w in written for a in arrays
                    if a != w and not known(w, a)})
    if not pairs:
        return None
    conds = [tir.Call(T.boolean, span, "disjoint", tuple(tir.Var(types[n], span, n) for n in p))
             for p in pairs]
    result: tir.Expr = conds[0]
    for c in conds[1:]:
        result = tir.BoolOp(T.boolean, span, "and", result, c)
    return result


class Row(tir.Transformer):
    """Rewrites one row's copy of a statement: the loop variable becomes `index`, locals
    are renamed."""

    def __init__(self, var: str, index: tir.Expr, renames: dict[str, str]) -> None:
        self.var, self.index, self.renames = var, index, renames

    def stmt(self, s: tir.Stmt) -> tir.Stmt:
        out = self.visit(s)
        assert isinstance(out, tir.Stmt)
        return out

    def visit_Var(self, n: tir.Var) -> tir.Expr:
        if n.name == self.var:
            return self.index
        name = self.renames.get(n.name, n.name)
        return n if name == n.name else replace(n, name=name)

    def visit_Assign(self, s: tir.Assign) -> tir.Stmt:
        s = self.generic_visit(s)
        name = self.renames.get(s.name, s.name)
        return s if name == s.name else replace(s, name=name)


# --- legality ---------------------------------------------------------------------------------
def _plan(loop: tir.For, types: dict[str, T.Type]) -> _Plan | None:
    """What jamming `loop` needs, or None if it is not legal (or not worth it)."""
    if not (any(isinstance(s, tir.For) for s in loop.body) and _pays(loop.body, loop.var)):
        return None
    return row_plan(loop, types, reductions=True)


def row_plan(loop: tir.For, types: dict[str, T.Type], reductions: bool = False) -> _Plan | None:
    """Legality: the rows of `loop` may run in any interleaving of their statements (same
    results bitwise), or None. `reductions`: also when scalars are carried from row to row
    (row_reductions), for a caller that runs each statement for the rows in row order."""
    body = loop.body
    inner = [s for s in body if isinstance(s, tir.For)]
    if not (is_one(loop.step) and straight_nest(body, loop)):
        return None
    if any(v == loop.var for v, _ in loop.carried):  # the loop variable is read afterwards
        return None
    local = dataflow.assigned(body) - {s.var for s in inner}
    if reductions:
        local -= row_reductions(body)
    if loop.var in local or not all(isinstance(types[n], T.Scalar) for n in local):
        return None
    bounds = tuple((s.start, s.stop, s.step) for s in inner)
    if dataflow.uses(bounds) & (local | {loop.var}) or reads_memory(bounds):
        return None  # inner bounds are evaluated once per block of rows
    if not defined_before_use(body, local) or _assigns(body) & {s.var for s in inner}:
        return None
    accesses = accesses_of(body)
    if accesses is None or any(a in local for a, _, _, _ in accesses):
        return None
    written = _check_writes(accesses, body, loop.var, local)
    if written is None:
        return None
    arrays = sorted({a for a, _, _, _ in accesses})
    return _Plan(local, written, arrays if written and len(arrays) > 1 else [])


def row_reductions(body: tuple[tir.Stmt, ...]) -> set[str]:
    """Scalars carried from row to row by one top-level statement of the row that alone
    reads them (`loss += e * e` after the inner loops): the jammed body runs that statement
    for the rows in row order, so the chain keeps its order and operands bitwise."""
    out = set()
    for k, s in enumerate(body):
        if not (isinstance(s, tir.Assign) and s.name in _reads(s)):
            continue
        others = body[:k] + body[k + 1:]
        if s.name not in dataflow.uses(others) | dataflow.assigned(others):
            out.add(s.name)
    return out


def reads_memory(node: object) -> bool:
    """Anything in `node` that reads, writes or allocates memory, or may (tir.effects)."""
    return tir.effects_under(node).memory


def _assigns(body: tuple[tir.Stmt, ...]) -> set[str]:
    return {n.name for n in tir.walk(body) if isinstance(n, tir.Assign)}


def is_one(e: tir.Expr) -> bool:
    return isinstance(e, tir.Const) and e.value == 1


def straight_nest(body: tuple[tir.Stmt, ...], loop: tir.For) -> bool:
    """Straight-line statements and inner loops of straight-line statements, no node of
    unknown effects (kernel calls), no allocations, small enough."""
    for s in body:
        if isinstance(s, tir.For):
            if s.parallel or not all(isinstance(t, tir.Assign | tir.Store) for t in s.body):
                return False
        elif not isinstance(s, tir.Assign | tir.Store):
            return False
    nodes = list(tir.walk(body))
    return len(nodes) <= MAX_NODES and not any(_opaque(n) for n in nodes)


def _opaque(n: object) -> bool:
    """A node whose memory effects the nest checks cannot account for."""
    e = tir.effects(n)  # type: ignore[arg-type]
    return e.unknown or e.allocates


_CHEAP_CALLS = frozenset({"abs", "min", "max", "minimum", "maximum", "sqrt", "fabs",
                          "range_len"})


def _pays(body: tuple[tir.Stmt, ...], row: str) -> bool:
    """Jamming pays where an inner loop is latency-bound (it carries a scalar reduction) or
    walks a column (the row is the last subscript), and no costly math call dominates: one
    inside an inner loop does; one in the row's epilogue (`h[j] = tanh(a)` after the
    reduction) runs once per row and does not."""
    inner = tuple(s for s in body if isinstance(s, tir.For))
    if any(isinstance(n, tir.Call) and n.op not in _CHEAP_CALLS for n in tir.walk(inner)):
        return False
    for s in body:
        if not isinstance(s, tir.For):
            continue
        later = [{t.name for t in s.body[p:] if isinstance(t, tir.Assign)}
                 for p in range(len(s.body))]
        if any(_reads(t) & names for t, names in zip(s.body, later, strict=True)):
            return True  # read before (or where) it is assigned: carried between iterations
        loads = (n for n in tir.walk(s.body) if isinstance(n, tir.Load) and len(n.indices) > 1)
        if any(key_var(shape_of(n.indices[-1])) == ("Var", row) for n in loads):
            return True
    return False


def _reads(s: tir.Stmt) -> set[str]:
    return dataflow.uses(s.value if isinstance(s, tir.Assign) else s)


def defined_before_use(body: tuple[tir.Stmt, ...], local: set[str]) -> bool:
    """Every read of a row local follows an assignment in the same row (inner-loop locals
    may carry from one inner iteration to the next only if assigned before the inner loop)."""
    defined: set[str] = set()
    for s in body:
        if isinstance(s, tir.For):
            seen = set(defined) | {s.var}
            for t in s.body:
                if _reads(t) & local - seen:
                    return False
                if isinstance(t, tir.Assign):
                    seen.add(t.name)
            continue
        if _reads(s) & local - defined:
            return False
        if isinstance(s, tir.Assign):
            defined.add(s.name)
    return True


Access = tuple[str, "Shape | None", bool, int]
"""(array, subscript shape, is a store, statement group); the shape is None where an index
may be negative (Python's wrap-around makes two subscripts name one element)."""


def accesses_of(body: tuple[tir.Stmt, ...]) -> list[Access] | None:
    """Every element access of `body`, or None where some memory effect is not an access
    of a named array (a node of unknown effects, a matmul, a load from a call's result)."""
    found: list[Access] = []
    for group, s in enumerate(body):
        for n in tir.walk(s):
            e = tir.effects(n)
            if e.unknown:
                return None
            if e.reads or e.writes:
                if not isinstance(n, tir.Load | tir.Store) or not isinstance(n.array, tir.Var):
                    return None
                sub = None if any(n.wrap) else shape_of(n.indices)
                found.append((n.array.name, sub, isinstance(n, tir.Store), group))
            elif isinstance(n, tir.Dim | tir.DynDim) and not isinstance(n.array, tir.Var):
                return None
    return found


def _check_writes(accesses: list[Access], body: tuple[tir.Stmt, ...], row: str,
                  local: set[str]) -> list[str] | None:
    """The written arrays, if every one is accessed at a single subscript that keeps the
    rows apart (or keeps each element's updates in row order)."""
    written = sorted({a for a, _, store, _ in accesses if store})
    for name in written:
        subs = {sub for a, sub, _, _ in accesses if a == name}
        groups = {g for a, _, _, g in accesses if a == name}
        sub = subs.pop() if len(subs) == 1 else None
        if sub is None:
            return None
        if names_var(sub, row, local):
            continue
        if len(groups) != 1:
            return None
        home = body[groups.pop()]
        if isinstance(home, tir.For) and not names_var(sub, home.var, local | {row}):
            return None
    return written


def names_var(sub: Shape, var: str, banned: set[str]) -> bool:
    """Some component is `var` or `var + c` / `c + var` with `c` free of `banned` and `var`."""
    target = ("Var", var)
    for comp in sub:
        if key_var(comp) == target:
            return True
        comp = _uncast(comp)
        if isinstance(comp, tuple) and comp[0] == "BinOp" and comp[1] == "add":
            left, right = comp[2], comp[3]
            for mine, other in ((left, right), (right, left)):
                if key_var(mine) == target and not (_names_in(other) & (banned | {var})):
                    return True
    return False


def _uncast(comp: object) -> object:
    """The shape `comp` without its conversions (an index converted to int64)."""
    while isinstance(comp, tuple) and comp[0] == "Cast":
        comp = comp[1]
    return comp


def key_var(comp: object) -> tuple[str, object] | None:
    """`("Var", name)` if the shape `comp` is a variable (converted or not), else None."""
    comp = _uncast(comp)
    return ("Var", comp[1]) if isinstance(comp, tuple) and comp[0] == "Var" else None


def _names_in(key: object) -> set[str]:
    if isinstance(key, tuple):
        if len(key) == 2 and key[0] == "Var":
            return {key[1]}
        return set().union(*(_names_in(k) for k in key)) if key else set()
    return set()


Shape: TypeAlias = tuple[object, ...]
"""The picture `shape_of` draws of an expression or a tuple of them: nested tuples whose
first item names the node class, followed by its fields' pictures (a Var is ("Var", name))."""


@overload
def shape_of(node: tir.Expr | tuple[tir.Expr, ...]) -> Shape: ...
@overload
def shape_of(node: object) -> object: ...
def shape_of(node: object) -> object:
    """A span-free, hashable picture of an expression (to compare subscripts)."""
    if isinstance(node, tuple):
        return tuple(shape_of(x) for x in node)
    if isinstance(node, tir.Var):
        return ("Var", node.name)
    if isinstance(node, tir.Expr):
        return (type(node).__name__, *(shape_of(getattr(node, f.name)) for f in fields(node)
                                       if f.name not in ("span", "type")))
    return node
