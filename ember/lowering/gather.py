"""Gather form of Enzyme's scatter-form stencil adjoints (after Enzyme, opt_level >= 2).

The reverse of a stencil loop `un[i] = f(u[i-1], u[i], u[i+1])` comes out of Enzyme in
SCATTER form: iteration i adds to `du[i-1]`, `du[i]` and `du[i+1]` (`load; addf; store`
"update triples") and zeroes `dun[i]` after reading it: a read-modify-write chain through
memory from one iteration to the next that neither vectorizes nor pipelines. `gather_scatter`
rewrites such an `scf.for` over iv in [lo, hi) (step 1) into
* gather loops over t that give each element its contributions at once:
  `d[q(t)] = d[q(t)] + e_k(t + delta_k) + ...` where update k writes `d[q(iv) + c_k]`
  (delta_k = -c_k for an ascending index, +c_k for a descending one), each e_k recomputed from
  its own ops at the shifted iteration; the boundary iterations (where some t + delta_k falls
  outside [lo, hi)) run in guarded head and tail loops, the rest unguarded (vectorizable);
* then the loop itself without the update triples (the reads and zeroing of `dun`, scalar
  reductions: unchanged, in the original order).
Each element receives its contributions in the scatter form's order (increasing iteration,
then body order; an absent one adds -0.0 or subtracts 0.0, the exact identities), so
gradients stay bitwise equal. The unguarded gather loop is marked for LLVM's vectorizer (and
so left alone by rowloops.py); a descending loop's gather loops run over -t, so that they
walk memory upwards; their index arithmetic is marked `nsw`.

A loop qualifies when its body holds only arithmetic, loads and stores, and
* each updated buffer `d` is defined outside the loop, its roots (through views and selects)
  are allocations or shadow arguments, its updates index one dimension by +-iv plus constants
  (the other dimensions invariant, different updates differing by constants only), and at
  least one buffer has two offsets;
* no other op touches an updated buffer: where one may be the same allocation, the rewrite is
  versioned by a run-time check of the base pointers, the original loop running otherwise;
  two swapped buffers (`select(c, P, Q)` and `select(c', P, Q)` of two allocations, the only
  pair checked) get one version per order, `c != c'` and then `c`, in which the two are P and
  Q themselves (so LLVM sees two allocations and needs no overlap checks of its own);
* the e_k use no loop-carried value, read only memory the loop does not write, or written
  only at the same element by the same buffer value after the read (Enzyme's zeroing).
Anything else is left as Enzyme made it (also indices that go through Python's
negative-index wrap, `select(i < 0, i + n, i)`, which the frontend keeps where it cannot prove
an index non-negative: a loop like `for i in range(n - 2, 0, -1)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from mlir import ir
from mlir.dialects import arith, memref, scf

from .enzyme import ADSpec
from .irquery import VIEWS, constant, defining, derivative_functions, inside, op_of

PURE: Final = ("arith.", "math.")
"""Ops an update's value may be recomputed through, besides loads."""
LINEAR: Final = {"arith.addi": 1, "arith.subi": -1}
"""Index ops an affine index goes through (sign of the second operand)."""
CASTS: Final = frozenset({"arith.index_cast", "arith.index_castui"})
"""Casts between index and i64 an affine index goes through unchanged."""

LOOPS: Final = {False: "#llvm.loop_annotation<vectorize = <disable = false>>",
                True: "#llvm.loop_annotation<vectorize = <disable = true>>"}
"""Guarded (boundary) loop? -> its annotation: the unguarded gather loop is vectorized (each
element loaded and stored once: no store-forwarding stall), the few boundary trips not."""

NEUTRAL: Final = {"arith.addf": -0.0, "arith.subf": 0.0}
"""Update ops `d[j] = d[j] + e` / `d[j] = d[j] - e` -> the e that leaves every d[j] as it is
(x + -0.0 and x - 0.0 are x for every x, signed zeros included)."""

