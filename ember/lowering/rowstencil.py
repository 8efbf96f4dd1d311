"""Stencil values recomputed from the saved row of the array they read (after Enzyme, opt_level
>= 2).

In a time loop over arrays that change from step to step (`u, un = un, u`), the inner loop
`un[i] = g(u[i], h(u[i-1], u[i], u[i+1]))` makes Enzyme 0.0.16 save, per time step, a ROW of
the elements `u[i]` it read (a buffer `R[t, i - lb]`) and, as a second row `V[t, i - lb]`, every
other value its reverse pass needs, such as the Laplacian `u[i-1] - 2 u[i] + u[i+1]` (the
derivative with respect to the factor `k` of `k * lap`): two tape stores per element.
`recompute_rows` drops `V` and recomputes each of its elements in the reverse pass from `R`,
with the same operations in the same order (bit for bit the same value). `R` grows by the
elements just outside the loop's range (`u[lb-1]`, `u[ub]`), saved once per step before the
loop (only when it runs), so that `R[t]` holds every element of `u` the step read.

A value row `V` qualifies when, in the derivative function:
* `V` and a row `R` are allocations with one store each, both in the same `scf.for` over iv in
  [lb, ub) (step 1), through views `X[t, 0][1, W]` of one `t` and `W = ub - lb`, at position
  `iv - lb`; `R` stores `load A[iv]`; `R` and `V` are otherwise only read through such views
  and freed;
* the value stored in `V` is computed in that loop's body from loads `A[iv + c]` of the same
  `A` (c constant), constants and values defined at the function's top level, by at most
  `MAX_OPS` arithmetic ops;
* the loop writes nothing but `R`, `V` and arrays that cannot be `A`: a different allocation,
  or the other of two allocations chosen by two loop-carried indices that a loop swaps
  (`select(a == K, P, Q)` and `select(b == K, P, Q)` where the enclosing loop starts `(a, b)`
  at two different constants, one of them `K`, and yields `(b, a)`), so every element of `A`
  the step read is the one saved;
* the loop holds no other op with regions or memory effects.
Anything else is left as Enzyme made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from mlir import ir
from mlir.dialects import arith, memref, scf

from .enzyme import ADSpec
from .irquery import constant, defining, derivative_functions, inside, op_of

MAX_OPS: Final = 16
"""At most this many float ops and loads recompute one element of a value row."""
_DYNAMIC: Final = ir.ShapedType.get_dynamic_stride_or_offset()
PURE_BODY: Final = ("arith.", "math.")
"""Ops of the loop body that neither write nor hold regions (besides loads and the yield)."""
CASTS: Final = frozenset({"arith.index_cast", "arith.index_castui"})


@dataclass(eq=False)
class _Row:
    """A rank-2 buffer with one store, in a row view `X[t, 0][1, W]`."""
    alloc: ir.Operation
    store: ir.Operation
    views: list[ir.Operation]
    dealloc: ir.Operation | None

    @property
    def view(self) -> ir.Operation:
        return op_of(self.store.operands[1].owner)


def recompute_rows(module: ir.Module, spec: ADSpec) -> int:
    """Rewrite the reverse derivative of `spec` in `module`; returns how many value rows were
    replaced by recomputation."""
    if spec.mode != "reverse":
        return 0
    done = 0
    for op in derivative_functions(module, spec.fn):
        done += _function(op)
    return done


def _function(fn: ir.Operation) -> int:
    block = fn.regions[0].blocks[0]
    rows = [r for r in (_row(op.operation) for op in block.operations) if r is not None]
    loops: list[tuple[ir.Operation, list[_Row]]] = []
    for r in rows:
        loop = op_of(r.store.parent)
        if loop is None or loop.name != "scf.for":
            continue
        same = [found for lp, found in loops if lp == loop]
        if same:
            same[0].append(r)
        else:
            loops.append((loop, [r]))
    done = 0
    for loop, found in loops:
        views = [r.view for r in found]
        values = [r for r in found if _saved_load(r, loop) is None]
        replaced: list[_Row] = []  # (their stores are gone: not rows to inspect again)
        for row in found:
            if any(row is r for r in replaced) or _saved_load(row, loop) is None or not values:
                continue
            plans = [(v, _check(fn, loop, row, v, views)) for v in values]
            plans = [(v, plan) for v, plan in plans if plan is not None]
            if plans:
                _apply(loop, row, plans)
                replaced += [w for w, _ in plans]
                values = [v for v in values if all(v is not w for w in replaced)]
                done += len(plans)
    return done


def _row(op: ir.Operation) -> _Row | None:
    """`op` as a row buffer: an alloc of rank 2 used by row views and one dealloc, its views
    used by loads and exactly one store."""
    if op.name != "memref.alloc" or len(op.results) != 1:
        return None
    ty = ir.MemRefType(op.results[0].type)
    if ty.rank != 2 or len(op.operands) != 2:
        return None
    views, stores, dealloc = [], [], None
    for use in op.results[0].uses:
        user = use.owner.operation if hasattr(use.owner, "operation") else use.owner
        if user.name == "memref.dealloc" and dealloc is None:
            dealloc = user
            continue
        if user.name != "memref.subview" or not _row_view(user):
            return None
        views.append(user)
        for vuse in user.results[0].uses:
            u = vuse.owner.operation if hasattr(vuse.owner, "operation") else vuse.owner
            if u.name == "memref.store" and vuse.operand_number == 1:
                stores.append(u)
            elif u.name != "memref.load":
                return None
    if len(stores) != 1:
        return None
    return _Row(op, stores[0], views, dealloc)


def _row_view(op: ir.Operation) -> bool:
    """`subview X[t, 0][1, W][1, 1]` to a 1-D memref."""
    offsets = list(ir.DenseI64ArrayAttr(op.attributes["static_offsets"]))
    sizes = list(ir.DenseI64ArrayAttr(op.attributes["static_sizes"]))
    strides = list(ir.DenseI64ArrayAttr(op.attributes["static_strides"]))
    return (offsets[1:] == [0] and offsets[0] == _DYNAMIC and sizes[0] == 1
            and sizes[1] == ir.ShapedType.get_dynamic_size() and strides == [1, 1]
            and len(op.operands) == 3 and ir.MemRefType(op.results[0].type).rank == 1)


def _saved_load(row: _Row, loop: ir.Operation) -> ir.Operation | None:
    """The `load A[iv]` that `row` saves in `loop`, if that is what it stores."""
    load = defining(row.store.operands[0])
    iv = loop.regions[0].blocks[0].arguments[0]
    if load is None or load.name != "memref.load" or len(load.operands) != 2 \
            or op_of(load.parent) != loop or load.operands[1] != iv:
        return None
    return load


def _position(row: _Row, loop: ir.Operation) -> bool:
    """The row's store writes position `iv - lb` of a view `[t, 0][1, ub - lb]`."""
    lb, ub, step = loop.operands[0], loop.operands[1], loop.operands[2]
    iv = loop.regions[0].blocks[0].arguments[0]
    idx = defining(row.store.operands[2]) if len(row.store.operands) == 3 else None
    width = defining(row.view.operands[2])
    return (constant(step) == 1 and idx is not None and idx.name == "arith.subi"
            and idx.operands[0] == iv and _same(idx.operands[1], lb)
            and width is not None and width.name == "arith.subi"
            and _same(width.operands[0], ub) and _same(width.operands[1], lb)
            and row.alloc.operands[1] == row.view.operands[2])


