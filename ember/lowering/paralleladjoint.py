"""Parallel derivatives on the CPU: Enzyme's `scf.parallel` loops outlined onto libgomp.

Input: a derivative module out of Enzyme (lowering/enzyme.py) whose `prange` loops were
emitted as `scf.parallel` (ir/parallelfor.py). Enzyme 0.0.16 reverses such a loop as a whole:
a parallel forward sweep caching what the reverse needs in buffers of one slot per iteration,
then a parallel reverse sweep in which every shadow update is an `enzyme.atomic_rmw addf`
(`atomics_as_ops` renames them `ember.shadow_add` so MLIR 22 parses them). Output: the same
module in which each outermost `scf.parallel` is a call of a launcher (runtime/parlaunch.py:
GOMP_parallel, one contiguous chunk of iterations per thread) of an outlined worker
`W(lo, hi, thread, *captured, *partials)`, and no atomics:

* a shadow update whose first index is an injective function of the loop index, and whose
  array no other update of the loop reaches through another view, is iteration-private: a
  plain load/add/store; so is one through a row view `a[i]` made in the loop at such an
  index (`_private_row`);
* any other (a shared input's shadow, `dw[j] += ...` from every iteration) goes to the
  thread's own zeroed copy of the shadow (`partial[thread, ...]`); after the launch the kernel
  adds the copies to the shadow in thread order, so the result is the same bit for bit from
  run to run at a given thread count (it is a reassociation of the serial sum); with
  `@kernel(parallel_grads="atomic")` a `memref.atomic_rmw` instead (no copies, any order);
* an `scf.reduce` sum (an active scalar read by every iteration) is a partial sum per thread,
  added in thread order too.

The serial loops Enzyme adds around them whose iterations are independent (the reverse of a
sum's loop, `dterms[n-1-k] += seed`: stores only into arrays the function allocated, at an
index injective in the loop's) are made parallel loops first (parallelforms.py).

Chosen over per-iteration adjoints (`enzyme-wrap`, no caches): those recompute the forward
sweep and are only valid when the loop overwrites nothing it reads. A loop is left serial
(its updates plain) when it updates any other view made in the loop, allocates memory its
sweep does not free or frees memory it did not allocate (the tape arena is per thread: runtime/arena.c), has several indices, or reduces other than by a sum; loops that
allocate in the primal are made serial before Enzyme (parallelforms.py), since the
allocation hoisting of temporaries.py would share the buffer between threads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from mlir import ir
from mlir.dialects import arith, func, memref, scf

from .irquery import defining, inside, nested, op_of
from .parallelforms import (
    add,
    find,
    independent_loops,
    injective,
    is_sum,
    loops,
    reduce_op,
    root,
    to_for,
    to_parallel,
)
from .rewrites import byte_bools

SHADOW_ADD: Final = "ember.shadow_add"
LAUNCHER: Final = "__ember_padj_"
"""Prefix of the launcher of each worker (defined in LLVM IR by runtime/parlaunch.py)."""
_MEMREF = r"memref<(?:[^<>]|<[^<>]*>)*>"
_ATOMIC = re.compile(
    r"(?P<res>%[\w#]+) = enzyme\.atomic_rmw addf (?P<val>%[\w#]+), (?P<mem>%[\w#]+)"
    r"\[(?P<idx>[^\]]*)\] monotonic(?: fastmath<\w+>)? : \((?P<ty>\w+), (?P<mt>" + _MEMREF
    + r")\) -> \w+")


def atomics_as_ops(text: str) -> str:
    """Enzyme's atomic shadow additions as generic `ember.shadow_add` ops (no enzyme dialect
    in MLIR 22): operands value, memref, indices; the result is the old value."""
    def generic(m: re.Match[str]) -> str:
        idx = [i.strip() for i in m["idx"].split(",") if i.strip()]
        operands = ", ".join([m["val"], m["mem"], *idx])
        types = ", ".join([m["ty"], m["mt"], *(["index"] * len(idx))])
        return f'{m["res"]} = "{SHADOW_ADD}"({operands}) : ({types}) -> {m["ty"]}'
    return _ATOMIC.sub(generic, text)


def parallelize(module: ir.Module, threads: bool = True, atomic: bool = False) -> int:
    """Outline every outermost parallel loop that can run on threads (none if not
    `threads`); the others become `scf.for`; plain shadow updates everywhere else. `atomic`:
    shared shadows are updated by `memref.atomic_rmw` instead of per-thread copies. Returns
    the number of loops outlined."""
    count = 0
    if threads:  # i1 caches as bytes now (rewrites.byte_bools retypes values, not signatures)
        byte_bools(module)
        for loop in independent_loops(module):
            to_parallel(loop)
    for loop in loops(module):
        if threads and _outlinable(loop):
            _Outline(module, loop, f"{_function(loop)}__padj{count}", atomic).run()
            count += 1
        elif all(is_sum(r) for r in reduce_op(loop).regions):
            to_for(loop)  # serial: the updates below become plain
    for op in [op for f in module.body.operations for op in nested(f.operation)
               if op.name == SHADOW_ADD]:
        _plain_add(op, op.operands[1], list(op.operands[2:]))
    return count


def _function(op: ir.Operation) -> str:
    parent = op_of(op.parent)
    while parent is not None and parent.name != "func.func":
        parent = op_of(parent.parent)
    assert parent is not None
    return ir.StringAttr(parent.attributes["sym_name"]).value


def _outlinable(loop: ir.Operation) -> bool:
    """One index; sums only; every allocation inside freed inside and nothing else freed
    (the tape arena is per thread: a forward sweep's per-iteration caches, freed by the
    reverse sweep on another thread, would corrupt it)."""
    par = loop.opview
    if len(par.lowerBound) != 1 or not all(is_sum(r) for r in reduce_op(loop).regions):
        return False
    inner = list(nested(loop))
    adds = [op for op in inner if op.name == SHADOW_ADD]
    iv = loop.regions[0].blocks[0].arguments[0]
    if not all(_private_row(op.operands[1], adds, iv, loop) for op in adds
               if inside(op.operands[1], loop)):
        return False  # an update through a view made in the loop: no partial copy of it
    allocs = [op.results[0] for op in inner if op.name in ("memref.alloc", "memref.alloca")]
    freed = [op.operands[0] for op in inner if op.name == "memref.dealloc"]
    return (all(any(a == f for f in freed) for a in allocs)
            and all(any(a == f for a in allocs) for f in freed))


def _private_row(m: ir.Value, adds: list[ir.Operation], iv: ir.Value,
                 loop: ir.Operation) -> bool:
    """Whether `m`, made in the loop, is the row `a[i]` of an array from outside at an index
    injective in the loop's, and every update of that array in the loop goes through it."""
    op = defining(m)
    if op is None or op.name != "memref.subview" or inside(op.operands[0], loop):
        return False
    view = op.opview
    sizes, offsets = list(view.static_sizes), list(view.static_offsets)
    rows = (ir.MemRefType(m.type).rank == ir.MemRefType(view.source.type).rank - 1
            and sizes[0] == 1 and 1 not in sizes[1:]
            and offsets[0] == ir.ShapedType.get_dynamic_stride_or_offset())
    base = root(view.source)
    return (rows and injective(list(view.offsets)[0], iv, loop)
            and all(a.operands[1] == m for a in adds if root(a.operands[1]) == base))