GATHER: Final = "ember.gather"
"""Tag of every gather loop (fastgather.py marks their float ops, then drops the tag)."""
FOLD_SUMS: Final = "ember.fold_sums"
"""Tag of a rewritten loop: the positions of its carried sums that foldsums.py may move."""
FOLD_GATHER: Final = "ember.fold_gather"
"""Tag of a gather loop carrying those sums: [s, d, guarded, z, single, dmin, dmax] (its
element t is s * iv; it adds the terms of iteration t + d; iteration t + z reads last at t;
single: the rewrite made one group of gather loops; its loops cover iterations t + delta for
every delta in [dmin, dmax], the main loop without guards)."""

Root = object
"""An allocation op, ('shadow', position) or 'args' (primal arguments: may alias each other)."""


@dataclass(frozen=True)
class Affine:
    """s * iv + sum(coef * invariant value) + c."""
    s: int
    terms: frozenset[tuple[ir.Value, int]]
    c: int

    def plus(self, other: Affine, sign: int) -> Affine:
        merged = dict(self.terms)
        for v, k in other.terms:
            merged[v] = merged.get(v, 0) + sign * k
        return Affine(self.s + sign * other.s,
                      frozenset((v, k) for v, k in merged.items() if k), self.c + sign * other.c)


@dataclass
class Update:
    """`v = load d[idx]; w = addf(v, e) (or (e, v)); store w, d[idx]` at d[... s*iv + B + c]."""
    load: ir.Operation
    add: ir.Operation
    store: ir.Operation
    dim: int
    s: int
    c: int
    key: tuple[object, ...]
    """Everything but c: updates with equal keys write the same elements at different c."""
    order: int

    @property
    def memref(self) -> ir.Value:
        return self.store.operands[1]

    @property
    def value(self) -> ir.Value:
        return self.add.operands[1 - self._pos]

    @property
    def _pos(self) -> int:
        return 0 if self.add.operands[0] == self.load.results[0] else 1

    @property
    def delta(self) -> int:
        return -self.s * self.c


def gather_scatter(module: ir.Module, spec: ADSpec) -> int:
    """Rewrite the scatter-form loops of the reverse derivative of `spec`; returns how many."""
    if spec.mode != "reverse":
        return 0
    done = 0
    for op in derivative_functions(module, spec.fn):
        loops = [o for o in walk_ops(op) if o.name == "scf.for"]
        done += sum(_Loop(loop, spec.shadows()).run() for loop in loops)
    return done


def walk_ops(op: ir.Operation) -> list[ir.Operation]:
    found = []
    for region in op.regions:
        for block in region.blocks:
            for child in block.operations:
                found.append(child.operation)
                found.extend(walk_ops(child.operation))
    return found


# --- analysis --------------------------------------------------------------------------------


def _is_index(t: ir.Type) -> bool:
    return isinstance(t, ir.IndexType) or (isinstance(t, ir.IntegerType) and t.width == 64)


def buffer_roots(v: ir.Value, shadows: frozenset[int]) -> frozenset[Root] | None:
    """The buffers `v` may view, None where unknown (a loaded memref, a loop-carried one)."""
    op = defining(v)
    if op is None:
        block = v.owner
        parent = op_of(block.owner)
        if parent is None or parent.name != "func.func":
            return None
        return frozenset({("shadow", v.arg_number) if v.arg_number in shadows else "args"})
    if op.name in ("memref.alloc", "memref.alloca"):
        return frozenset({op})
    if op.name not in VIEWS:
        return None
    sources = op.operands[1:3] if op.name == "arith.select" else op.operands[:1]
    found: set[Root] = set()
    for s in sources:
        r = buffer_roots(s, shadows)
        if r is None:
            return None
        found |= r
    return frozenset(found)


def _may_alias(a: frozenset[Root], b: frozenset[Root]) -> bool:
    return bool(a & b)


