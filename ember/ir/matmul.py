"""`tir.MatMul` -> packed, register-tiled vector code (scf + memref + vector + arith).

    up[band][k][r] = u(row r of the band, k)            # once: every u value, tile order
                                                        # (the last band repeats its last row)
    for jb in cols, step vectors * lanes:
        bp[k][:] = b[k, jb : jb + vectors * lanes]      # the panel, contiguous (no 4K aliasing)
        for ib in rows, step tile_rows:                 # every row tile passes over the panel
            acc[r][v] = c[ib + r, jb + v * lanes : +lanes]   (or the broadcast init)
            for k in depth:                             # accumulators stay in registers
                acc[r][v] = acc[r][v] + broadcast(up[band][k][r]) * bp[k][v]
            c[ib + r, jb + v * lanes : +lanes] = acc[r][v]

Each element receives its products in increasing k with a separate multiply and add, like the
loops the frontend matched (array products, ir/products.py, ask for fused multiply-adds
instead). Only the entry's contiguous variant gets this code (vector loads need unit inner
strides), and array products, which give it a b of unit inner stride (or, at run time, the
rows of b's transpose to pack from: `BRows`). The packing buffers are freed by the
deallocation stage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mlir import ir
from mlir.dialects import arith, memref, scf, vector

from ..frontend import tir
from .loops import cold_loop
from .protocols import Emitter

Finish = tuple[ir.Value, Callable[[ir.Value, ir.Value], None]]
"""An epilogue (ir/epilogue.py): when the i1 flag holds (the last block of k values),
`fn(i, j)` runs for every element of each tile after the tile is stored (once per element,
the repeated last row included once)."""

BRows = tuple[ir.Value, ir.Value]
"""(i1 flag, memref bt of unit inner stride with bt[j, k] = b[k, j]): where the flag holds at
run time, the panels of b are packed from bt's rows (contiguous in k: `a @ B.T` of a
row-contiguous B) and b itself is never read (ir/products.py)."""


def emit_matmul(em: Emitter, s: tir.MatMul, fma: bool = False,
                finish: Finish | None = None, b_rows: BRows | None = None) -> None:
    """`s` as register tiles; with `fma`, each multiply-add is one fused operation (one
    rounding, as BLAS does: array products, ir/products.py; loops keep two roundings).
    With `b_rows`, the panels of b are packed from its rows view where the flag holds."""
    saved = dict(em.env)
    _Tiles(em, s, fma, finish, b_rows).emit()
    em.env = saved  # the row and k bindings live inside the loops only


@dataclass
class _Tiles:
    em: Emitter
    s: tir.MatMul
    fma: bool = False
    finish: Finish | None = None
    b_rows: BRows | None = None

    def __post_init__(self) -> None:
        em, s = self.em, self.s
        self.rows, self.vectors, self.lanes = s.tile
        self.width = self.vectors * self.lanes
        self.c, self.b = em.expr(s.c), em.expr(s.b)
        self.c_lead = [em.index(em.expr(e)) for e in s.c_lead]  # batched: c[n, i, j]
        self.b_lead = [em.index(em.expr(e)) for e in s.b_lead]
        self.elem = ir.MemRefType(self.c.type).element_type
        self.vt = ir.VectorType.get([self.lanes], self.elem)
        (self.i0, self.i1), (self.j0, self.j1), (self.k0, self.k1) = (
            [em.index(em.expr(e)) for e in pair] for pair in (s.rows, s.cols, s.depth))
        self.depth = arith.maxsi(arith.subi(self.k1, self.k0), self.const(0))
        self.last = arith.subi(self.i1, self.const(1))

    def row(self, ib: ir.Value, r: int) -> ir.Value:
        """Row r of the tile at ib; the last tile repeats the last row where rows run out
        (the copies compute and store the same values)."""
        return arith.minsi(arith.addi(ib, self.const(r)), self.last)

    def const(self, v: int) -> ir.Value:
        return arith.constant(ir.IndexType.get(), v)

    def buffer(self, size: ir.Value) -> ir.Value:
        dyn = ir.ShapedType.get_dynamic_size()
        return memref.alloc(ir.MemRefType.get([dyn], self.elem), [size], [])

    def emit(self) -> None:
        """Nothing (not even the u values the loops would not read) without whole columns."""
        lt = arith.CmpIPredicate.slt
        some = scf.IfOp(arith.andi(arith.cmpi(lt, self.j0, self.j1),
                                   arith.cmpi(lt, self.i0, self.i1)))
        with ir.InsertionPoint(some.then_block):
            self.product()
            scf.YieldOp([])

    def product(self) -> None:
        tiles = arith.ceildivsi(arith.subi(self.i1, self.i0), self.const(self.rows))
        up = self.buffer(arith.muli(arith.muli(tiles, self.const(self.rows)), self.depth))
        bp = self.buffer(arith.muli(self.depth, self.const(self.width)))
        self.pack_u(up)
        with _loop(self.j0, self.j1, self.const(self.width)) as jb:
            self.pack_b(bp, jb)
            with _loop(self.i0, self.i1, self.const(self.rows)) as ib:
                self.tile(up, bp, ib, jb)

    def pack_u(self, up: ir.Value) -> None:
        """up[(ib - i0) * depth + (k - k0) * rows + r] = u(ib + r, k)"""
        i64 = ir.IntegerType.get_signless(64)
        with _loop(self.i0, self.i1, self.const(self.rows), True) as ib, \
                _loop(self.k0, self.k1, self.const(1), True) as k:
            self.em.env[self.s.red] = arith.index_cast(i64, k)
            base = self.u_index(ib, k)
            for r in range(self.rows):
                self.em.env[self.s.row] = arith.index_cast(i64, self.row(ib, r))
                memref.store(self.em.expr(self.s.u), up, [arith.addi(base, self.const(r))])

    def u_index(self, ib: ir.Value, k: ir.Value) -> ir.Value:
        band = arith.muli(arith.subi(ib, self.i0), self.depth)
        return arith.addi(band, arith.muli(arith.subi(k, self.k0), self.const(self.rows)))

    def pack_b(self, bp: ir.Value, jb: ir.Value) -> None:
        if self.b_rows is None:
            self.pack_panel(bp, jb, self.b, self.s.b_transposed)
            return
        flag, bt = self.b_rows
        branch = scf.IfOp(flag, [], has_else=True)
        with ir.InsertionPoint(branch.then_block):
            self.pack_rows(bp, jb, bt)
            scf.YieldOp([])
        with ir.InsertionPoint(branch.else_block):
            self.pack_panel(bp, jb, self.b, self.s.b_transposed)
            scf.YieldOp([])

    def pack_rows(self, bp: ir.Value, jb: ir.Value, bt: ir.Value) -> None:
        """The panel from bt's rows (bt[j, k] = b[k, j], unit inner stride): blocks of `lanes`
        rows by `lanes` k values read as vectors along k and transposed in registers, the k
        values that fill no whole vector one element at a time (loops, not unrolled: small
        code, compile time)."""
        lanes, zero, width = self.const(self.lanes), self.const(0), self.const(self.width)
        whole = arith.subi(self.k1, arith.remsi(self.depth, lanes))
        with _loop(self.k0, whole, lanes, True) as k, _loop(zero, width, lanes, True) as first:
            base = arith.addi(arith.muli(arith.subi(k, self.k0), width), first)
            row = arith.addi(jb, first)
            block = [vector.load(self.vt, bt, [arith.addi(row, self.const(r)), k])
                     for r in range(self.lanes)]
            for q, value in enumerate(_transpose(block)):
                vector.store(value, bp, [arith.addi(base, self.const(q * self.width))])
        with _loop(whole, self.k1, self.const(1), True) as k, \
                _loop(zero, width, self.const(1), True) as n:
            at = arith.addi(arith.muli(arith.subi(k, self.k0), width), n)
            memref.store(memref.load(bt, [arith.addi(jb, n), k]), bp, [at])

    def pack_panel(self, bp: ir.Value, jb: ir.Value, b: ir.Value, transposed: bool) -> None:
        """bp[(k - k0) * width + n] = b[k, jb + n] (transposed: b[jb + n, k])"""
        with _loop(self.k0, self.k1, self.const(1), True) as k:
            base = arith.muli(arith.subi(k, self.k0), self.const(self.width))
            if transposed:  # b[j, k]: one element of each of `width` rows
                for n in range(self.width):
                    value = memref.load(b, [*self.b_lead, arith.addi(jb, self.const(n)), k])
                    memref.store(value, bp, [arith.addi(base, self.const(n))])
            else:
                for v in range(self.vectors):
                    col = arith.addi(jb, self.const(v * self.lanes))
                    vector.store(vector.load(self.vt, b, [*self.b_lead, k, col]), bp,
                                 [arith.addi(base, self.const(v * self.lanes))])

    def tile(self, up: ir.Value, bp: ir.Value, ib: ir.Value, jb: ir.Value) -> None:
        rows = [self.row(ib, r) for r in range(self.rows)]
        cols = [arith.addi(jb, self.const(v * self.lanes)) for v in range(self.vectors)]
        if self.s.init is not None:
            start = [vector.broadcast(self.vt, self.em.expr(self.s.init))] * (
                self.rows * self.vectors)
        else:
            start = [vector.load(self.vt, self.c, [*self.c_lead, r, j])
                     for r in rows for j in cols]
        loop = scf.ForOp(self.k0, self.k1, self.const(1), start)
        with ir.InsertionPoint(loop.body):
            scf.YieldOp(self.step(up, bp, ib, loop))
        for n, acc in enumerate(loop.results):
            vector.store(acc, self.c,
                         [*self.c_lead, rows[n // self.vectors], cols[n % self.vectors]])
        if self.finish is not None:
            self.epilogue(ib, jb)

    def epilogue(self, ib: ir.Value, jb: ir.Value) -> None:
        assert self.finish is not None
        last, fn = self.finish
        branch = scf.IfOp(last)
        with ir.InsertionPoint(branch.then_block):
            end = arith.minsi(arith.addi(ib, self.const(self.rows)), self.i1)
            with _loop(ib, end, self.const(1)) as i, \
                    _loop(jb, arith.addi(jb, self.const(self.width)), self.const(1)) as j:
                fn(i, j)
            scf.YieldOp([])

    def step(self, up: ir.Value, bp: ir.Value, ib: ir.Value, loop: scf.ForOp) -> list[ir.Value]:
        k, accs = loop.induction_variable, list(loop.inner_iter_args)
        base = arith.muli(arith.subi(k, self.k0), self.const(self.width))
        bv = [vector.load(self.vt, bp, [arith.addi(base, self.const(v * self.lanes))])
              for v in range(self.vectors)]
        at = self.u_index(ib, k)
        out = []
        for r in range(self.rows):
            u = memref.load(up, [arith.addi(at, self.const(r))])
            uv = vector.broadcast(self.vt, u)
            out += [vector.fma(uv, bv[v], accs[r * self.vectors + v]) if self.fma
                    else arith.addf(accs[r * self.vectors + v], arith.mulf(uv, bv[v]))
                    for v in range(self.vectors)]
        return out


def _transpose(rows: list[ir.Value]) -> list[ir.Value]:
    """The columns of a square block of 1-D vectors (a power of 2 of them): log2(n) rounds of
    shuffles, each exchanging blocks of h elements between the rows h apart."""
    n, h = len(rows), 1
    while h < n:
        lo = [p if p // h % 2 == 0 else n + p - h for p in range(n)]
        hi = [p + h if p // h % 2 == 0 else n + p for p in range(n)]
        out = list(rows)
        for i in (i for i in range(n) if i // h % 2 == 0):
            out[i] = vector.shuffle(rows[i], rows[i + h], lo)
            out[i + h] = vector.shuffle(rows[i], rows[i + h], hi)
        rows, h = out, 2 * h
    return rows


class _loop:  # noqa: N801 - used as `with _loop(lo, hi, step) as iv:`
    """An scf.for without results; the body is whatever is emitted inside the `with`."""

    def __init__(self, lo: ir.Value, hi: ir.Value, step: ir.Value, plain: bool = False) -> None:
        self.op = scf.ForOp(lo, hi, step)
        if plain:  # packing loops: not worth LLVM's vectorizer and unroller (compile time)
            self.op.operation.attributes["loop_annotation"] = cold_loop()
        self.point = ir.InsertionPoint(self.op.body)

    def __enter__(self) -> ir.Value:
        self.point.__enter__()
        return self.op.induction_variable

    def __exit__(self, *exc: object) -> None:
        scf.YieldOp([])
        self.point.__exit__(*exc)
