"""Frontend step 7 (opt_level >= 2): matvec rows over a packed transpose, vectorized over rows.

A dense layer applied per sample, `a = init(j); for i: a += w[j, i] * v(i)` for every row j
inside an outer loop, is a chain of one add per element in every row: the rows cannot use
vector lanes, since `w[j, i]` is contiguous along the reduction, and reassociating the chain
would change the sums. With `w` transposed once before the outer loop (`wt[i, j] = w[j, i]`),
the rows become vector lanes and each row still adds its products in increasing i:

    for s in range(n):                   wt = empty((k, m)); acc = empty(m)
        for j in range(m):               if <the s loop runs> and m >= MIN_ROWS: wt[i, j] = w[j, i]
            a = init(j)                  for s in range(n):
            for i in range(k):    ->         if m >= MIN_ROWS:
                a += w[j, i] * v(i)              for j: acc[j] = init(j)
            <epilogue(j, a)>                     for i (8 at a time): t0..t7 = v(i..i+7)
                                                     for j: acc[j] = acc[j] + wt[i, j] * t0 + ...
                                                 for j: a = acc[j]; <epilogue(j, a)>
                                             else: <the row loop as written>

Weights stored the other way round (`a += w[i, j] * v(i)`, w in x out) have their rows as lanes
already: the same rewrite reads w itself, with no pack.

Every row performs its operations in their original order (IEEE multiplication and addition
are commutative), so results are bitwise those of the loops as written. Legal where the rows
are independent (`jam.row_plan`), `w` is never written in the function (no stores to it, no
views, no kernel calls), and the bounds are fixed in the outer loop. In derivative builds
(adjam.py) Enzyme differentiates the packed loops like any other: `dwt[i, j] += dacc[j] * t`
is contiguous in j, and the pack's adjoint adds `dwt` back into `dw` once per call. Reverse
mode packs only rows with w stored w[i, j] or a v(i) that carries no derivative (`constant`):
the reverse of a packed row with an active v(i) sums over the lanes, a scalar loop, while
the rows as written reverse into two vectorized loops. A layer opening its outer loop runs
over four samples per pass where that is legal (samplejam.py).
"""

from __future__ import annotations

from dataclasses import replace

from ... import types as T
from .. import dataflow, tir
from .jam import LoopRewriter, Row, checked_disjoint, fresh_arrays, is_one, reads_memory, row_plan
from .rowparts import Build, Rows
from .samplejam import inactive, jam, jammable

MIN_ROWS = 16
"""Fewer rows than this (a few output neurons) run the row loop as written."""
DEPTH = 8
"""Reduction steps per pass over the rows (one load and store of `acc[j]` per DEPTH adds)."""
AD_DEPTH = 4
"""DEPTH in derivative builds: the reverse of a pass adds into DEPTH rows of `dwt` in one loop,
and more than 4 rows need more run-time overlap checks than LLVM makes (8): a scalar loop."""


def pack_rows(body: tuple[tir.Stmt, ...], types: dict[str, T.Type], derivative: bool = False,
              constant: frozenset[str] | None = None) -> tuple[tir.Stmt, ...]:
    """`body` with its matvec row loops packed (carried recomputed); new locals go into
    `types`. `derivative`: no run-time choice between the packed and the original rows
    (Enzyme would save each branch's values per iteration, in buffers allocated per
    iteration), so every row count takes the packed rows, w must be a parameter the kernel
    does not write next to others it does, and a layer opening its sample loop runs over
    several samples per pass (samplejam.py). `constant` (reverse-mode builds): the parameters
    that carry no derivative; only rows whose v(i) reads nothing else are packed (the reverse
    of a packed row with an active v(i) is a reduction over the lanes: a scalar loop)."""
    if _unknown_writes(body):
        return body
    packer = _Packer(types)
    packer.derivative = derivative
    packer.constant = constant
    packer.stored = _stored(body)
    packer.assigned = {n.name for n in tir.walk(body) if isinstance(n, tir.Assign)}
    packer.fresh = fresh_arrays(body)
    out = packer.block(body)
    return dataflow.annotate(out, types) if packer.count else body