@dataclass
class _Loop:
    loop: ir.Operation
    shadows: frozenset[int]
    body: list[ir.Operation] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    checks: list[tuple[ir.Value, ir.Value]] = field(default_factory=list)
    slices: dict[int, list[ir.Operation]] = field(default_factory=dict)
    sums: list[int] = field(default_factory=list)
    """Positions of the loop-carried sums `acc + e` that `fold_sums` may move (see there)."""
    sum_ops: list[ir.Operation] = field(default_factory=list)
    """The ops computing the first sum's term."""

    @property
    def iv(self) -> ir.Value:
        return self.loop.regions[0].blocks[0].arguments[0]

    def run(self) -> int:
        if constant(self.loop.operands[2]) != 1:
            return 0
        self.body = [o.operation for o in self.loop.regions[0].blocks[0].operations]
        if not self._collect() or not self._memory_ok():
            return 0
        self.sums = self._carried_sums()
        _rewrite(self)
        return 1

    def affine(self, v: ir.Value) -> Affine | None:
        """`v` as an affine function of the loop's iv, None if it is not one."""
        if v == self.iv:
            return Affine(1, frozenset(), 0)
        k = constant(v)
        if isinstance(k, int) and not isinstance(k, bool):
            return Affine(0, frozenset(), k)
        op = defining(v)
        if op is None or not _is_index(v.type):
            return None if inside(v, self.loop) else Affine(0, frozenset({(v, 1)}), 0)
        found = self._affine_op(op)
        if found is None and not inside(v, self.loop):  # an invariant of its own
            return Affine(0, frozenset({(v, 1)}), 0)
        return found

    def _affine_op(self, op: ir.Operation) -> Affine | None:
        if op.name in CASTS and _is_index(op.operands[0].type):
            return self.affine(op.operands[0])
        if op.name in LINEAR:
            a, b = self.affine(op.operands[0]), self.affine(op.operands[1])
            return None if a is None or b is None else a.plus(b, LINEAR[op.name])
        return None

    def _collect(self) -> bool:
        """The update triples; False where the body has ops other than arithmetic and memory."""
        for op in self.body:
            if op.name in ("memref.load", "memref.store", "scf.yield") or \
                    (op.name.startswith(PURE) and not len(op.regions)):
                continue
            return False
        for n, op in enumerate(self.body):
            update = self._update(op, n) if op.name == "memref.store" else None
            if update is not None:
                self.updates.append(update)
        return self._consistent()

    def _update(self, store: ir.Operation, n: int) -> Update | None:
        add = defining(store.operands[0])
        if add is None or add.name not in NEUTRAL or use_count(add.results[0]) != 1:
            return None
        sides = add.operands[:1] if add.name == "arith.subf" else add.operands
        for load in (defining(x) for x in sides):
            if load is not None and load.name == "memref.load" and \
                    list(load.operands) == list(store.operands)[1:] and \
                    use_count(load.results[0]) == 1 and add.operands[0] != add.operands[1]:
                return self._placed(load, add, store, n)
        return None

    def _placed(self, load: ir.Operation, add: ir.Operation, store: ir.Operation,
                n: int) -> Update | None:
        forms = [self.affine(x) for x in list(store.operands)[2:]]
        if any(f is None for f in forms) or inside(store.operands[1], self.loop):
            return None
        moving = [d for d, f in enumerate(forms) if f is not None and f.s]
        if len(moving) != 1 or forms[moving[0]].s not in (1, -1):  # type: ignore[union-attr]
            return None
        dim = moving[0]
        f = forms[dim]
        assert f is not None
        key = (store.operands[1], dim, f.s, f.terms,
               tuple((g.terms, g.c) for d, g in enumerate(forms) if d != dim and g))
        return Update(load, add, store, dim, f.s, f.c, key, n)

    def _consistent(self) -> bool:
        """Updates of one buffer write elements that differ by constants only; at least one
        buffer has two offsets (else nothing is loop-carried)."""
        by_buffer: dict[ir.Value, set[object]] = {}
        for u in self.updates:
            by_buffer.setdefault(u.memref, set()).add(
                (u.dim, u.s, u.key[3], tuple(t for t, _ in u.key[4])))  # type: ignore[index]
        if any(len(shapes) != 1 for shapes in by_buffer.values()):
            return False
        groups: dict[tuple[object, ...], set[int]] = {}
        for u in self.updates:
            groups.setdefault(u.key, set()).add(u.c)
        return any(len(cs) > 1 for cs in groups.values())

    def _memory_ok(self) -> bool:
        """Aliasing and ordering rules of the module docstring; fills `checks`, `slices`."""
        triples = {id_ for u in self.updates for id_ in (u.load, u.add, u.store)}
        others = [op for op in self.body if op.name.startswith("memref.") and op not in triples]
        targets = {u.memref for u in self.updates}
        roots = {d: buffer_roots(d, self.shadows) for d in targets}
        if any(r is None or "args" in r for r in roots.values()):
            return False
        if not self._separate(others, roots):
            return False
        for n, u in enumerate(self.updates):
            ops = self._slice(u.value, triples)
            if ops is None or not self._reads_ok(ops, others):
                return False
            self.slices[n] = ops
        return True

    def _carried_sums(self) -> list[int]:
        """The loop-carried values that are sums `acc + e` (acc used by that add only, its
        result only yielded), e computed by the iteration like an update's value."""
        triples = {id_ for u in self.updates for id_ in (u.load, u.add, u.store)}
        others = [op for op in self.body if op.name.startswith("memref.") and op not in triples]
        block = self.loop.regions[0].blocks[0]
        found = []
        for r, acc in enumerate(list(block.arguments)[1:]):
            add = sum_add(acc, self.body[-1], r)
            if add is None or add not in self.body:
                continue
            ops = self._slice(add.operands[1 if add.operands[0] == acc else 0], triples)
            if ops is not None and self._reads_ok(ops, others):
                found.append(r)
                self.sum_ops = self.sum_ops or ops
        return found

    def _separate(self, others: list[ir.Operation],
                  roots: dict[ir.Value, frozenset[Root] | None]) -> bool:
        """Run-time checks between each updated buffer and every other buffer it may be."""
        pairs: list[tuple[ir.Value, ir.Value]] = []
        buffers = [op.operands[0 if op.name == "memref.load" else 1] for op in others]
        targets = list(roots)
        for i, d in enumerate(targets):
            for x in buffers + targets[i + 1:]:
                r = buffer_roots(x, self.shadows)
                if r is None or inside(x, self.loop) or x == d:  # read where it is updated
                    return False
                rd = roots[d]
                assert rd is not None
                if _may_alias(rd, r) and (d, x) not in pairs:
                    pairs.append((d, x))
        self.checks = pairs
        return True

    def _slice(self, value: ir.Value, triples: set[ir.Operation]) -> list[ir.Operation] | None:
        """The body ops `value` is computed by, in body order; None if it uses a loop-carried
        value or an update triple."""
        needed: set[ir.Operation] = set()
        stack = [value]
        while stack:
            v = stack.pop()
            if v == self.iv or not inside(v, self.loop):
                continue
            op = defining(v)
            if op is None or op in triples:
                return None
            if op not in needed:
                needed.add(op)
                stack.extend(op.operands)
        return [op for op in self.body if op in needed]

    def _reads_ok(self, ops: list[ir.Operation], others: list[ir.Operation]) -> bool:
        """Each load of the slice reads memory no iteration writes, or that its own iteration
        writes after it at the same element through the same buffer value."""
        for load in (op for op in ops if op.name == "memref.load"):
            mine = buffer_roots(load.operands[0], self.shadows)
            for store in (op for op in others if op.name == "memref.store"):
                theirs = buffer_roots(store.operands[1], self.shadows)
                if mine is None or theirs is None:
                    return False
                if _may_alias(mine, theirs) and not self._same_element(load, store):
                    return False  # ('args' in both: two arguments may be one array)
        return True

    def _same_element(self, load: ir.Operation, store: ir.Operation) -> bool:
        if load.operands[0] != store.operands[1] or \
                self.body.index(load) > self.body.index(store):
            return False
        mine = [self.affine(x) for x in list(load.operands)[1:]]
        theirs = [self.affine(x) for x in list(store.operands)[2:]]
        return None not in mine and mine == theirs and any(f.s for f in mine if f)


