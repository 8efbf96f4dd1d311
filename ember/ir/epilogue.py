"""IR rule for a matrix product under an elementwise expression: `alpha * (A @ B) + beta * C`,
`A @ B + bias_row`, `np.tanh(A @ B)`, ... (a `tir.ArrayMap` with one 2-D float `matmul`
`tir.Product` input whose dtype is the result's) as one product with a fused epilogue.

The product's register tiles (ir/products.py, ir/matmul.py) accumulate straight into the
result array and, in the last block of k values, each tile just stored is rewritten in place
by the expression's body (`out[i, j] = body(out[i, j], C[i, j], ...)`, the other inputs read
with broadcasting folded into their indices) while it is still in the L1 cache: no temporary
array for `A @ B`, no second pass over the result. Where the broadcast shape is not the
product's (a size-1 axis of `A @ B` stretched by another operand, decided at run time) the
product is computed into a temporary by a plain loop nest and the expression runs as usual
(ir/arrays.py). Chains (ir/chains.py), int products and derivative builds (plain loop
nests for Enzyme) take the ordinary path.

Assignments (`tir.ArrayStore`): `C[...] = A @ B`, `C[:, :] = alpha * (A @ B) + beta * D` and
`C += A @ B`, `C -= A @ B` (the tiles start from C's elements) write the product straight into C when, at
run time, the shapes match, C's inner stride is 1 and C shares no memory with A, B or another
operand; otherwise the product goes to a new array and ir/arrays.py's assignment (with its
overlap rules) runs: NumPy's semantics either way. A destination read in any other way
(`C[...] = C * 2 + A @ B`) takes the ordinary path.
"""

from __future__ import annotations

from typing import Any

from mlir import ir
from mlir.dialects import arith, memref, scf

from .. import types as T
from ..frontend import tir
from . import ops
from .arrays import _body, _generic, _mismatch, emit_array_map, emit_array_store, store_values
from .chains import is_chain
from .loops import allocate, loop_nest
from .products import _check, _mul_loads, _sum, _tiled, emit_product, symmetric
from .protocols import Emitter
from .raising import raise_if
from .types import contiguous_memref_type, memref_type

CI = arith.CmpIPredicate
MARK = "ember.epilogue"
"""Unit attribute on the result array the product and its epilogue write (tests look for it
in `inspect("mlir")`)."""


def _c(value: int) -> ir.Value:
    return arith.constant(ir.IndexType.get(), value)


def fused_input(e: tir.ArrayMap) -> int | None:
    """The position of the product the epilogue fuses with, if `e` has one."""
    if not (isinstance(e.type, T.Array) and e.type.ndim == 2 and e.type.dtype.is_float):
        return None
    found = [k for k, x in enumerate(e.inputs) if isinstance(x, tir.Product)
             and x.kind == "matmul" and x.type == e.type and not is_chain(x)]
    return found[0] if len(found) == 1 else None


def emit_array_map_fused(em: Emitter, e: tir.ArrayMap) -> Any:
    """`tir.ArrayMap`'s rule: the fused product where it applies, else ir/arrays.py's."""
    k = None if em.ad else fused_input(e)
    return emit_array_map(em, e) if k is None else _Fused(em, e, k).emit()


