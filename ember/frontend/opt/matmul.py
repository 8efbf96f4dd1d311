"""Frontend step 7a (opt_level >= 2): matmul-class loop nests -> register-tiled `tir.MatMul`.

Recognized, for float arrays c, b and any expression u of (i, k) (a[i, k], alpha * a[i, k],
a[k, i], x[k] ...), with loop bounds that do not depend on the other loops:

    for i: <row statements>; for k: for j: c[i, j] += u * b[k, j]              (i-k-j)
    for i: for j: for k: c[i, j] += u * b[k, j]                                (i-j-k)
    for i: for j: s = c[i, j] or s0; for k: s += u * b[k, j]; c[i, j] = s      (i-j-k, local)

All three add the products to each c[i, j] in increasing k, one rounding per multiply and per
add, and `tir.MatMul` (emitted by ir/matmul.py as vector tiles whose accumulators stay in
registers across k) does exactly the same, so results are bitwise those of the loops; only
`fastmath` lets LLVM contract the pairs into FMAs. GEMM, matrix-vector shapes written this
way (c with one column), SYRK-like updates (u = a[i, k] with b the same array's transpose
...) and batched products inside an outer loop all take this path.

The columns that do not fill a whole tile run in the original loops (the last row tile
repeats its last row where rows run out); the whole nest does when c shares memory with
another array of the nest (checked at run time).
Row statements before the k loop (`c[i, j] = beta * c0[i, j]`) run for all rows first,
which `jam.row_plan` proves legal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeAlias

from ... import types as T
from ...errors import Span
from ...options import vector_bytes
from .. import dataflow, tir
from .jam import (
    LoopRewriter,
    cold,
    disjoint,
    is_one,
    reads_memory,
    row_plan,
    shape_of,
    whole_blocks,
)

TILE_ROWS, TILE_VECTORS = 6, 2
"""6 x 2 vector accumulators + 2 panel vectors + a broadcast + a product: the 16 registers of
AVX2 (measured: 6x2 beat 4x2, 4x3, 3x3, 8x1, 2x4 on 512x512)."""


@dataclass
class _Nest:
    c: tir.Var
    b: tir.Var
    u: tir.Expr
    j: str
    k: str
    init: tir.Expr | None
    pre: tuple[tir.Stmt, ...]
    inner: tir.For
    """The loop over j (i-j-k) or over k (i-k-j) that the edge rows and columns re-run."""
    cols: tir.For
    depth: tir.For
    local: str | None = None
    b_transposed: bool = False
    c_lead: tuple[tir.Expr, ...] = ()
    b_lead: tuple[tir.Expr, ...] = ()


def tile_matmuls(body: tuple[tir.Stmt, ...], types: dict[str, T.Type]) -> tuple[tir.Stmt, ...]:
    """`body` with its matmul-class nests register-tiled; new locals go into `types`."""
    return _Tiler(types).block(body)


class _Tiler(LoopRewriter):
    def rewrite(self, loop: tir.For) -> tuple[tir.Stmt, ...] | None:
        nest = _match(loop, self.types)
        return self.tile(loop, nest) if nest else None

    def local(self, name: str, t: T.Type, span: Span) -> tir.Var:
        self.types[name] = t
        return tir.Var(t, span, name)

    def tile(self, loop: tir.For, nest: _Nest) -> tuple[tir.Stmt, ...]:
        n, span, it = self.count, loop.span, self.types[loop.var]
        self.count += 1
        dtype = nest.c.type.dtype  # type: ignore[attr-defined]
        lanes = vector_bytes() // (dtype.bits // 8)
        width = TILE_VECTORS * lanes

        def var(name: str) -> tir.Var:
            return self.local(f"__mm{n}_{name}", it, span)

        i_lo, i_hi, j_lo, j_hi, k_lo, k_hi, j_end = (
            var(x) for x in ("ilo", "ihi", "jlo", "jhi", "klo", "khi", "jend"))
        setup = [tir.Assign(span, v.name, e) for v, e in (
            (i_lo, loop.start), (i_hi, loop.stop), (j_lo, nest.cols.start),
            (j_hi, nest.cols.stop), (k_lo, nest.depth.start), (k_hi, nest.depth.stop))]
        setup.append(tir.Assign(span, j_end.name, whole_blocks(j_lo, j_hi, width)))
        product = tir.MatMul(span, nest.c, nest.b, nest.u, loop.var, nest.k, (i_lo, i_hi),
                             (j_lo, j_end), (k_lo, k_hi), (TILE_ROWS, TILE_VECTORS, lanes),
                             nest.init, nest.b_transposed, nest.c_lead, nest.b_lead)
        rows = replace(loop, start=i_lo, stop=i_hi)
        tiled: list[tir.Stmt] = []
        if nest.pre:
            tiled.append(replace(rows, body=nest.pre))
        tiled += [product, replace(rows, body=(_edge_columns(nest, j_end, j_hi),))]
        arrays = sorted({nest.c.name, nest.b.name} | _arrays(nest.u) | _arrays(nest.pre))
        guard = disjoint([nest.c.name], arrays, self.types, span)
        return (*setup, tir.If(span, guard, tuple(tiled), (cold(rows),)))


def _edge_columns(nest: _Nest, lo: tir.Expr, hi: tir.Expr) -> tir.For:
    """The loop a row re-runs for the columns [lo, hi) that fill no whole tile."""
    if nest.inner is nest.cols:  # i-j-k
        return replace(nest.cols, start=lo, stop=hi)
    return replace(nest.inner, body=tuple(replace(s, start=lo, stop=hi) if s is nest.cols
                                          else s for s in nest.inner.body))


def _arrays(node: object) -> set[str]:
    return {n.array.name for n in tir.walk(node)
            if isinstance(n, tir.Load | tir.Store) and isinstance(n.array, tir.Var)}


# --- matching ---------------------------------------------------------------------------------
def _match(loop: tir.For, types: dict[str, T.Type]) -> _Nest | None:
    if not is_one(loop.step) or not loop.body:
        return None
    live_after = {n for n, _ in loop.carried}
    nest = _ikj(loop) or _ijk(loop)
    if nest is None or not _bounds_free(nest, loop):
        return None
    names = {loop.var, nest.j, nest.k} | ({nest.local} if nest.local else set())
    if live_after & (names | dataflow.assigned(nest.pre)):
        return None
    if nest.pre and (row_plan(replace(loop, body=nest.pre), types) is None
                     or _written(nest.pre) - {nest.c.name}):
        return None
    return nest if _operands_ok(nest, loop.var) else None


def _ikj(loop: tir.For) -> _Nest | None:
    *pre, depth = loop.body
    if not (isinstance(depth, tir.For) and len(depth.body) == 1):
        return None
    cols = depth.body[0]
    if not (isinstance(cols, tir.For) and len(cols.body) == 1):
        return None
    update = _update(cols.body[0], loop.var, cols.var, depth.var)
    if update is None:
        return None
    c, c_lead, b, b_lead, u, bt = update
    return _Nest(c, b, u, cols.var, depth.var, None, tuple(pre), depth, cols, depth, None, bt,
                 c_lead, b_lead)


def _ijk(loop: tir.For) -> _Nest | None:
    if len(loop.body) != 1 or not isinstance(loop.body[0], tir.For):
        return None
    cols = loop.body[0]
    if len(cols.body) == 1 and isinstance(cols.body[0], tir.For):
        depth = cols.body[0]
        update = _update(depth.body[0], loop.var, cols.var, depth.var) if len(
            depth.body) == 1 else None
        if update is None:
            return None
        c, c_lead, b, b_lead, u, bt = update
        return _Nest(c, b, u, cols.var, depth.var, None, (), cols, cols, depth, None, bt,
                     c_lead, b_lead)
    return _ijk_local(loop, cols)


def _ijk_local(loop: tir.For, cols: tir.For) -> _Nest | None:
    """for j: s = init; for k: s = s + u * b[k, j]; c[i, j] = s"""
    if len(cols.body) != 3:
        return None
    start, depth, store = cols.body
    if not (isinstance(start, tir.Assign) and isinstance(depth, tir.For)
            and isinstance(store, tir.Store) and len(depth.body) == 1):
        return None
    acc, step = start.name, depth.body[0]
    c_lead = _lead(store.indices, loop.var, cols.var)
    if not (isinstance(step, tir.Assign) and step.name == acc and _is_var(store.value, acc)
            and c_lead is not None and isinstance(store.array, tir.Var)
            and not any(store.wrap)):
        return None
    terms = _sum_of_product(step.value, lambda e: _is_var(e, acc), cols.var, depth.var)
    if terms is None:
        return None
    b, b_lead, u, bt = terms
    c = store.array
    init = None if _is_cell(start.value, c, loop.var, cols.var, c_lead) else start.value
    if init is not None and (dataflow.uses(init) & {loop.var, cols.var, depth.var, acc}
                             or reads_memory(init)):
        return None
    if init is not None and not (isinstance(c.type, T.Array) and init.type == c.type.dtype):
        return None
    return _Nest(c, b, u, cols.var, depth.var, init, (), cols, cols, depth, acc, bt, c_lead,
                 b_lead)


_Product: TypeAlias = tuple[tir.Var, tuple[tir.Expr, ...], tir.Expr, bool]
"""(b, b_lead, u, transposed): the `u * b[..., k, j]` term of an update."""
_Update: TypeAlias = tuple[tir.Var, tuple[tir.Expr, ...], tir.Var, tuple[tir.Expr, ...],
                           tir.Expr, bool]
"""(c, c_lead, b, b_lead, u, transposed): a `c[..., i, j] += u * b[..., k, j]` statement."""


def _update(s: tir.Stmt, i: str, j: str, k: str) -> _Update | None:
    """(c, c_lead, b, b_lead, u, transposed) if `s` is c[..., i, j] = c[..., i, j] +
    u * b[..., k, j] (operands in either order, or b[..., j, k])."""
    if not (isinstance(s, tir.Store) and isinstance(s.array, tir.Var) and not any(s.wrap)):
        return None
    c, c_lead = s.array, _lead(s.indices, i, j)
    if c_lead is None:
        return None
    terms = _sum_of_product(s.value, lambda e: _is_cell(e, c, i, j, c_lead), j, k)
    return None if terms is None else (c, c_lead, *terms)


def _sum_of_product(value: tir.Expr, is_acc: Callable[[tir.Expr], bool], j: str,
                    k: str) -> _Product | None:
    """(b, b_lead, u, transposed) if `value` is acc + u * b[..., k, j] or u * b[..., k, j] +
    acc (or b[..., j, k]), with u free of j."""
    if not (isinstance(value, tir.BinOp) and value.op == "add"):
        return None
    for acc, product in ((value.left, value.right), (value.right, value.left)):
        if not (is_acc(acc) and isinstance(product, tir.BinOp) and product.op == "mul"):
            continue
        for b, u in ((product.right, product.left), (product.left, product.right)):
            if not (isinstance(b, tir.Load) and isinstance(b.array, tir.Var)
                    and not any(b.wrap) and j not in dataflow.uses(u)
                    and b.type == value.type == u.type == product.type):
                continue
            for rows, transposed in (((k, j), False), ((j, k), True)):
                lead = _lead(b.indices, *rows)
                if lead is not None:
                    return b.array, lead, u, transposed
    return None


def _is_var(e: tir.Expr, name: str) -> bool:
    return isinstance(e, tir.Var) and e.name == name


def _index_var(e: tir.Expr) -> str | None:
    while isinstance(e, tir.Cast):
        e = e.value
    return e.name if isinstance(e, tir.Var) else None


def _lead(indices: tuple[tir.Expr, ...], row: str, col: str) -> tuple[tir.Expr, ...] | None:
    """The leading indices if `indices` ends in (row, col)."""
    if len(indices) >= 2 and (_index_var(indices[-2]), _index_var(indices[-1])) == (row, col):
        return indices[:-2]
    return None


def _is_cell(e: tir.Expr, c: tir.Var, row: str, col: str, lead: tuple[tir.Expr, ...]) -> bool:
    if not (isinstance(e, tir.Load) and isinstance(e.array, tir.Var) and e.array.name == c.name
            and not any(e.wrap)):
        return False
    found = _lead(e.indices, row, col)
    return found is not None and shape_of(found) == shape_of(lead)


def _bounds_free(nest: _Nest, loop: tir.For) -> bool:
    """Unit steps; the j and k bounds read no loop variable, local or array element."""
    loops = (nest.cols, nest.depth)
    if not all(is_one(x.step) for x in loops):
        return False
    banned = {loop.var, nest.j, nest.k} | dataflow.assigned(nest.pre)
    if nest.local:
        banned.add(nest.local)
    bounds = tuple(e for x in loops for e in (x.start, x.stop))
    return not (dataflow.uses(bounds) & banned or reads_memory(bounds))


def _operands_ok(nest: _Nest, row: str) -> bool:
    """Float c and b of one dtype, b not c, leading indices fixed in the nest; u reads no c,
    no j, and nothing in it has unknown effects (kernel calls), allocates or writes."""
    c_t, b_t = nest.c.type, nest.b.type
    if nest.b.name == nest.c.name:
        return False
    if not (isinstance(c_t, T.Array) and isinstance(b_t, T.Array)
            and c_t.ndim == len(nest.c_lead) + 2 and b_t.ndim == len(nest.b_lead) + 2
            and c_t.dtype == b_t.dtype and c_t.dtype.is_float and c_t.dtype.bits in (32, 64)):
        return False
    moving = {row, nest.j, nest.k} | dataflow.assigned(nest.pre) | (
        {nest.local} if nest.local else set())
    leads = (nest.c_lead, nest.b_lead)
    if dataflow.uses(leads) & moving or reads_memory(leads):
        return False
    u = tir.effects_under(nest.u)  # u is evaluated once per (i, k), not per element
    if nest.c.name in _arrays(nest.u) or u.unknown or u.allocates or u.writes:
        return False
    reads = dataflow.uses(nest.u)
    return not (reads & ({nest.j} | ({nest.local} if nest.local else set())
                         | dataflow.assigned(nest.pre)))


def _written(body: tuple[tir.Stmt, ...]) -> set[str]:
    return {n.array.name for n in tir.walk(body)
            if isinstance(n, tir.Store) and isinstance(n.array, tir.Var)}