class _Packer(LoopRewriter):
    stored: set[str] = set()
    """Arrays the function writes: w must be none of them, and apart from each at run time
    (a parameter) or by construction (a fresh allocation, jam.fresh_arrays)."""
    assigned: set[str] = set()
    fresh: frozenset[str] = frozenset()
    derivative = False
    constant: frozenset[str] | None = None
    depth = 0
    """Loops around the one being rewritten, itself included."""

    def visit_For(self, s: tir.For) -> object:
        self.depth += 1
        try:
            return super().visit_For(s)
        finally:
            self.depth -= 1

    def rewrite(self, outer: tir.For) -> tuple[tir.Stmt, ...] | None:
        if outer.cold or reads_memory((outer.start, outer.stop, outer.step)):
            return None  # cold: another pass's fallback (matmul.py's overlapping arrays)
        if self.derivative and self.depth > 1:
            return None  # the pack's arrays would be allocated per outer iteration
        inner = dataflow.assigned(outer.body) | {outer.var}
        found = [r for s in outer.body if isinstance(s, tir.For)
                 and (r := _match(s, self.types, inner, self.stored, self.assigned))
                 and (self.constant is None or r.column or inactive(r.v, self.types,
                                                                    self.constant))]
        if not found or self.stored & self.assigned - self.fresh:
            return None  # a written array under a second name could be w
        if self.derivative and self.stored - self.assigned:
            return None  # w would need a run-time overlap check, hence a branch
        before: list[tir.Stmt] = []
        swap: dict[int, tir.Stmt] = {}
        first = self.count
        for rows in found:
            pre, packed = self.pack(outer, rows)
            before += pre
            swap[id(rows.loop)] = packed
        body = tuple(swap.get(id(s), s) for s in outer.body)
        new = replace(outer, body=self.block(body))
        if not (jammable(outer, found[0], self.types, self.assigned, self.fresh)
                and (self.derivative or not self.stored - self.assigned)):
            return (*before, new)  # (a written parameter could hold v's or init's array)
        b = Build(self.types, found[0].loop.span, self.types[found[0].loop.var],
                  found[0].product.type)
        if self.derivative:
            return (*before, *jam(new, found[0], first, b, AD_DEPTH, new.body))
        ok = b.var(f"__pk{first}_ok", T.boolean)
        return (*before, *jam(new, found[0], first, b, DEPTH, new.body, ok))

    def pack(self, outer: tir.For, rows: Rows) -> tuple[list[tir.Stmt], tir.Stmt]:
        """The statements before `outer` (pack), and what replaces the row loop."""
        n, b = self.count, Build(self.types, rows.loop.span, self.types[rows.loop.var],
                                 rows.product.type)
        self.count += 1
        m, k, wt, acc, ok, main = (b.local(f"__pk{n}_{s}", t) for s, t in (
            ("m", b.it), ("k", b.it), ("wt", b.matrix), ("acc", b.vector), ("ok", T.boolean),
            ("main", b.it)))
        pj, pi = f"__pk{n}_pj", f"__pk{n}_pi"
        pre: list[tir.Stmt] = [
            b.assign(m, tir.Call(b.it, b.span, "range_len", (b.const(0), rows.loop.stop,
                                                              b.const(1)))),
            b.assign(k, tir.Call(b.it, b.span, "range_len", (b.const(0), rows.depth.stop,
                                                              b.const(1)))),
            b.assign(acc, tir.Alloc(b.vector, b.span, (b.idx(b.var(m)),), None)),
            b.assign(ok, self.usable(b, rows, m)),
        ]
        if not rows.column:
            pre += [
                b.assign(wt, tir.Alloc(b.matrix, b.span, (b.idx(b.var(k)), b.idx(b.var(m))),
                                       None)),
                tir.If(b.span, b.both(b.var(ok, T.boolean), b.compare("gt", tir.Call(
                    b.it, b.span, "range_len", (outer.start, outer.stop, outer.step)),
                    b.const(0))), (b.loop(pj, b.const(0), b.var(m), (b.loop(
                        pi, b.const(0), b.var(k), (b.store(wt, b.matrix, b.load(
                            rows.w.name, rows.w.type, b.var(pj), b.var(pi)), b.var(pi),
                            b.var(pj)),)),)),), ()),
            ]
        j, depth = rows.loop.var, AD_DEPTH if self.derivative else DEPTH
        packed = (
            b.loop(j, b.const(0), b.var(m), (b.store(acc, b.vector, b.cast(rows.init), b.var(j)),)),
            b.assign(main, b.binop("mul", b.binop("floordiv", b.var(k), b.const(depth)),
                                   b.const(depth))),
            b.loop(f"__pk{n}_i", b.const(0), b.var(main),
                   self.sweep(b, rows, n, b.var(f"__pk{n}_i"), depth), step=depth),
            b.loop(pi, b.var(main), b.var(k), self.sweep(b, rows, n, b.var(pi), 1)),
            replace(rows.loop, carried=(), body=(
                b.assign(rows.acc, b.load(acc, b.vector, b.var(j))), *rows.epilogue)),
        )
        if self.derivative:
            return pre, tir.If(b.span, tir.Const(T.boolean, b.span, True), packed, ())
        return pre, tir.If(b.span, b.var(ok, T.boolean), packed, (rows.loop,))

    def usable(self, b: Build, rows: Rows, m: str) -> tir.Expr:
        """Whether the packed rows run: enough rows (always, in a derivative build), and w
        apart from every parameter the kernel writes."""
        if self.derivative:
            return tir.Const(T.boolean, b.span, True)
        wide = b.compare("ge", b.var(m), b.const(MIN_ROWS))
        params = sorted(self.stored - self.assigned)
        apart = checked_disjoint(params, [rows.w.name], self.types, b.span, lambda x, y: False)
        return wide if apart is None else b.both(wide, apart)

    def sweep(self, b: Build, rows: Rows, n: int, base: tir.Expr,
              count: int) -> tuple[tir.Stmt, ...]:
        """t_r = v(base + r) for r < count, then one pass over the rows adding
        wt[base + r, j] * t_r to acc[j] in increasing r (the product's operands in w's
        order)."""
        acc, j = f"__pk{n}_acc", f"__pk{n}_j"
        wt, wt_type = (rows.w.name, rows.w.type) if rows.column else (f"__pk{n}_wt", b.matrix)
        out: list[tir.Stmt] = []
        total: tir.Expr = b.load(acc, b.vector, b.var(j))
        for r in range(count):
            at = base if r == 0 else b.binop("add", base, b.const(r))
            t = b.local(f"__pk{n}_t{r}", rows.v.type)
            value = Row(rows.depth.var, at, {}).visit(rows.v)
            assert isinstance(value, tir.Expr)
            out.append(b.assign(t, value))
            w = b.load(wt, wt_type, at, b.var(j))
            tv = b.var(t, rows.v.type)
            left, right = (w, tv) if rows.w_left else (tv, w)
            total = b.binop("add", total, replace(rows.product, span=b.span, left=left,
                                                  right=right))
        out.append(b.loop(j, b.const(0), b.var(f"__pk{n}_m"),
                          (b.store(acc, b.vector, total, b.var(j)),)))
        return tuple(out)


