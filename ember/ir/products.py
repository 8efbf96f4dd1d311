"""IR rules for `tir.Product` (frontend/products.py): NumPy's products of 1-D and 2-D arrays.

    dot     a[k] . b[k]           vector accumulators where both strides are 1 at run time,
                                  else four scalar accumulators
    matvec  y[i] = A[i, :] . x    one dot per row (rows read through strided views); a
                                  column-contiguous A (a transpose) column by column instead;
                                  an elementwise A of one array (`beta * A.T`) is read lazily
    vecmat  y[j] += x[k] * B[k, j]  k outer, j inner (unit-stride inner loop)
    matmul  floats: Ember's register-tiled product (ir/matmul.py) into a new contiguous C,
            reading A through any strides (it is packed) and B through a unit inner stride
            (B itself; a B of unit outer stride, `a @ X.T`, packed from X's rows; else a
            contiguous copy);
            the columns that fill no whole tile run row by row (k outer, columns inner).
            An elementwise expression or assignment around the product can run in its
            stores (ir/epilogue.py); chains of products choose their order (ir/chains.py).
            ints: an i-k-j loop nest.
    outer   C[i, j] = a[i] * b[j]
    trace   sum of A[i, i + offset] in the result dtype

Operands arrive as memrefs of any strides (views are never copied, except B's other strides).
Contracted sizes are compared first (the ValueError site of the node).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlir import ir
from mlir.dialects import arith, math, memref, scf, vector

from .. import types as T
from ..frontend import tir
from ..frontend.opt.matmul import TILE_ROWS, TILE_VECTORS
from ..options import vector_bytes
from . import ops
from .chains import emit_chain, is_chain
from .loops import allocate, cold_loop, fill, loop_nest
from .matmul import emit_matmul
from .protocols import Emitter
from .raising import raise_if
from .reductions import reader_views
from .types import contiguous_memref_type, memref_type, scalar_type

CI = arith.CmpIPredicate
_ACCUMULATORS = 4
"""Independent sums of a dot product (vectors or scalars): enough to hide the add latency."""


def _c(value: int) -> ir.Value:
    return arith.constant(ir.IndexType.get(), value)


def _dtype(t: T.Type) -> T.Scalar:
    return t.dtype if isinstance(t, T.Array) else t  # type: ignore[return-value]


def _tile() -> tuple[int, int]:
    """(rows, vectors) of a register tile: 6 x 4 with AVX-512's 32 registers (measured on
    512 x 512 f64 against 6x2, 4x4, 5x4, 8x3, 12x2, 14x2), Ember's loop tiles otherwise."""
    return (6, 4) if vector_bytes() == 64 else (TILE_ROWS, TILE_VECTORS)


def _depth() -> int:
    """k values per block: the packed panel of b (depth x tile width) stays within the L1
    cache (measured with AVX-512 on 512 x 512 f64: 128 beats 64, 192, 256, 512)."""
    return 128 if vector_bytes() == 64 else 256