def _same(a: ir.Value, b: ir.Value) -> bool:
    return a == b or (constant(a) is not None and constant(a) == constant(b))


def _check(fn: ir.Operation, loop: ir.Operation, row: _Row, value: _Row,
           views: list[ir.Operation]) -> list[tuple[ir.Operation, int]] | None:
    """The plan recomputing `value` from `row` (see `_plan`), if it qualifies; `views`: the
    forward views of every row buffer `loop` stores to (none of them can be the array)."""
    array = _saved_load(row, loop).operands[0]
    if not (_position(row, loop) and _position(value, loop)
            and row.store.operands[2] == value.store.operands[2]
            and row.view.operands[1] == value.view.operands[1]
            and row.view.operands[2] == value.view.operands[2]
            and op_of(row.view.parent) == op_of(loop.parent)):
        return None
    if inside(array, loop) or len(list(value.view.results[0].uses)) != 1:
        return None
    plan = _plan(value.store.operands[0], loop, array, fn, [])
    return plan if plan is not None and _only_writes(loop, array, views) else None


def _apply(loop: ir.Operation, row: _Row,
           plans: list[tuple[_Row, list[tuple[ir.Operation, int]]]]) -> None:
    """Widen `row` for every plan's offsets, recompute each value row's reverse loads and
    drop the value rows."""
    offsets = [c for _, plan in plans for op, c in plan if op.name == "memref.load"]
    lo, hi = min([0, *offsets]), max([0, *offsets])
    _widen(row, loop, _saved_load(row, loop), lo, hi)
    for value, plan in plans:
        for view in value.views:
            if view != value.view:
                _recompute(view, row, plan, lo)
        value.store.erase()
        for view in value.views:
            view.erase()
        if value.dealloc is not None:
            value.dealloc.erase()
        value.alloc.erase()