def _atomic_add(op: ir.Operation) -> None:
    """An `ember.shadow_add` as `memref.atomic_rmw addf` (the opt-in: parallel_grads)."""
    value, target, *indices = op.operands
    kind = (arith.AtomicRMWKind.addf if isinstance(value.type, ir.FloatType)
            else arith.AtomicRMWKind.addi)
    with ir.InsertionPoint(op), op.location:
        old = memref.atomic_rmw(kind, value, target, indices)
    op.results[0].replace_all_uses_with(old)
    op.erase()


def _plain_add(op: ir.Operation, target: ir.Value, indices: list[ir.Value]) -> None:
    """An `ember.shadow_add` as load, add, store (its result: the old value)."""
    with ir.InsertionPoint(op), op.location:
        old = memref.load(target, indices)
        memref.store(add(old, op.operands[0]), target, indices)
    op.results[0].replace_all_uses_with(old)
    op.erase()


class _Outline:
    """One parallel loop -> a worker function, its launch, and the thread-order combines."""

    def __init__(self, module: ir.Module, loop: ir.Operation, name: str,
                 atomic: bool) -> None:
        self.module, self.loop, self.name, self.atomic = module, loop, name, atomic
        par = loop.opview
        self.captured = [v for v in (par.lowerBound[0], par.step[0]) if _constant_op(v) is None]
        for op in nested(loop):
            for v in op.operands:
                if not inside(v, loop) and not any(v == c for c in self.captured) \
                        and _constant_op(v) is None:
                    self.captured.append(v)
        adds = [op for op in nested(loop) if op.name == SHADOW_ADD]
        iv = loop.regions[0].blocks[0].arguments[0]
        shared = [m for m in _targets(adds)  # rows made in the loop: _private_row
                  if not inside(m, loop) and not _private(m, adds, iv, loop)]
        self.atomics = shared if atomic else []
        self.shared = [] if atomic else shared
        self.sums = [v.type for v in reduce_op(loop).operands]

    def run(self) -> None:
        worker = self.worker()
        with ir.InsertionPoint(self.loop), self.loop.location:
            self.launch(worker)
        self.loop.erase()

    def worker(self) -> func.FuncOp:
        index = ir.IndexType.get()
        partials = [_partial_type(m.type) for m in self.shared]
        sums = [_buffer_type(t) for t in self.sums]
        inputs = [index, index, index, *(v.type for v in self.captured), *partials, *sums]
        with ir.InsertionPoint(self.module.body), self.loop.location:
            worker = func.FuncOp(self.name, ir.FunctionType.get(inputs, []))
            entry = worker.add_entry_block()
        args = list(entry.arguments)
        lo, hi, tid = args[:3]
        mapped = args[3:3 + len(self.captured)]
        slots = args[3 + len(self.captured):3 + len(self.captured) + len(partials)]
        with ir.InsertionPoint(entry), self.loop.location:
            for slot in slots:
                _zero_slice(slot, tid)
            results = self.chunk(lo, hi, mapped)
            for value, buffer in zip(results, args[len(args) - len(sums):], strict=True):
                memref.store(value, buffer, [tid])
            func.ReturnOp([])
        self.redirect(worker, mapped, slots, tid)
        return worker

    def chunk(self, lo: ir.Value, hi: ir.Value, mapped: list[ir.Value]) -> list[ir.Value]:
        """The loop over this thread's iterations (the loop's body moved in)."""
        par, body = self.loop.opview, self.loop.regions[0].blocks[0]
        zeros = [_zero(t) for t in self.sums]
        loop = scf.ForOp(lo, hi, arith.constant(ir.IndexType.get(), 1), zeros)
        with ir.InsertionPoint(loop.body):
            lb, step = (self._value(v, mapped) for v in (par.lowerBound[0], par.step[0]))
            k = loop.induction_variable
            iv = arith.addi(lb, arith.muli(k, step))
        body.arguments[0].replace_all_uses_with(iv)
        reduce = reduce_op(self.loop)
        for op in list(body.operations)[:-1]:
            loop.body.append(op)
        with ir.InsertionPoint(loop.body):
            scf.YieldOp([add(acc, v) for acc, v in zip(loop.inner_iter_args, reduce.operands,
                                                        strict=True)])
        return list(loop.results)

    def _value(self, v: ir.Value, mapped: list[ir.Value]) -> ir.Value:
        """`v` (a bound of the loop) inside the worker."""
        for c, m in zip(self.captured, mapped, strict=True):
            if v == c:
                return m
        op = _constant_op(v)
        assert op is not None
        return op.clone().results[0]

    def redirect(self, worker: func.FuncOp, mapped: list[ir.Value], slots: list[ir.Value],
                 tid: ir.Value) -> None:
        """Captured values -> the worker's parameters (constants cloned); shadow additions ->
        plain, into the thread's partial copy for shared shadows."""
        for op in list(nested(worker.operation)):
            for j, v in enumerate(list(op.operands)):
                k = find(self.captured, v)
                if k is not None:
                    op.operands[j] = mapped[k]
                elif not inside(v, worker.operation) and (c := _constant_op(v)) is not None:
                    with ir.InsertionPoint.at_block_begin(worker.entry_block):
                        op.operands[j] = c.clone().results[0]
        shared = [mapped[find(self.captured, m)] for m in self.shared]  # type: ignore[index]
        atomics = [mapped[find(self.captured, m)] for m in self.atomics]  # type: ignore[index]
        for op in [op for op in nested(worker.operation) if op.name == SHADOW_ADD]:
            k = find(shared, op.operands[1])
            if find(atomics, op.operands[1]) is not None:
                _atomic_add(op)
            elif k is None:
                _plain_add(op, op.operands[1], list(op.operands[2:]))
            else:
                _plain_add(op, slots[k], [tid, *op.operands[2:]])

    def launch(self, worker: func.FuncOp) -> None:
        """In the kernel: the buffers, the launch, and the thread-order combines."""
        index, i32 = ir.IndexType.get(), ir.IntegerType.get_signless(32)
        par = self.loop.opview
        trips = _trips(par.lowerBound[0], par.upperBound[0], par.step[0])
        most = func.call([i32], ir.FlatSymbolRefAttr.get(_extern(self.module,
                         "omp_get_max_threads", [], [i32])), [])
        slots = arith.index_cast(index, most)
        partials = [memref.alloc(_partial_type(m.type), [slots, *_padded(_sizes(m))], [])
                    for m in self.shared]
        sums = [memref.alloc(_buffer_type(t), [slots], []) for t in self.sums]
        operands = [trips, *self.captured, *partials, *sums]
        launcher = _extern(self.module, LAUNCHER + self.name, [v.type for v in operands], [i32])
        used = arith.index_cast(index, func.call([i32], ir.FlatSymbolRefAttr.get(launcher),
                                                 operands))
        for m, partial in zip(self.shared, partials, strict=True):
            _add_slices(m, partial, used)
            memref.dealloc(partial)
        for result, init, buffer in zip(self.loop.results, par.initVals, sums, strict=True):
            result.replace_all_uses_with(_add_slots(init, buffer, used))
            memref.dealloc(buffer)