def _lanes(t: T.Scalar) -> int:
    return max(1, vector_bytes() // (t.bits // 8))


def _meta(array: ir.Value, ndim: int) -> tuple[Any, list[ir.Value], list[ir.Value]]:
    m = memref.ExtractStridedMetadataOp(array)
    return m, list(m.sizes)[:ndim], list(m.strides)[:ndim]


def _view1(array: ir.Value, base: Any, offset: ir.Value, size: ir.Value, stride: ir.Value,
           unit: bool = False) -> ir.Value:
    """A 1-D view of `base` (a strided metadata op's base buffer) with the given layout."""
    dyn, dyn_s = ir.ShapedType.get_dynamic_size(), ir.ShapedType.get_dynamic_stride_or_offset()
    elem = ir.MemRefType(array.type).element_type
    layout = ir.StridedLayoutAttr.get(dyn_s, [1 if unit else dyn_s])
    t = ir.MemRefType.get([dyn], elem, layout=layout)
    return memref.reinterpret_cast(t, base, [offset], [size], [] if unit else [stride],
                                   [dyn_s], [dyn], [1 if unit else dyn_s])


def _load(t: T.Scalar, array: ir.Value, idx: list[ir.Value]) -> ir.Value:
    return ops.from_storage(t, memref.load(array, idx))


def _check(em: Emitter, e: tir.Product, ka: ir.Value, kb: ir.Value,
           dims: list[ir.Value]) -> None:
    if e.check is not None:
        raise_if(em, arith.cmpi(CI.ne, ka, kb), e.check, [(v, T.i64) for v in [ka, kb, *dims]])


# --- dot products -----------------------------------------------------------------------------
def _dot(t: T.Scalar, a: ir.Value, b: ir.Value, n: ir.Value) -> ir.Value:
    """sum(a[k] * b[k] for k < n) for 1-D memrefs a, b of any strides."""
    if not t.is_float:
        return _dot_scalar(t, a, b, n)
    (ma, _, sa), (mb, _, sb) = _meta(a, 1), _meta(b, 1)
    unit = arith.andi(arith.cmpi(CI.eq, sa[0], _c(1)), arith.cmpi(CI.eq, sb[0], _c(1)))
    branch = scf.IfOp(unit, [scalar_type(t)], has_else=True)
    with ir.InsertionPoint(branch.then_block):
        va = _view1(a, ma.base_buffer, ma.offset, n, _c(1), unit=True)
        vb = _view1(b, mb.base_buffer, mb.offset, n, _c(1), unit=True)
        scf.YieldOp([_dot_vector(t, va, vb, n)])
    with ir.InsertionPoint(branch.else_block):
        scf.YieldOp([_dot_scalar(t, a, b, n)])
    return branch.results[0]


def _dot_vector(t: T.Scalar, a: ir.Value, b: ir.Value, n: ir.Value) -> ir.Value:
    lanes = _lanes(t)
    vt = ir.VectorType.get([lanes], scalar_type(t))
    block = lanes * _ACCUMULATORS
    whole = arith.subi(n, arith.remsi(n, _c(block)))
    zero = ops.const(t, 0.0)
    loop = scf.ForOp(_c(0), whole, _c(block), [vector.broadcast(vt, zero)] * _ACCUMULATORS)
    with ir.InsertionPoint(loop.body):
        k = loop.induction_variable
        out = []
        for r, acc in enumerate(loop.inner_iter_args):
            at = [arith.addi(k, _c(r * lanes))]
            out.append(arith.addf(acc, arith.mulf(vector.load(vt, a, at), vector.load(vt, b, at))))
        scf.YieldOp(out)
    accs = list(loop.results)
    while len(accs) > 1:  # pairwise
        accs = [arith.addf(accs[i], accs[i + 1]) for i in range(0, len(accs), 2)]
    total = vector.reduction(scalar_type(t), ir.Attribute.parse("#vector.kind<add>"), accs[0])
    return _sum_range(t, a, b, whole, n, total)


def _dot_scalar(t: T.Scalar, a: ir.Value, b: ir.Value, n: ir.Value) -> ir.Value:
    whole = arith.subi(n, arith.remsi(n, _c(_ACCUMULATORS)))
    zero = ops.const(t, 0)
    loop = scf.ForOp(_c(0), whole, _c(_ACCUMULATORS), [zero] * _ACCUMULATORS)
    with ir.InsertionPoint(loop.body):
        k = loop.induction_variable
        out = []
        for r, acc in enumerate(loop.inner_iter_args):
            at = [arith.addi(k, _c(r))]
            out.append(ops.BINARY["add"](t, acc, ops.BINARY["mul"](
                t, _load(t, a, at), _load(t, b, at))))
        scf.YieldOp(out)
    r = list(loop.results)
    total = ops.BINARY["add"](t, ops.BINARY["add"](t, r[0], r[1]), ops.BINARY["add"](t, r[2], r[3]))
    return _sum_range(t, a, b, whole, n, total)


def _sum_range(t: T.Scalar, a: ir.Value, b: ir.Value, lo: ir.Value, hi: ir.Value,
               start: ir.Value) -> ir.Value:
    """start + a[k] * b[k] for k in [lo, hi), in order."""
    loop = scf.ForOp(lo, hi, _c(1), [start])
    loop.operation.attributes["loop_annotation"] = cold_loop()
    with ir.InsertionPoint(loop.body):
        k = [loop.induction_variable]
        acc = loop.inner_iter_args[0]
        scf.YieldOp([ops.BINARY["add"](t, acc, ops.BINARY["mul"](
            t, _load(t, a, k), _load(t, b, k)))])
    return loop.results[0]


def _sum(t: T.Scalar, n: ir.Value, term: Callable[[ir.Value], ir.Value]) -> ir.Value:
    """sum(term(k) for k < n) in order, one accumulator: derivative builds, whose loops
    Enzyme differentiates (no vectors, no reinterpreted views)."""
    loop = scf.ForOp(_c(0), n, _c(1), [ops.const(t, 0)])
    with ir.InsertionPoint(loop.body):
        scf.YieldOp([ops.BINARY["add"](t, loop.inner_iter_args[0],
                                       term(loop.induction_variable))])
    return loop.results[0]


def _mul_loads(t: T.Scalar, a: ir.Value, ia: Callable[[ir.Value], list[ir.Value]],
               b: ir.Value, ib: Callable[[ir.Value], list[ir.Value]]
               ) -> Callable[[ir.Value], ir.Value]:
    return lambda k: ops.BINARY["mul"](t, _load(t, a, ia(k)), _load(t, b, ib(k)))


def _emit_dot(em: Emitter, e: tir.Product) -> Any:
    t = _dtype(e.type)
    a, b = em.expr(e.a), em.expr(e.b)
    ka, kb = em.dim(a, 0), em.dim(b, 0)
    _check(em, e, ka, kb, [ka, kb])
    if em.ad:
        return _sum(t, ka, _mul_loads(t, a, lambda k: [k], b, lambda k: [k]))
    return _dot(t, a, b, ka)


def _lazy_matrix(em: Emitter, e: tir.Product, t: T.Scalar) -> bool:
    """Whether `e`'s matrix is an elementwise expression of one 2-D array (`beta * A.T`),
    which `_matvec_fused` reads without materializing it."""
    a = e.a
    if em.ad or not isinstance(a, tir.ArrayMap) or _dtype(a.type) != t:
        return False
    arrays = [x.type for x in a.inputs if isinstance(x.type, T.Array)]
    return len(arrays) == 1 and arrays[0].ndim == 2


def _matvec_fused(em: Emitter, e: tir.Product, t: T.Scalar) -> Any:
    """`(beta * A.T) @ x` with the matrix's elements computed where the product reads them
    (no temporary), in its array's memory order: by columns (y += M[:, j] * x[j]) where that
    array is column-contiguous (a transpose), else one reassociated dot per row."""
    assert isinstance(e.a, tir.ArrayMap)
    read, (n, k), views = reader_views(em, e.a)
    x = em.expr(e.b)
    kx = em.dim(x, 0)
    _check(em, e, k, kx, [n, k, kx])
    _, _, (s0, s1) = _meta(next(v for v in views if v is not None), 2)
    y = allocate(T.Array(t, 1), [n])
    reassoc = ir.Attribute.parse("#arith.fastmath<reassoc>")

    def term(i: ir.Value, j: ir.Value) -> ir.Value:
        return ops.BINARY["mul"](t, read([i, j]), _load(t, x, [j]))

    def row(ivs: list[ir.Value]) -> None:
        loop = scf.ForOp(_c(0), k, _c(1), [ops.const(t, 0)])
        with ir.InsertionPoint(loop.body):
            acc, j = loop.inner_iter_args[0], loop.induction_variable
            scf.YieldOp([arith.addf(acc, term(ivs[0], j), fastmath=reassoc) if t.is_float
                         else ops.BINARY["add"](t, acc, term(ivs[0], j))])
        memref.store(ops.to_storage(t, loop.results[0]), y, ivs)

    _columns_or_rows(t, y, (n, k), (s0, s1), term, row)
    return y


def _columns_or_rows(t: T.Scalar, y: ir.Value, shape: tuple[ir.Value, ir.Value],
                     strides: tuple[ir.Value, ir.Value],
                     term: Callable[[ir.Value, ir.Value], ir.Value],
                     row: Callable[[list[ir.Value]], None]) -> None:
    """y = M @ x for an n x k matrix M with these strides: where M is column-contiguous (a
    transpose, `A.T @ x`), y += M[:, j] * x[j] column by column (`term(i, j)` is one
    product), so every pass reads M with unit stride; else `row` computes each y[i]."""
    (n, k), (s0, s1) = shape, strides
    by_columns = arith.andi(arith.cmpi(CI.ne, s1, _c(1)), arith.cmpi(CI.eq, s0, _c(1)))
    branch = scf.IfOp(by_columns, [], has_else=True)
    with ir.InsertionPoint(branch.then_block):
        fill(y, [n], ops.const(t, 0))
        loop_nest([k, n], lambda ivs: memref.store(ops.BINARY["add"](
            t, _load(t, y, [ivs[1]]), term(ivs[1], ivs[0])), y, [ivs[1]]))
        scf.YieldOp([])
    with ir.InsertionPoint(branch.else_block):
        loop_nest([n], row)
        scf.YieldOp([])


def _emit_matvec(em: Emitter, e: tir.Product) -> Any:
    t = _dtype(e.type)
    if _lazy_matrix(em, e, t):
        return _matvec_fused(em, e, t)
    a, x = em.expr(e.a), em.expr(e.b)
    n, k, kx = em.dim(a, 0), em.dim(a, 1), em.dim(x, 0)
    _check(em, e, k, kx, [n, k, kx])
    y = allocate(T.Array(t, 1), [n])
    if not em.ad:  # rows as strided 1-D views (derivative builds: plain indices)
        meta, _, (s0, s1) = _meta(a, 2)

    def row(ivs: list[ir.Value]) -> None:
        if em.ad:
            value = _sum(t, k, _mul_loads(t, a, lambda j: [ivs[0], j], x, lambda j: [j]))
        else:
            start = arith.addi(meta.offset, arith.muli(ivs[0], s0))
            value = _dot(t, _view1(a, meta.base_buffer, start, k, s1), x, k)
        memref.store(ops.to_storage(t, value), y, ivs)
    if em.ad:
        loop_nest([n], row)
        return y
    _columns_or_rows(t, y, (n, k), (s0, s1), lambda i, j: ops.BINARY["mul"](
        t, _load(t, a, [i, j]), _load(t, x, [j])), row)
    return y


def _emit_vecmat(em: Emitter, e: tir.Product) -> Any:
    t = _dtype(e.type)
    x, b = em.expr(e.a), em.expr(e.b)
    k, (kb, m) = em.dim(x, 0), (em.dim(b, 0), em.dim(b, 1))
    _check(em, e, k, kb, [k, kb, m])
    y = allocate(T.Array(t, 1), [m])
    fill(y, [m], ops.const(t, 0))

    def update(ivs: list[ir.Value]) -> None:
        xk = _load(t, x, [ivs[0]])
        acc = ops.BINARY["add"](t, _load(t, y, [ivs[1]]),
                                ops.BINARY["mul"](t, xk, _load(t, b, ivs)))
        memref.store(acc, y, [ivs[1]])
    loop_nest([k, m], update)
    return y


def _emit_outer(em: Emitter, e: tir.Product) -> Any:
    t = _dtype(e.type)
    a, b = em.expr(e.a), em.expr(e.b)
    n, m = em.dim(a, 0), em.dim(b, 0)
    c = allocate(T.Array(t, 2), [n, m])
    loop_nest([n, m], lambda ivs: memref.store(ops.BINARY["mul"](
        t, _load(t, a, ivs[:1]), _load(t, b, ivs[1:])), c, ivs))
    return c


def _emit_trace(em: Emitter, e: tir.Product) -> Any:
    t = _dtype(e.type)
    a = em.expr(e.a)
    assert isinstance(e.a.type, T.Array)
    src = e.a.type.dtype
    n, m = em.dim(a, 0), em.dim(a, 1)
    offset = em.index(em.expr(e.b))
    zero = _c(0)
    r0 = arith.maxsi(arith.subi(zero, offset), zero)
    c0 = arith.maxsi(offset, zero)
    length = arith.maxsi(arith.minsi(arith.subi(n, r0), arith.subi(m, c0)), zero)
    loop = scf.ForOp(zero, length, _c(1), [ops.const(t, 0)])
    with ir.InsertionPoint(loop.body):
        i = loop.induction_variable
        value = ops.convert(src, t, _load(src, a, [arith.addi(r0, i), arith.addi(c0, i)]))
        scf.YieldOp([ops.BINARY["add"](t, loop.inner_iter_args[0], value)])
    return loop.results[0]


# --- matrix products --------------------------------------------------------------------------
def _emit_matmul(em: Emitter, e: tir.Product) -> Any:
    t = _dtype(e.type)
    a, b = em.expr(e.a), em.expr(e.b)
    n, k = em.dim(a, 0), em.dim(a, 1)
    kb, m = em.dim(b, 0), em.dim(b, 1)
    _check(em, e, k, kb, [n, k, kb, m])
    if em.ad:
        c = allocate(T.Array(t, 2), [n, m])
        loop_nest([n, m], lambda ij: memref.store(_sum(t, k, _mul_loads(
            t, a, lambda kk: [ij[0], kk], b, lambda kk: [kk, ij[1]])), c, ij))
        return c
    raw = memref.alloc(contiguous_memref_type(T.Array(t, 2)), [n, m], [])
    if t.is_float:
        _tiled(em, e, t, a, b, raw, (n, k, m), symmetric=symmetric(e))
    else:
        fill(raw, [n, m], ops.const(t, 0))
        loop_nest([n, k, m], lambda ivs: _ikj(t, a, b, raw, ivs))
    return memref.cast(memref_type(T.Array(t, 2)), raw)


def _ikj(t: T.Scalar, a: ir.Value, b: ir.Value, c: ir.Value, ivs: list[ir.Value]) -> None:
    i, k, j = ivs
    acc = ops.BINARY["add"](t, memref.load(c, [i, j]), ops.BINARY["mul"](
        t, memref.load(a, [i, k]), memref.load(b, [k, j])))
    memref.store(acc, c, [i, j])


def _unit_inner(b: ir.Value, t: T.Scalar) -> tuple[ir.Value, ir.Value, ir.Value]:
    """(b with a static unit inner stride, rows flag, bt): b itself (reinterpreted) where its
    inner stride is 1; where instead its outer stride is 1 (b = B.T of a row-contiguous B) the
    flag holds, bt[j, k] = b[k, j] is B (unit inner stride), whose rows the tiles pack from
    (no copy; the first value is then never read); else a contiguous copy."""
    dyn, dyn_s = ir.ShapedType.get_dynamic_size(), ir.ShapedType.get_dynamic_stride_or_offset()
    meta, sizes, (s0, s1) = _meta(b, 2)
    want = ir.MemRefType.get([dyn, dyn], scalar_type(t),
                             layout=ir.StridedLayoutAttr.get(dyn_s, [dyn_s, 1]))

    def view(shape: list[ir.Value], stride: ir.Value) -> ir.Value:
        return memref.reinterpret_cast(want, meta.base_buffer, [meta.offset], shape, [stride],
                                       [dyn_s], [dyn, dyn], [dyn_s, 1])
    rows = arith.andi(arith.cmpi(CI.ne, s1, _c(1)), arith.cmpi(CI.eq, s0, _c(1)))
    bt = view(sizes[::-1], s1)
    branch = scf.IfOp(arith.ori(arith.cmpi(CI.eq, s1, _c(1)), rows), [want], has_else=True)
    with ir.InsertionPoint(branch.then_block):
        scf.YieldOp([view(sizes, s0)])
    with ir.InsertionPoint(branch.else_block):
        copy = memref.alloc(contiguous_memref_type(T.Array(t, 2)), sizes, [])
        _copy_blocked(b, copy, sizes)
        scf.YieldOp([memref.cast(want, copy)])
    return branch.results[0], rows, bt


def _copy_blocked(src: ir.Value, dst: ir.Value, sizes: list[ir.Value]) -> None:
    """dst = src (2-D) in 16 x 16 blocks: a transposed src is read along its rows and each
    block touches 32 pages, not one page per element (512 x 512 f64: about 0.65 ms; `a @ b.T`
    avoids it, `_unit_inner`)."""
    band = 16

    def blocks(size: ir.Value) -> scf.ForOp:
        return scf.ForOp(_c(0), size, _c(band))

    def within(lo: ir.Value, size: ir.Value) -> scf.ForOp:
        return scf.ForOp(lo, arith.minsi(arith.addi(lo, _c(band)), size), _c(1))
    loops = [blocks(sizes[1])]
    for make in (lambda: blocks(sizes[0]),
                 lambda: within(loops[1].induction_variable, sizes[0]),
                 lambda: within(loops[0].induction_variable, sizes[1])):
        with ir.InsertionPoint(loops[-1].body):
            loops.append(make())
    with ir.InsertionPoint(loops[-1].body):
        at = [loops[2].induction_variable, loops[3].induction_variable]
        memref.store(memref.load(src, at), dst, at)
    for loop in loops:
        with ir.InsertionPoint(loop.body):
            scf.YieldOp([])


_NAMES = ("\0pc", "\0pb", "\0pa", "\0pi", "\0pk", "\0pn", "\0pmend", "\0pk0", "\0pk1",
          "\0p0")


def symmetric(e: tir.Product) -> bool:
    """`x.T @ x` of one array: the product is symmetric (`_tiled` computes half of it)."""
    return (isinstance(e.a, tir.Transpose) and e.a.perm == (1, 0)
            and isinstance(e.b, tir.Var | tir.View) and tir.same(e.a.array, e.b))


def _tiled(em: Emitter, e: tir.Product, t: T.Scalar, a: ir.Value, b: ir.Value, c: ir.Value,
           shape: tuple[ir.Value, ir.Value, ir.Value],
           finish: Callable[[ir.Value, ir.Value], None] | None = None,
           accumulate: str = "", symmetric: bool = False) -> None:
    """c = a @ b through ir/matmul.py's register tiles, in blocks of `_depth()` k values (the
    packed panel of b stays in the L1 cache), then the edge columns; `finish(i, j)` (an
    epilogue, ir/epilogue.py) runs on each element once its sum is complete; `accumulate`
    "add" gives c += a @ b, "sub" c -= a @ b (a's elements negated as they are packed).
    With `symmetric` (c = x.T @ x, finish symmetric too), each band of `_BAND` tiled columns
    is computed down to its last row only, and the rows below are copied from above."""
    n, k, m = shape
    rows, vectors = _tile()
    lanes = _lanes(t)
    m_end = arith.subi(m, arith.remsi(m, _c(vectors * lanes)))
    m_mid = arith.subi(m, arith.remsi(m, _c(lanes)))
    i64 = scalar_type(T.i64)
    pc, pb, pa, row, red, vn, vend, k0, k1, v0 = _NAMES
    j0 = "\0pj0"
    matrix = T.Array(t, 2)
    saved = dict(em.env)
    strided = b
    b, b_rows, bt = _unit_inner(b, t)
    em.env.update({pc: c, pb: b, pa: a, vn: arith.index_cast(i64, n),
                   v0: arith.index_cast(i64, _c(0))})

    def var(name: str, ty: T.Type = T.i64) -> tir.Var:
        return tir.Var(ty, e.span, name)

    def block(lo: ir.Value, init: tir.Expr | None, width: int) -> None:
        em.env[k0] = arith.index_cast(i64, lo)
        em.env[k1] = arith.index_cast(i64, arith.minsi(arith.addi(lo, _c(depth)), k))
        u: tir.Expr = tir.Load(t, e.span, var(pa, matrix), (var(row), var(red)), (False, False))
        if accumulate == "sub":
            u = tir.UnaryOp(t, e.span, "neg", u)
        emit_matmul(em, tir.MatMul(e.span, var(pc, matrix), var(pb, matrix), u, row, red,
                                   (var(v0), var(vn)), (var(j0), var(vend)), (var(k0), var(k1)),
                                   (rows, width, lanes), init), fma=True,
                    finish=None if finish is None else (arith.cmpi(
                        CI.sge, arith.addi(lo, _c(depth)), k), finish), b_rows=(b_rows, bt))

    def columns(lo: ir.Value, hi: ir.Value, width: int) -> None:
        em.env[j0], em.env[vend] = arith.index_cast(i64, lo), arith.index_cast(i64, hi)
        block(_c(0), None if accumulate else tir.Const(t, e.span, 0.0), width)  # the rest
        rest = scf.ForOp(_c(depth), k, _c(depth))                               # start from c
        with ir.InsertionPoint(rest.body):
            block(rest.induction_variable, None, width)
            scf.YieldOp([])
    depth = _depth()
    if symmetric and not accumulate:
        bands = scf.ForOp(_c(0), m_end, _c(_BAND))
        with ir.InsertionPoint(bands.body):
            end = arith.minsi(arith.addi(bands.induction_variable, _c(_BAND)), m_end)
            em.env[vn] = arith.index_cast(i64, arith.minsi(end, n))
            columns(bands.induction_variable, end, vectors)
            scf.YieldOp([])
        em.env[vn] = arith.index_cast(i64, n)
    else:
        columns(_c(0), m_end, vectors)
    if vectors > 1:  # the columns that fill whole vectors but no whole tile: one vector wide
        columns(m_end, m_mid, 1)
    em.env = saved
    edge = scf.IfOp(b_rows, [], has_else=True)  # b's own strides where bt holds its rows
    for block_, b_edge in ((edge.then_block, strided), (edge.else_block, b)):
        with ir.InsertionPoint(block_):
            _edge(t, a, b_edge, c, (n, k, m), m_mid if vectors > 1 else m_end, finish,
                  accumulate)
            scf.YieldOp([])
    if symmetric and not accumulate:
        _mirror(c, n, m_end)


_BAND = 128
"""Columns per band of a symmetric product (a multiple of every register tile's width)."""


def _mirror(c: ir.Value, n: ir.Value, m_end: ir.Value) -> None:
    """c[i, j] = c[j, i] where a symmetric `_tiled` left (i, j) out: j below the band of i."""
    rows = scf.ForOp(_c(0), n, _c(1))
    with ir.InsertionPoint(rows.body):
        i = rows.induction_variable
        band = arith.muli(arith.divui(i, _c(_BAND)), _c(_BAND))  # the start of i's band
        below = arith.select(arith.cmpi(CI.sge, i, m_end), m_end, band)
        cols = scf.ForOp(_c(0), below, _c(1))
        with ir.InsertionPoint(cols.body):
            j = cols.induction_variable
            memref.store(memref.load(c, [j, i]), c, [i, j])
            scf.YieldOp([])
        scf.YieldOp([])


def _edge(t: T.Scalar, a: ir.Value, b: ir.Value, c: ir.Value,
          shape: tuple[ir.Value, ir.Value, ir.Value], m_end: ir.Value,
          finish: Callable[[ir.Value, ir.Value], None] | None = None,
          accumulate: str = "") -> None:
    """c[i, j] = sum over k of a[i, k] * b[k, j] for the columns j >= m_end, in k order (fused
    multiply-adds, as the tiles): row by row, k outer and the few columns inner, so the
    column loop (b of unit inner stride) vectorizes and no add waits on the previous one
    (1024 x 16 @ 16 x 16: about 8 times faster than one dot loop per element)."""
    n, k, m = shape

    def columns(body: Callable[[ir.Value], None]) -> None:
        cols = scf.ForOp(m_end, m, _c(1))
        with ir.InsertionPoint(cols.body):
            body(cols.induction_variable)
            scf.YieldOp([])
    rows = scf.ForOp(_c(0), n, _c(1))
    with ir.InsertionPoint(rows.body):
        i = rows.induction_variable
        if not accumulate:
            columns(lambda j: memref.store(ops.const(t, 0.0), c, [i, j]))
        depth = scf.ForOp(_c(0), k, _c(1))
        with ir.InsertionPoint(depth.body):
            kk = depth.induction_variable
            aik = memref.load(a, [i, kk])
            aik = arith.negf(aik) if accumulate == "sub" else aik
            columns(lambda j: memref.store(math.fma(aik, memref.load(b, [kk, j]),
                                                    memref.load(c, [i, j])), c, [i, j]))
            scf.YieldOp([])
        if finish is not None:
            columns(lambda j: finish(i, j))
        scf.YieldOp([])


_RULES: dict[str, Callable[[Emitter, tir.Product], Any]] = {
    "dot": _emit_dot, "matvec": _emit_matvec, "vecmat": _emit_vecmat, "matmul": _emit_matmul,
    "outer": _emit_outer, "trace": _emit_trace,
}


def emit_product(em: Emitter, e: tir.Product) -> Any:
    if not em.ad and is_chain(e):
        return emit_chain(em, e, emit_product)
    return _RULES[e.kind](em, e)