def _match(loop: tir.For, types: dict[str, T.Type], outer: set[str], stored: set[str],
           assigned: set[str]) -> Rows | None:
    """The parts of `loop` if it is a matvec row loop that pack_rows can rewrite."""
    if not (_zero(loop.start) and is_one(loop.step) and len(loop.body) >= 2):
        return None
    start, depth, *epilogue = loop.body
    if not (isinstance(start, tir.Assign) and isinstance(depth, tir.For)
            and _zero(depth.start) and is_one(depth.step) and len(depth.body) == 1
            and all(isinstance(s, tir.Assign | tir.Store) for s in epilogue)):
        return None
    a, update = start.name, depth.body[0]
    if not (isinstance(update, tir.Assign) and update.name == a
            and isinstance(update.value, tir.BinOp) and update.value.op == "add"):
        return None
    found = _product(update.value, a, loop.var, depth.var)
    if found is None:
        return None
    w, v, product, w_left, column = found
    bounds = (loop.stop, depth.stop)
    if (w.name in stored or w.name in assigned or dataflow.uses(bounds) & outer
            or reads_memory(bounds) or {a, loop.var} & {n for n, _ in loop.carried}
            or a in dataflow.uses(start.value) or not isinstance(types.get(a), T.Scalar)
            or depth.var in dataflow.uses(tuple(epilogue))
            or not (isinstance(start.value.type, T.Scalar) and start.value.type.kind == "f"
                    and isinstance(product.type, T.Scalar)
                    and start.value.type.bits == product.type.bits)
            or tir.effects_under(v).writes or row_plan(loop, types, reductions=True) is None):
        return None
    return Rows(loop, a, start.value, depth, w, v, product, w_left, column, tuple(epilogue))


def _product(value: tir.BinOp, a: str, j: str, i: str
             ) -> tuple[tir.Var, tir.Expr, tir.BinOp, bool, bool] | None:
    """(w, v, the product, w on the left, w indexed [i, j]) if `value` is a + w[j, i] * v(i)
    or a + w[i, j] * v(i) (either order)."""
    for acc, product in ((value.left, value.right), (value.right, value.left)):
        if not (isinstance(acc, tir.Var) and acc.name == a and isinstance(product, tir.BinOp)
                and product.op == "mul" and product.type == value.type == acc.type):
            continue
        for w_left, (w, v) in ((True, (product.left, product.right)),
                               (False, (product.right, product.left))):
            if (isinstance(w, tir.Load) and isinstance(w.array, tir.Var)
                    and isinstance(w.array.type, T.Array) and w.array.type.ndim == 2
                    and w.array.type.dtype == value.type and not any(w.wrap)
                    and [_index_var(x) for x in w.indices] in ([j, i], [i, j])
                    and not {j, a} & dataflow.uses(v) and v.type == value.type):
                return w.array, v, product, w_left, _index_var(w.indices[0]) == i
    return None


def _index_var(e: tir.Expr) -> str | None:
    while isinstance(e, tir.Cast):
        e = e.value
    return e.name if isinstance(e, tir.Var) else None


def _zero(e: tir.Expr) -> bool:
    return isinstance(e, tir.Const) and e.value == 0


def _stored(body: tuple[tir.Stmt, ...]) -> set[str]:
    """Arrays the function writes (by name)."""
    return {n.array.name for n in tir.walk(body)
            if isinstance(n, tir.Store | tir.Fill) and isinstance(n.array, tir.Var)}


def _unknown_writes(body: tuple[tir.Stmt, ...]) -> bool:
    """Whether something in `body` may write memory other than through a named store."""
    for n in tir.walk(body):
        if not isinstance(n, tir.Expr | tir.Stmt):
            continue
        e = tir.effects(n)
        if e.unknown or (e.writes and not (isinstance(n, tir.Store | tir.Fill)
                                           and isinstance(n.array, tir.Var))):
            return True
    return False