# --- rewrite ---------------------------------------------------------------------------------


def index_const(v: int) -> ir.Value:
    return arith.ConstantOp(ir.IndexType.get(), v).result


def _rewrite(lp: _Loop) -> None:
    """Gather loops, then the loop without its update triples; versioned when `checks`."""
    loop = lp.loop
    inits = [loop.operands[3 + r] for r in lp.sums]
    with ir.InsertionPoint(loop), loop.location:
        if not lp.checks:
            _carry(lp, loop, _gathers(lp, inits))
            _strip(lp, loop)
            return
        swap = _swapped_pair(lp)
        cond = _distinct(lp.checks) if swap is None else \
            arith.XOrIOp(swap[0].operands[0], swap[1].operands[0]).result
        branch = scf.IfOp(cond, [r.type for r in loop.results], has_else=True)
    for old, new in zip(loop.results, branch.results, strict=True):
        old.replace_all_uses_with(new)
    with ir.InsertionPoint(branch.then_block), loop.location:
        if swap is None:
            scf.YieldOp(_version(lp, inits))
        else:  # one version per order of the two buffers: LLVM sees two allocations
            inner = scf.IfOp(swap[0].operands[0], [r.type for r in loop.results],
                             has_else=True)
            scf.YieldOp(list(inner.results))
            for block, k in ((inner.then_block, 1), (inner.else_block, 2)):
                with ir.InsertionPoint(block):
                    yield_ = scf.YieldOp(_version(lp, inits))
                _substitute(block, {swap[0].results[0]: swap[0].operands[k],
                                    swap[1].results[0]: swap[1].operands[3 - k]})
    with ir.InsertionPoint(branch.else_block), loop.location:
        yield_ = scf.YieldOp(list(loop.results))
    loop.move_before(yield_.operation)