class _Fused:
    def __init__(self, em: Emitter, e: tir.ArrayMap, pos: int) -> None:
        self.em, self.e, self.pos = em, e, pos
        p = e.inputs[pos]
        assert isinstance(p, tir.Product) and isinstance(e.type, T.Array)
        self.p, self.t = p, e.type.dtype
        self.values: list[Any] = []
        for n, x in enumerate(e.inputs):  # Python's order: the product's operands in place
            if n == pos:
                self.a, self.b = em.expr(p.a), em.expr(p.b)
                self.values.append(None)
            else:
                self.values.append(em.expr(x))
        self.n, self.k = em.dim(self.a, 0), em.dim(self.a, 1)
        kb, self.m = em.dim(self.b, 0), em.dim(self.b, 1)
        _check(em, p, self.k, kb, [self.n, self.k, kb, self.m])

    def arrays(self) -> list[tuple[int, list[ir.Value]]]:
        """(input position, sizes) of every array input, the product's (n, m) included."""
        out = []
        for n, x in enumerate(self.e.inputs):
            if isinstance(x.type, T.Array):
                dims = [self.n, self.m] if n == self.pos else [
                    self.em.dim(self.values[n], a) for a in range(x.type.ndim)]
                out.append((n, dims))
        return out

    def shape(self, arrays: list[tuple[int, list[ir.Value]]]) -> list[ir.Value]:
        """NumPy's broadcast shape (ir/arrays.py's rule), checked against the node's site."""
        shape = []
        for r in range(2):
            size = _c(1)
            for _, dims in arrays:
                if (a := r - (2 - len(dims))) >= 0:
                    size = arith.select(arith.cmpi(CI.eq, dims[a], _c(1)), size, dims[a])
            shape.append(size)
        if self.e.check is not None:
            bad = _mismatch([(dims, len(dims)) for _, dims in arrays], shape)
            raise_if(self.em, bad, self.e.check, [(s, T.i64) for _, d in arrays for s in d])
        return shape

    def emit(self) -> Any:
        arrays = self.arrays()
        shape = self.shape(arrays)
        same = arith.andi(arith.cmpi(CI.eq, shape[0], self.n), arith.cmpi(CI.eq, shape[1], self.m))
        want = memref_type(self.e.type)
        branch = scf.IfOp(same, [want], has_else=True)
        with ir.InsertionPoint(branch.then_block):
            scf.YieldOp([self.fused(arrays)])
        with ir.InsertionPoint(branch.else_block):
            scf.YieldOp([self.unfused(shape)])
        return branch.results[0]

    def fused(self, arrays: list[tuple[int, list[ir.Value]]]) -> ir.Value:
        raw = memref.alloc(contiguous_memref_type(T.Array(self.t, 2)), [self.n, self.m], [])
        raw.owner.attributes[MARK] = ir.UnitAttr.get()
        self.into(arrays, raw)
        return memref.cast(memref_type(self.e.type), raw)

    def into(self, arrays: list[tuple[int, list[ir.Value]]], target: ir.Value,
             accumulate: str = "") -> None:
        """target = body(a @ b, ...) (target of shape (n, m), unit inner stride, apart from
        every input), or target += / -= a @ b with `accumulate` "add" / "sub"."""
        t = self.t
        ones = {n: [arith.cmpi(CI.eq, d, _c(1)) for d in dims] for n, dims in arrays
                if n != self.pos}

        def finish(i: ir.Value, j: ir.Value) -> None:
            args = []
            for n, _ in arrays:
                if n == self.pos:
                    args.append(memref.load(target, [i, j]))
                    continue
                at = [arith.select(one, _c(0), iv)
                      for one, iv in zip(ones[n], [i, j][2 - len(ones[n]):], strict=True)]
                x = self.e.inputs[n].type
                assert isinstance(x, T.Array)
                args.append(ops.from_storage(x.dtype, memref.load(self.values[n], at)))
            memref.store(ops.to_storage(t, _body(self.em, self.e, self.values, args)), target,
                         [i, j])
        plain = bool(accumulate) or (isinstance(self.e.body, tir.Elem)
                                     and self.e.body.index == self.pos)
        _tiled(self.em, self.p, t, self.a, self.b, target, (self.n, self.k, self.m),
               None if plain else finish, accumulate,
               symmetric=symmetric(self.p) and len(arrays) == 1)  # x.T @ x with scalars

    def product(self) -> ir.Value:
        """a @ b into a new array (the ordinary product, sizes already compared)."""
        names = ("\0epi_a", "\0epi_b")
        self.em.env.update(zip(names, (self.a, self.b), strict=True))
        p = self.p
        assert isinstance(p.a.type, T.Array) and isinstance(p.b.type, T.Array)
        return emit_product(self.em, tir.Product(p.type, p.span, "matmul",
                                                 tir.Var(p.a.type, p.span, names[0]),
                                                 tir.Var(p.b.type, p.span, names[1])))

    def unfused(self, shape: list[ir.Value]) -> ir.Value:
        """A size-1 axis of the product is stretched: the product first (plain loops: it is
        a row or a column), then the expression."""
        t, a, b = self.t, self.a, self.b
        product = allocate(T.Array(t, 2), [self.n, self.m])
        loop_nest([self.n, self.m], lambda ij: memref.store(_sum(t, self.k, _mul_loads(
            t, a, lambda kk: [ij[0], kk], b, lambda kk: [kk, ij[1]])), product, ij))
        values = list(self.values)
        values[self.pos] = product
        out = allocate(self.e.type, shape)  # type: ignore[arg-type]
        _generic(self.em, self.e, values, shape, out, t)
        return out