def _plan(v: ir.Value, loop: ir.Operation, array: ir.Value, fn: ir.Operation,
          plan: list[tuple[ir.Operation, int]]) -> list[tuple[ir.Operation, int]] | None:
    """The ops computing `v` in `loop`'s body, operands first: (op, c) with c the offset of a
    load `array[iv + c]` (0 for the other ops); None if `v` is computed otherwise."""
    where = _where(v, loop, fn)
    if where != "loop":
        return plan if where == "top" else None
    op = defining(v)
    if any(o == op for o, _ in plan):
        return plan
    if op.name == "memref.load":
        c = _load_offset(op, loop, array)
        if c is None:
            return None
        plan.append((op, c))
    elif op.name == "arith.constant" or (
            op.name.startswith(PURE_BODY) and len(op.results) == 1 and not op.regions
            and isinstance(op.results[0].type, ir.FloatType)):
        for operand in op.operands:
            if _plan(operand, loop, array, fn, plan) is None:
                return None
        plan.append((op, 0))
    else:
        return None
    return plan if len(plan) <= MAX_OPS else None


def _where(v: ir.Value, loop: ir.Operation, fn: ir.Operation) -> str:
    """'top' (a function argument or a top-level value, available in the reverse pass too),
    'loop' (defined in `loop`'s body) or 'other'."""
    op = defining(v)
    parent = op_of(v.owner.owner) if op is None else op_of(op.parent)
    if parent == fn:
        return "top"
    return "loop" if op is not None and parent == loop else "other"


def _load_offset(load: ir.Operation, loop: ir.Operation, array: ir.Value) -> int | None:
    """c where `load` reads `array[iv + c]` (iv: `loop`'s induction variable)."""
    if len(load.operands) != 2 or load.operands[0] != array:
        return None
    return _offset(load.operands[1], loop.regions[0].blocks[0].arguments[0])


def _offset(v: ir.Value, iv: ir.Value) -> int | None:
    """c where `v` is iv + c (through index casts and additions of constants)."""
    if v == iv:
        return 0
    op = defining(v)
    if op is None:
        return None
    if op.name in CASTS:
        return _offset(op.operands[0], iv)
    if op.name in ("arith.addi", "arith.subi"):
        sign = 1 if op.name == "arith.addi" else -1
        c = constant(op.operands[1])
        if c is not None and not isinstance(c, bool):
            inner = _offset(op.operands[0], iv)
            return None if inner is None else inner + sign * c
        c = constant(op.operands[0])
        if sign == 1 and c is not None and not isinstance(c, bool):
            inner = _offset(op.operands[1], iv)
            return None if inner is None else inner + c
    return None


def _only_writes(loop: ir.Operation, array: ir.Value, views: list[ir.Operation]) -> bool:
    """The loop body writes only through `views` and arrays that cannot be `array`."""
    for child in loop.regions[0].blocks[0].operations:
        op = child.operation
        if op.name in ("memref.load", "scf.yield") or \
                (op.name.startswith(PURE_BODY) and not op.regions):
            continue
        if op.name != "memref.store":
            return False
        target = defining(op.operands[1])
        if any(target == v for v in views):
            continue
        if not _distinct(op.operands[1], array):
            return False
    return True


def _alloc_root(v: ir.Value) -> ir.Operation | None:
    """The allocation `v` views (through subviews and casts), None if unknown."""
    op = defining(v)
    while op is not None and op.name in ("memref.subview", "memref.cast",
                                         "memref.reinterpret_cast"):
        op = defining(op.operands[0])
    return op if op is not None and op.name == "memref.alloc" else None


def _distinct(a: ir.Value, b: ir.Value) -> bool:
    """Whether `a` and `b` are never the same memory: different allocations, or two swapped
    ones (see the module docstring)."""
    ra, rb = _alloc_root(a), _alloc_root(b)
    if ra is not None and rb is not None:
        return ra != rb
    sa, sb = defining(a), defining(b)
    if sa is None or sb is None or sa.name != "arith.select" or sb.name != "arith.select":
        return False
    if sa.operands[1] != sb.operands[1] or sa.operands[2] != sb.operands[2]:
        return False
    p, q = _alloc_root(sa.operands[1]), _alloc_root(sa.operands[2])
    if p is None or q is None or p == q:
        return False
    ca, cb = defining(sa.operands[0]), defining(sb.operands[0])
    if ca is None or cb is None or ca.name != "arith.cmpi" or cb.name != "arith.cmpi":
        return False
    eq = 0  # arith.cmpi predicate `eq`
    if ir.IntegerAttr(ca.attributes["predicate"]).value != eq or \
            ir.IntegerAttr(cb.attributes["predicate"]).value != eq:
        return False
    k = constant(ca.operands[1])
    if k is None or constant(cb.operands[1]) != k:
        return False
    return _swapped(ca.operands[0], cb.operands[0], k)