def _version(lp: _Loop, inits: list[ir.Value]) -> list[ir.Value]:
    """At the insertion point: the gather loops, then a copy of the loop without its update
    triples; its results."""
    finals = _gathers(lp, inits)
    copy = lp.loop.clone()
    _carry(lp, copy, finals)
    _strip(lp, copy)
    return list(copy.results)


def _swapped_pair(lp: _Loop) -> tuple[ir.Operation, ir.Operation] | None:
    """When the only run-time check is between two `select(c, P, Q)` / `select(c', P, Q)`
    of two different allocations P and Q (swapped buffers): the two selects."""
    pairs = {(a, b) for a, b in lp.checks}
    if len(pairs) != 1:
        return None
    a, b = (defining(v) for v in next(iter(pairs)))
    if a is None or b is None or a.name != "arith.select" or b.name != "arith.select" or \
            list(a.operands)[1:] != list(b.operands)[1:]:
        return None
    p, q = (buffer_roots(v, lp.shadows) for v in list(a.operands)[1:])
    if p is None or q is None or len(p) != 1 or len(q) != 1 or p == q or \
            any(not isinstance(r, ir.Operation) for r in p | q):
        return None
    return a, b


def _substitute(block: ir.Block, mapping: dict[ir.Value, ir.Value]) -> None:
    """Replace the uses of `mapping`'s keys by its values in `block` (nested ops too)."""
    for view in block.operations:
        for op in (view.operation, *walk_ops(view.operation)):
            for n, v in enumerate(op.operands):
                if v in mapping:
                    op.operands[n] = mapping[v]


def _distinct(pairs: list[tuple[ir.Value, ir.Value]]) -> ir.Value:
    """i1: every pair are different allocations (their base pointers differ)."""
    cond = None
    for a, b in pairs:
        pa = memref.ExtractAlignedPointerAsIndexOp(a).result
        pb = memref.ExtractAlignedPointerAsIndexOp(b).result
        ne = arith.CmpIOp(arith.CmpIPredicate.ne, pa, pb).result
        cond = ne if cond is None else arith.AndIOp(cond, ne).result
    assert cond is not None
    return cond


def _carry(lp: _Loop, loop: ir.Operation, finals: list[ir.Value]) -> None:
    """Start `loop`'s foldable sums (`lp.sums`) at the gather loops' results (which carry
    them unchanged until `fold_sums`) and tag it for `fold_sums`."""
    if not lp.sums:
        return
    for r, value in zip(lp.sums, finals, strict=True):
        loop.operands[3 + r] = value
    loop.attributes[FOLD_SUMS] = ir.DenseI64ArrayAttr.get(lp.sums)