# --- assignments: C[...] = alpha * (A @ B) + beta * D, C += A @ B ------------------------------
def _store_plan(s: tir.ArrayStore) -> tuple[int, str] | None:
    """(the product's input position, "add" for `C += A @ B`, "sub" for `C -= A @ B`, else
    "") where the store can be fused: the destination is read only as `C + A @ B` or
    `C - A @ B` (the tiles start from C)."""
    t, m = s.array.type, s.value
    if not (isinstance(t, T.Array) and t.ndim == 2) or (pos := fused_input(m)) is None:
        return None
    own = [k for k, x in enumerate(m.inputs) if x.type == t and tir.same(x, s.array)]
    if not own:
        return pos, ""
    body = m.body
    if not (len(m.inputs) == 2 and isinstance(body, tir.BinOp)
            and isinstance(body.left, tir.Elem) and isinstance(body.right, tir.Elem)):
        return None
    order = (body.left.index, body.right.index)
    if body.op == "add" and set(order) == {pos, own[0]}:
        return pos, "add"
    return (pos, "sub") if body.op == "sub" and order == (own[0], pos) else None


def emit_array_store_fused(em: Emitter, s: tir.ArrayStore) -> None:
    """`tir.ArrayStore`'s rule: the product written into the destination where it applies
    (checked at run time: the shapes match, the destination has a unit inner stride and
    shares no memory with any operand), else ir/arrays.py's."""
    plan = None if em.ad else _store_plan(s)
    if plan is None:
        emit_array_store(em, s)
        return
    pos, accumulate = plan
    f = _Fused(em, s.value, pos)
    dest = em.expr(s.array)
    arrays = f.arrays()
    shape = f.shape(arrays)
    target = [em.dim(dest, 0), em.dim(dest, 1)]
    if s.check is not None:
        bad = _mismatch([(shape, 2)], target)
        raise_if(em, bad, s.check, [(x, T.i64) for x in shape + target])
    meta = memref.ExtractStridedMetadataOp(dest)
    ok = arith.cmpi(CI.eq, list(meta.strides)[1], _c(1))
    for x, y in zip([*shape, *target], [f.n, f.m, f.n, f.m], strict=True):
        ok = arith.andi(ok, arith.cmpi(CI.eq, x, y))
    others = [f.a, f.b] + [f.values[n] for n, _ in arrays
                          if n != pos and not (accumulate and tir.same(s.value.inputs[n],
                                                                       s.array))]
    for v in others:
        ok = arith.andi(ok, ops.disjoint(dest, v))
    branch = scf.IfOp(ok, [], has_else=True)
    with ir.InsertionPoint(branch.then_block):
        dyn, dyn_s = ir.ShapedType.get_dynamic_size(), ir.ShapedType.get_dynamic_stride_or_offset()
        unit = ir.MemRefType.get([dyn, dyn], ir.MemRefType(dest.type).element_type,
                                 layout=ir.StridedLayoutAttr.get(dyn_s, [dyn_s, 1]))
        view = memref.reinterpret_cast(unit, meta.base_buffer, [meta.offset], target,
                                       [list(meta.strides)[0]], [dyn_s], [dyn, dyn], [dyn_s, 1])
        view.owner.attributes[MARK] = ir.UnitAttr.get()
        f.into(arrays, view, accumulate)
        scf.YieldOp([])
    with ir.InsertionPoint(branch.else_block):
        values = list(f.values)
        values[pos] = f.product()
        operands = [(v, x.type.ndim) for v, x in zip(values, s.value.inputs, strict=True)
                    if isinstance(x.type, T.Array)]
        store_values(em, s, values, operands, dest)
        scf.YieldOp([])