def _constant_op(v: ir.Value) -> ir.Operation | None:
    op = defining(v)
    return op if op is not None and op.name == "arith.constant" else None


def _targets(adds: list[ir.Operation]) -> list[ir.Value]:
    out: list[ir.Value] = []
    for op in adds:
        if not any(op.operands[1] == m for m in out):
            out.append(op.operands[1])
    return out


def _private(m: ir.Value, adds: list[ir.Operation], iv: ir.Value, loop: ir.Operation) -> bool:
    """Whether every update of `m` in `loop` reaches an element no other iteration does."""
    if inside(m, loop) or not isinstance(m.type, ir.MemRefType):
        return False
    base = root(m)
    mine = [op for op in adds if op.operands[1] == m]
    others = [op for op in adds if op.operands[1] != m and root(op.operands[1]) == base]
    first = [op.operands[2] for op in mine if len(op.operands) > 2]
    return (not others and len(first) == len(mine)
            and all(f == first[0] for f in first) and injective(first[0], iv, loop))


def _partial_type(t: ir.Type) -> ir.MemRefType:
    m = ir.MemRefType(t)
    dyn = ir.ShapedType.get_dynamic_size()
    return ir.MemRefType.get([dyn] * (m.rank + 1), m.element_type)


def _buffer_type(t: ir.Type) -> ir.MemRefType:
    return ir.MemRefType.get([ir.ShapedType.get_dynamic_size()], t)