def _strip(lp: _Loop, loop: ir.Operation) -> None:
    """Erase the update triples from `loop` (the original or its clone: the same body order)."""
    body = [o.operation for o in loop.regions[0].blocks[0].operations]
    for u in lp.updates:
        for op in (u.store, u.add, u.load):
            body[lp.body.index(op)].erase()


def _gathers(lp: _Loop, inits: list[ir.Value]) -> list[ir.Value]:
    """For each group of updates writing the same elements: head, main and tail loops; the
    first group's loops carry the values `inits` (unchanged: see `fold_sums`), returned."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for n, u in enumerate(lp.updates):
        groups.setdefault(u.key, []).append(n)
    lo, hi = lp.loop.operands[0], lp.loop.operands[1]
    carried = inits
    for g, members in enumerate(groups.values()):
        members.sort(key=lambda n: (lp.updates[n].delta, lp.updates[n].order))
        deltas = [lp.updates[n].delta for n in members]
        dmin, dmax = min(deltas), max(deltas)
        start = arith.SubIOp(lo, index_const(dmax)).result
        a = arith.SubIOp(arith.MinSIOp(lo, hi).result, index_const(dmin)).result
        b = arith.MaxSIOp(a, arith.SubIOp(hi, index_const(dmax)).result).result
        end = arith.SubIOp(hi, index_const(dmin)).result
        s = lp.updates[members[0]].s
        # the iteration t + d whose sum terms the loops add: a member's (so in range in the
        # main loop), the one sharing most ops with the first term (LLVM computes those once)
        d = lp.updates[max(members, key=lambda n: (
            sum(op in lp.sum_ops for op in lp.slices[n]), -abs(lp.updates[n].delta)))].delta
        # the last gather iteration reading iteration i's elements: t = i - z
        z = dmin if s > 0 else dmax
        parts = [(start, a, True), (a, b, False), (b, end, True)]
        for first, last, guarded in parts if s > 0 else parts[::-1]:  # t monotonic
            found = _gather_loop(lp, members, (first, last), s, guarded,
                                 carried if g == 0 else [], (d, z, len(groups) == 1, dmin, dmax))
            carried = found if g == 0 else carried
    return carried


def _gather_loop(lp: _Loop, members: list[int], bounds: tuple[ir.Value, ir.Value], s: int,
                 guarded: bool, carried: list[ir.Value],
                 tag: tuple[int, int, bool, int, int]) -> list[ir.Value]:
    """One loop over t in [first, last); for a descending index (s = -1) it runs over
    u = -t, so that the elements it touches ascend in memory (LLVM's vectorizer then needs no
    wrap checks on reversed addresses, which failed at run time). It carries `carried`
    unchanged, tagged for `fold_sums` with `tag` (d, z, one group only, dmin, dmax)."""
    first, last = bounds
    if s < 0:
        first, last = (arith.SubIOp(index_const(1), x).result for x in (last, first))
    outer = scf.ForOp(first, last, index_const(1), carried)
    outer.operation.attributes["loop_annotation"] = ir.Attribute.parse(
        LOOPS[guarded])  # not rowloops.py's scalar row loops
    outer.operation.attributes[GATHER] = ir.UnitAttr.get()
    if carried:
        outer.operation.attributes[FOLD_GATHER] = ir.DenseI64ArrayAttr.get(
            [s, tag[0], int(guarded), tag[1], int(tag[2]), tag[3], tag[4]])
    with ir.InsertionPoint(outer.body):
        u = outer.induction_variable
        t = nsw(arith.SubIOp(index_const(0), u).operation).results[0] if s < 0 else u
        _gather_body(lp, members, t, guarded)
        scf.YieldOp(list(outer.inner_iter_args))
    return list(outer.results)


def _gather_body(lp: _Loop, members: list[int], t: ir.Value, guarded: bool) -> None:
    """d[q(t)] = d[q(t)] + e_k(t + delta_k) + ... in the scatter form's order."""
    lo, hi = lp.loop.operands[0], lp.loop.operands[1]
    first = lp.updates[members[0]]
    memo = _clone_at(lp, _index_slice(lp, first.store), t, first.delta)
    idx = [memo.get(x, x) for x in list(first.store.operands)[2:]]
    acc = memref.LoadOp(first.memref, idx).result
    for n in members:
        u = lp.updates[n]
        if guarded:
            at = shifted(t, u.delta)
            ok = arith.AndIOp(arith.CmpIOp(arith.CmpIPredicate.sge, at, lo).result,
                              arith.CmpIOp(arith.CmpIPredicate.slt, at, hi).result).result
            branch = scf.IfOp(ok, [u.value.type], has_else=True)
            with ir.InsertionPoint(branch.then_block):
                scf.YieldOp([_value_at(lp, n, t)])
            with ir.InsertionPoint(branch.else_block):
                scf.YieldOp([arith.ConstantOp(u.value.type, NEUTRAL[u.add.name]).result])
            e = branch.results[0]
        else:
            e = _value_at(lp, n, t)
        add = u.add.clone()
        add.operands[u._pos] = acc
        add.operands[1 - u._pos] = e
        acc = add.results[0]
    memref.StoreOp(acc, first.memref, idx)


