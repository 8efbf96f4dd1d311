"""IR rules for array code in GPU device functions (ir/gpu.py's emitter): the frontend's
`ElementStore` (one element of a host-level array statement, frontend/gpu_arrays.py) and
`tir.ArrayStore` without the overlap test of ir/arrays.py (the frontend refused every source
that may overlap its destination, so no temporary array is ever needed on the device).

An `ElementStore` evaluates the expression's inputs in each thread (views are metadata
only), checks that they broadcast to the destination's shape (a device assertion,
ir/raising.py), reads each array input through its stride-0 view of that shape at the
thread's element, and stores the element.
"""

from __future__ import annotations

import re
from typing import Any

from mlir import ir
from mlir.dialects import arith, memref, scf

from .. import types as T
from ..frontend import tir
from ..frontend.gpu_arrays import BroadcastElement, ElementStore
from . import ops, products
from .arrays import _body, _broadcast, _dims, _generic, _inputs, _mismatch, _spread
from .protocols import Emitter
from .raising import raise_if
from .types import scalar_type


def _checked_shape(em: Emitter, m: tir.ArrayMap, values: list[Any], dest: ir.Value,
                   t: T.Array, site: int | None) -> list[ir.Value]:
    """`dest`'s sizes, after checking that `m` broadcasts to them."""
    arrays = [(v, e.type.ndim) for v, e in zip(values, m.inputs, strict=True)
              if isinstance(e.type, T.Array)]
    rank = m.type.ndim if isinstance(m.type, T.Array) else 0
    shape = _broadcast(em, arrays, rank, m.check)
    target = _dims(em, dest, t.ndim)
    if site is not None:
        raise_if(em, _mismatch([(shape, rank)], target), site,
                 [(x, T.i64) for x in shape + target])
    return target


def emit_device_array_store(em: Emitter, s: tir.ArrayStore) -> None:
    t = s.array.type
    assert isinstance(t, T.Array)
    values, _ = _inputs(em, s.value)
    dest = em.expr(s.array)
    target = _checked_shape(em, s.value, values, dest, t, s.check)
    _generic(em, s.value, values, target, dest, t.dtype)


def emit_element_store(em: Emitter, s: ElementStore) -> None:
    t = s.array.type
    assert isinstance(t, T.Array)
    dest = em.expr(s.array)
    at = [em.index(em.expr(i)) for i in s.indices]
    if not isinstance(s.value, tir.ArrayMap):
        memref.store(ops.to_storage(t.dtype, em.expr(s.value)), dest, at)
        return
    m = s.value
    values, _ = _inputs(em, m)
    target = _checked_shape(em, m, values, dest, t, s.check)
    args = []
    for value, e in zip(values, m.inputs, strict=True):
        if isinstance(e.type, T.Array):
            args.append(ops.from_storage(e.type.dtype, _element(em, value, e.type, target, at)))
    memref.store(ops.to_storage(t.dtype, _body(em, m, values, args)), dest, at)


def _element(em: Emitter, value: Any, t: T.Array, shape: list[Any], at: list[Any]) -> Any:
    """The element `at` of array `value` broadcast to `shape`: through its stride-0 view, or
    for Enzyme (a derivative of a GPU kernel: it has no rule for that view) at indices with
    broadcasting folded in (a size-1 axis is read at 0)."""
    if not em.ad:
        return memref.load(_spread(value, t.ndim, shape, t.dtype), at)
    index = ir.IndexType.get()
    zero, one = arith.constant(index, 0), arith.constant(index, 1)
    lead = len(at) - t.ndim
    where = [arith.select(arith.cmpi(arith.CmpIPredicate.eq, em.dim(value, k), one), zero,
                          at[lead + k]) for k in range(t.ndim)]
    return memref.load(value, where)


def emit_broadcast_element(em: Emitter, e: BroadcastElement) -> Any:
    m = e.source
    assert isinstance(m.type, T.Array) and isinstance(e.type, T.Scalar)
    values, arrays = _inputs(em, m)
    shape = _broadcast(em, arrays, m.type.ndim, m.check)
    at = [em.index(em.expr(i)) for i in e.indices]
    inside = arith.constant(ir.IntegerType.get_signless(1), 1)
    for k, n in zip(at, shape, strict=True):
        inside = arith.andi(inside, arith.cmpi(arith.CmpIPredicate.ult, k, n))
    branch = scf.IfOp(inside, [scalar_type(e.type)], has_else=True)
    with ir.InsertionPoint(branch.then_block):
        args = []
        for value, x in zip(values, m.inputs, strict=True):
            if isinstance(x.type, T.Array):
                args.append(ops.from_storage(x.type.dtype, _element(em, value, x.type, shape, at)))
        scf.YieldOp([_body(em, m, values, args)])
    with ir.InsertionPoint(branch.else_block):
        scf.YieldOp([ops.const(e.type, 0)])
    return branch.results[0]


def emit_device_product(em: Emitter, e: tir.Product) -> Any:
    """A dot product in one thread: scalar accumulators, not the host's SIMD width (the PTX
    must not depend on the compiling machine); other kinds as on the CPU."""
    if e.kind != "dot":
        return products.emit_product(em, e)
    assert isinstance(e.type, T.Scalar)
    a, b = em.expr(e.a), em.expr(e.b)
    ka, kb = em.dim(a, 0), em.dim(b, 0)
    products._check(em, e, ka, kb, [ka, kb])
    return products._dot_scalar(e.type, a, b, ka)


def assert_message(sites: tuple[tir.Site, ...], site: int) -> str:
    """The text of a device assertion for check `site`: its exception and message with the
    values left out (the assertion reports the file and line)."""
    if site >= len(sites):
        return "ember: a run-time check failed"
    found = sites[site]
    return f"ember: {found.kind}: {re.sub(r'{[^}]*}', '?', found.template)}"


RULES = {tir.ArrayStore: emit_device_array_store, ElementStore: emit_element_store}
"""Device statement rules that replace or add to ir/stmts.py's."""
EXPR_RULES = {BroadcastElement: emit_broadcast_element, tir.Product: emit_device_product}
"""Device expression rules added to ir/exprs.py's."""