def _zero(t: ir.Type) -> ir.Value:
    if isinstance(t, ir.FloatType):
        return arith.constant(t, ir.FloatAttr.get(t, 0.0))
    return arith.constant(t, ir.IntegerAttr.get(t, 0))


def _sizes(m: ir.Value) -> list[ir.Value]:
    index = ir.IndexType.get()
    return [memref.dim(m, arith.constant(index, k)) for k in range(ir.MemRefType(m.type).rank)]


def _padded(sizes: list[ir.Value]) -> list[ir.Value]:
    """Sizes with 8 more elements on the last axis: two threads' copies never share a cache
    line (false sharing made two threads slower than one)."""
    if not sizes:
        return sizes
    return [*sizes[:-1], arith.addi(sizes[-1], arith.constant(ir.IndexType.get(), 8))]


def _nest(sizes: list[ir.Value], body: Callable[[list[ir.Value]], None]) -> None:
    """Loops over every index of `sizes` (row-major), `body(indices)` innermost."""
    index = ir.IndexType.get()
    ivs: list[ir.Value] = []
    points = []
    for size in sizes:
        loop = scf.ForOp(arith.constant(index, 0), size, arith.constant(index, 1))
        points.append(ir.InsertionPoint(loop.body))
        points[-1].__enter__()
        ivs.append(loop.induction_variable)
    body(ivs)
    for point in reversed(points):
        scf.YieldOp([])
        point.__exit__(None, None, None)