def shifted(t: ir.Value, delta: int) -> ir.Value:
    return t if delta == 0 else nsw(arith.AddIOp(t, index_const(delta)).operation).results[0]


def nsw(op: ir.Operation) -> ir.Operation:
    """Mark index arithmetic of the gather loops as not wrapping (positions of elements
    and iterations: far from the i64 limits), so that LLVM's vectorizer needs no run-time
    wrap checks on the addresses (which it builds too conservatively: they failed)."""
    op.attributes["overflowFlags"] = ir.Attribute.parse("#arith.overflow<nsw>")
    return op


def _index_slice(lp: _Loop, store: ir.Operation) -> list[ir.Operation]:
    ops: list[ir.Operation] = []
    for x in list(store.operands)[2:]:
        found = lp._slice(x, set())
        assert found is not None  # an affine index: arithmetic of the iv and invariants
        ops.extend(op for op in found if op not in ops)
    return [op for op in lp.body if op in ops]


def _value_at(lp: _Loop, n: int, t: ir.Value) -> ir.Value:
    u = lp.updates[n]
    memo = _clone_at(lp, lp.slices[n], t, u.delta)
    return memo.get(u.value, u.value)


def _clone_at(lp: _Loop, ops: list[ir.Operation], t: ir.Value,
              delta: int) -> dict[ir.Value, ir.Value]:
    """Clone `ops` (body order) at the insertion point with the iv replaced by t + delta."""
    return clone_ops(ops, {lp.iv: shifted(t, delta)})


def clone_ops(ops: list[ir.Operation], memo: dict[ir.Value, ir.Value]) -> dict[ir.Value, ir.Value]:
    """Clone `ops` (body order) at the insertion point, their operands mapped by `memo`, which
    gains each result's copy."""
    for op in ops:
        copy = op.clone()
        for k, v in enumerate(op.operands):
            copy.operands[k] = memo.get(v, v)
        if op.name in LINEAR:
            nsw(copy)
        for old, new in zip(op.results, copy.results, strict=True):
            memo[old] = new
    return memo


def use_count(v: ir.Value) -> int:
    return sum(1 for _ in v.uses)


def sum_add(acc: ir.Value, yield_op: ir.Operation, r: int) -> ir.Operation | None:
    """The `arith.addf` of `acc + e` (or `e + acc`) when that is acc's only use and the sum
    is only yielded, at position r."""
    users = [op_of(use.owner) for use in acc.uses]
    add = users[0] if len(users) == 1 else None
    if add is None or add.name != "arith.addf" or add.operands[0] == add.operands[1]:
        return None
    if [op_of(use.owner) for use in add.results[0].uses] != [yield_op] or \
            yield_op.operands[r] != add.results[0]:
        return None
    return add


# --- sums folded into the gather loops --------------------------------------------------------