def _swapped(a: ir.Value, b: ir.Value, k: int) -> bool:
    """`a` and `b` are iteration arguments of one `scf.for` started at two different
    constants, one of them `k`, and exchanged by its yield."""
    owner_a, owner_b = a.owner, b.owner
    if not isinstance(owner_a, ir.Block) or owner_a != owner_b or a == b:
        return False
    loop = op_of(owner_a.owner)
    if loop is None or loop.name != "scf.for":
        return False
    ia, ib = a.arg_number - 1, b.arg_number - 1  # after the induction variable
    if ia < 0 or ib < 0:
        return False
    inits = list(loop.operands)[3:]
    va, vb = constant(inits[ia]), constant(inits[ib])
    if va is None or vb is None or va == vb or k not in (va, vb):
        return False
    body = loop.regions[0].blocks[0]
    yielded = list(body.operations)[-1].operation
    return yielded.operands[ia] == b and yielded.operands[ib] == a


def _index(v: int) -> ir.Value:
    return arith.ConstantOp(ir.IndexType.get(), v).result


def _widen(row: _Row, loop: ir.Operation, saved: ir.Operation, lo: int, hi: int) -> None:
    """Give `row` hi - lo more columns: its views start at column -lo; before `loop`, when
    it runs, save A[lb + c] (lo <= c < 0) and A[ub - 1 + c] (0 < c <= hi) there too."""
    if lo == 0 and hi == 0:
        return
    width = row.alloc.operands[1]
    with ir.InsertionPoint(row.alloc), row.alloc.location:
        row.alloc.operands[1] = arith.AddIOp(width, _index(hi - lo)).result
    for view in row.views:
        view.attributes["static_offsets"] = ir.DenseI64ArrayAttr.get([_DYNAMIC, -lo])
    lb, ub = loop.operands[0], loop.operands[1]
    array = saved.operands[0]
    with ir.InsertionPoint(loop), loop.location:
        full = _full_view(row.alloc.results[0], row.view, row.alloc.operands[1])
        runs = arith.CmpIOp(arith.CmpIPredicate.slt, lb, ub).result
        branch = scf.IfOp(runs)
        with ir.InsertionPoint(branch.then_block):
            for c in range(lo, 0):
                x = memref.LoadOp(array, [arith.AddIOp(lb, _index(c)).result]).result
                memref.StoreOp(x, full, [_index(c - lo)])
            for c in range(1, hi + 1):
                x = memref.LoadOp(array, [arith.AddIOp(ub, _index(c - 1)).result]).result
                memref.StoreOp(x, full, [arith.AddIOp(width, _index(c - 1 - lo)).result])
            scf.YieldOp([])


def _full_view(buffer: ir.Value, like: ir.Operation, width: ir.Value) -> ir.Value:
    """A view of the whole (widened) row of `buffer` at the time index of the row view
    `like`."""
    return memref.SubViewOp(like.results[0].type, buffer, [like.operands[1]],
                            [width], [], ir.DenseI64ArrayAttr.get([_DYNAMIC, 0]),
                            ir.DenseI64ArrayAttr.get([1, ir.ShapedType.get_dynamic_size()]),
                            ir.DenseI64ArrayAttr.get([1, 1])).result


def _top_level(op: ir.Operation) -> ir.Operation:
    """The op of the function's body that holds `op`."""
    while op_of(op.parent).name != "func.func":
        op = op_of(op.parent)
    return op


def _recompute(view: ir.Operation, row: _Row, plan: list[tuple[ir.Operation, int]],
               lo: int) -> None:
    """Replace each load of the value row's `view` (in the reverse pass) by the value's
    operations on the saved row of the same time index."""
    with ir.InsertionPoint.after(view), view.location:
        full = _full_view(row.alloc.results[0], view, row.alloc.operands[1])
    loads = [use.owner.operation if hasattr(use.owner, "operation") else use.owner
             for use in view.results[0].uses]
    for load in loads:
        position = load.operands[1]
        mapping: dict[ir.Value, ir.Value] = {}
        with ir.InsertionPoint(_top_level(load)), load.location:  # loop invariants
            shifts = {c: _index(c - lo) for op, c in plan if op.name == "memref.load"}
        with ir.InsertionPoint(load), load.location:
            for op, c in plan:
                if op.name == "memref.load":
                    at = position if c - lo == 0 else \
                        arith.AddIOp(position, shifts[c]).result
                    new = memref.LoadOp(full, [at]).result
                else:
                    copy = op.clone()
                    for k, operand in enumerate(copy.operands):
                        if operand in mapping:
                            copy.operands[k] = mapping[operand]
                    new = copy.results[0]
                mapping[op.results[0]] = new
            load.results[0].replace_all_uses_with(mapping[plan[-1][0].results[0]])
        load.erase()