def _zero_slice(slot: ir.Value, tid: ir.Value) -> None:
    rank = ir.MemRefType(slot.type).rank
    index = ir.IndexType.get()
    sizes = [memref.dim(slot, arith.constant(index, k)) for k in range(1, rank)]
    zero = _zero(ir.MemRefType(slot.type).element_type)
    _nest(sizes, lambda ivs: memref.store(zero, slot, [tid, *ivs]))


def _add_slices(m: ir.Value, partial: ir.Value, used: ir.Value) -> None:
    """m += partial[t] for t = 0, 1, ... in order (the thread loop outermost)."""
    def accumulate(ivs: list[ir.Value]) -> None:
        t, point = ivs[0], ivs[1:]
        memref.store(add(memref.load(m, point), memref.load(partial, [t, *point])), m, point)
    _nest([used, *_sizes(m)], accumulate)


def _add_slots(init: ir.Value, buffer: ir.Value, used: ir.Value) -> ir.Value:
    index = ir.IndexType.get()
    loop = scf.ForOp(arith.constant(index, 0), used, arith.constant(index, 1), [init])
    with ir.InsertionPoint(loop.body):
        value = memref.load(buffer, [loop.induction_variable])
        scf.YieldOp([add(loop.inner_iter_args[0], value)])
    return loop.results[0]


def _trips(lb: ir.Value, ub: ir.Value, step: ir.Value) -> ir.Value:
    index = ir.IndexType.get()
    zero = arith.constant(index, 0)
    return arith.maxsi(arith.ceildivsi(arith.subi(ub, lb), step), zero)


def _extern(module: ir.Module, name: str, inputs: list[ir.Type],
            results: list[ir.Type]) -> str:
    for op in module.body.operations:
        if op.operation.name == "func.func" and \
                ir.StringAttr(op.attributes["sym_name"]).value == name:
            return name
    with ir.InsertionPoint.at_block_begin(module.body), ir.Location.unknown():
        decl = func.FuncOp(name, ir.FunctionType.get(inputs, results))
        decl.attributes["sym_visibility"] = ir.StringAttr.get("private")
    return name
