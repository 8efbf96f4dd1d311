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
`fold_sums` (run after adjointsums.py has marked the reassociable adjoint sums) then moves
the sums `acc + e` of the remaining loop (the heat equation's `dk += dun[i] * dt * lap_i`; all
of them, each marked `reassoc`, and only when the rewrite made one group of gather loops)
into those gather loops: each adds e of iteration t + d (d: the member delta whose
ops share most with e's, so LLVM computes them once; guarded loops only for iterations in
range), from -0.0, and the carried sum takes their total once per run. When the loop is then
left storing only loop-invariant values (Enzyme's zeroing of the adjoints it read, and stores
of values just loaded back to their element), those stores move into the gather loops too, each after the last read of its element (iteration
t + z; the loops run t monotonically, so z = dmin ascending and dmax descending), and the
loop disappears (no per-step loop left for LLVM to turn into a `memset` call). The sums
change by rounding only (a reordered sum, as adjointsums.py allows); every element is
written with the same value as before.
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
"""Tag of a rewritten loop: the positions of its carried sums that `fold_sums` may move."""
FOLD_GATHER: Final = "ember.fold_gather"
"""Tag of a gather loop carrying those sums: [s, d, guarded, z, single] (its element t is
s * iv; it adds the terms of iteration t + d; iteration t + z reads last at t; single: the
rewrite made one group of gather loops)."""

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
        loops = [o for o in _walk(op) if o.name == "scf.for"]
        done += sum(_Loop(loop, spec.shadows()).run() for loop in loops)
    return done


def _walk(op: ir.Operation) -> list[ir.Operation]:
    found = []
    for region in op.regions:
        for block in region.blocks:
            for child in block.operations:
                found.append(child.operation)
                found.extend(_walk(child.operation))
    return found


# --- analysis --------------------------------------------------------------------------------


def _is_index(t: ir.Type) -> bool:
    return isinstance(t, ir.IndexType) or (isinstance(t, ir.IntegerType) and t.width == 64)


def _roots(v: ir.Value, shadows: frozenset[int]) -> frozenset[Root] | None:
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
        r = _roots(s, shadows)
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
        if add is None or add.name not in NEUTRAL or _uses(add.results[0]) != 1:
            return None
        sides = add.operands[:1] if add.name == "arith.subf" else add.operands
        for load in (defining(x) for x in sides):
            if load is not None and load.name == "memref.load" and \
                    list(load.operands) == list(store.operands)[1:] and \
                    _uses(load.results[0]) == 1 and add.operands[0] != add.operands[1]:
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
        roots = {d: _roots(d, self.shadows) for d in targets}
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
            add = _sum_add(acc, self.body[-1], r)
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
                r = _roots(x, self.shadows)
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
            mine = _roots(load.operands[0], self.shadows)
            for store in (op for op in others if op.name == "memref.store"):
                theirs = _roots(store.operands[1], self.shadows)
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


def _index(v: int) -> ir.Value:
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
    p, q = (_roots(v, lp.shadows) for v in list(a.operands)[1:])
    if p is None or q is None or len(p) != 1 or len(q) != 1 or p == q or \
            any(not isinstance(r, ir.Operation) for r in p | q):
        return None
    return a, b


def _substitute(block: ir.Block, mapping: dict[ir.Value, ir.Value]) -> None:
    """Replace the uses of `mapping`'s keys by its values in `block` (nested ops too)."""
    for view in block.operations:
        for op in (view.operation, *_walk(view.operation)):
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
        start = arith.SubIOp(lo, _index(dmax)).result
        a = arith.SubIOp(arith.MinSIOp(lo, hi).result, _index(dmin)).result
        b = arith.MaxSIOp(a, arith.SubIOp(hi, _index(dmax)).result).result
        end = arith.SubIOp(hi, _index(dmin)).result
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
                                 carried if g == 0 else [], (d, z, len(groups) == 1))
            carried = found if g == 0 else carried
    return carried


def _gather_loop(lp: _Loop, members: list[int], bounds: tuple[ir.Value, ir.Value], s: int,
                 guarded: bool, carried: list[ir.Value],
                 tag: tuple[int, int, bool]) -> list[ir.Value]:
    """One loop over t in [first, last); for a descending index (s = -1) it runs over
    u = -t, so that the elements it touches ascend in memory (LLVM's vectorizer then needs no
    wrap checks on reversed addresses, which failed at run time). It carries `carried`
    unchanged, tagged for `fold_sums` with `tag` (d, z, one group only)."""
    first, last = bounds
    if s < 0:
        first, last = (arith.SubIOp(_index(1), x).result for x in (last, first))
    outer = scf.ForOp(first, last, _index(1), carried)
    outer.operation.attributes["loop_annotation"] = ir.Attribute.parse(
        LOOPS[guarded])  # not rowloops.py's scalar row loops
    outer.operation.attributes[GATHER] = ir.UnitAttr.get()
    if carried:
        outer.operation.attributes[FOLD_GATHER] = ir.DenseI64ArrayAttr.get(
            [s, tag[0], int(guarded), tag[1], int(tag[2])])
    with ir.InsertionPoint(outer.body):
        u = outer.induction_variable
        t = _nsw(arith.SubIOp(_index(0), u).operation).results[0] if s < 0 else u
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
            at = _shift(t, u.delta)
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


def _shift(t: ir.Value, delta: int) -> ir.Value:
    return t if delta == 0 else _nsw(arith.AddIOp(t, _index(delta)).operation).results[0]


def _nsw(op: ir.Operation) -> ir.Operation:
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
    return _clone(ops, {lp.iv: _shift(t, delta)})


def _clone(ops: list[ir.Operation], memo: dict[ir.Value, ir.Value]) -> dict[ir.Value, ir.Value]:
    """Clone `ops` (body order) at the insertion point, their operands mapped by `memo`, which
    gains each result's copy."""
    for op in ops:
        copy = op.clone()
        for k, v in enumerate(op.operands):
            copy.operands[k] = memo.get(v, v)
        if op.name in LINEAR:
            _nsw(copy)
        for old, new in zip(op.results, copy.results, strict=True):
            memo[old] = new
    return memo


def _uses(v: ir.Value) -> int:
    return sum(1 for _ in v.uses)


def _sum_add(acc: ir.Value, yield_op: ir.Operation, r: int) -> ir.Operation | None:
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


def fold_sums(module: ir.Module, spec: ADSpec) -> int:
    """Move the reassociable sums of the loops `gather_scatter` rewrote into their gather
    loops (module docstring); returns how many sums moved."""
    done = 0
    for op in derivative_functions(module, spec.fn):
        loops = [loop for loop in _walk(op) if FOLD_SUMS in loop.attributes]
        done += sum(_fold(loop) for loop in loops)
        for tagged in _walk(op):  # (_fold may erase a loop)
            for name in (FOLD_SUMS, FOLD_GATHER):
                if name in tagged.attributes:
                    del tagged.attributes[name]
    return done


def _fold(loop: ir.Operation) -> int:
    """Fold the marked sums of the loop `loop` into the gather loops that carry them."""
    body = loop.regions[0].blocks[0]
    ops = [o.operation for o in body.operations]
    sums = list(ir.DenseI64ArrayAttr(loop.attributes[FOLD_SUMS]))
    chain: list[ir.Operation] = []
    value = loop.operands[3 + sums[0]]
    for _ in range(3):  # tail, main, head
        g = defining(value)
        if g is None or g.name != "scf.for" or FOLD_GATHER not in g.attributes:
            return 0
        chain.insert(0, g)
        value = g.operands[3]
    plan = []
    for k, r in enumerate(sums):
        acc = body.arguments[1 + r]
        add = _sum_add(acc, ops[-1], r)
        if add is None or op_of(add.parent) != loop or "fastmath" not in add.attributes or \
                "reassoc" not in str(add.attributes["fastmath"]) or \
                not _threads(chain, loop, k, 3 + r):
            return 0
        ops_e = _pure_slice(add.operands[1 if add.operands[0] == acc else 0], loop, ops)
        if ops_e is None:
            return 0
        plan.append((k, r, add, acc, ops_e))
    if not all(list(ir.DenseI64ArrayAttr(g.attributes[FOLD_GATHER]))[4] for g in chain):
        return 0  # (all sums and one group: else the loop may be left zeroing alone)
    for k, r, add, acc, ops_e in plan:
        for g in chain:
            _add_term(g, k, add, acc, ops_e, loop)
        _partial(chain, loop, k, 3 + r, add)
        add.results[0].replace_all_uses_with(acc)
        add.erase()
    _fold_stores(chain, loop)
    return len(plan)


def _fold_stores(chain: list[ir.Operation], loop: ir.Operation) -> None:
    """When `loop` (its sums gone) only stores loop-invariant values (Enzyme's zeroing of
    the adjoints it read) and stores back values it just loaded, store those values in the
    gather loops instead, each after the last read of its element (iteration t + z in the
    gather iteration t), and erase `loop`."""
    block = loop.regions[0].blocks[0]
    moved = _movable_stores(loop)
    outer = [v for store, ops in moved for op in (store, *ops) for v in op.operands
             if not inside(v, loop)]
    if not moved or not all(_precedes(v, chain[0]) for v in outer):
        return
    iv = block.arguments[0]
    lo, hi = loop.operands[0], loop.operands[1]
    for g in chain:
        s, _, guarded, z, _ = list(ir.DenseI64ArrayAttr(g.attributes[FOLD_GATHER]))
        gblock = g.regions[0].blocks[0]
        yield_op = list(gblock.operations)[-1].operation
        with ir.InsertionPoint(yield_op), g.location:
            u = gblock.arguments[0]
            t = _nsw(arith.SubIOp(_index(0), u).operation).results[0] if s < 0 else u
            at = _shift(t, z)
            if guarded:
                ok = arith.AndIOp(arith.CmpIOp(arith.CmpIPredicate.sge, at, lo).result,
                                  arith.CmpIOp(arith.CmpIPredicate.slt, at, hi).result).result
                branch = scf.IfOp(ok)
                with ir.InsertionPoint(branch.then_block):
                    _clone_stores(moved, iv, at)
                    scf.YieldOp([])
            else:
                _clone_stores(moved, iv, at)
    for r, result in enumerate(loop.results):
        result.replace_all_uses_with(loop.operands[3 + r])
    loop.erase()


def _precedes(value: ir.Value, anchor: ir.Operation) -> bool:
    """Whether `value` is defined before `anchor`: in an enclosing block, or in `anchor`'s
    block ahead of it."""
    op = defining(value)
    if op is None or op.block != anchor.block:
        return op is None or not inside(value, op_of(anchor.block.owner))
    ops = [o.operation for o in anchor.block.operations]
    return ops.index(op) < ops.index(anchor)


def _movable_stores(loop: ir.Operation) -> list[tuple[ir.Operation, list[ir.Operation]]]:
    """The stores of `loop` `_fold_stores` moves, each with the ops of its index; [] unless
    the body (its dead ops erased) holds nothing else but stores that change nothing."""
    block = loop.regions[0].blocks[0]
    for op in reversed([o.operation for o in block.operations][:-1]):
        if not op.regions and (op.name == "memref.load" or op.name.startswith(PURE)) and \
                all(_uses(r) == 0 for r in op.results):
            op.erase()
    body = [o.operation for o in block.operations]
    if any(y != block.arguments[1 + r] for r, y in enumerate(body[-1].operands)):
        return []
    moved = []
    for op in body[:-1]:
        if op.name == "memref.store" and not _reloaded(op, body):
            idx = [_pure_slice(x, loop, body) for x in list(op.operands)[2:]]
            if inside(op.operands[0], loop) or inside(op.operands[1], loop) or \
                    any(i is None or any(o.name == "memref.load" for o in i) for i in idx):
                return []
            moved.append((op, [o for o in body if any(o in i for i in idx if i)]))
        elif op.name == "memref.load":
            if not all(_reloaded(op_of(use.owner), body) for use in op.results[0].uses):
                return []
        elif op.name != "memref.store" and (op.regions or not op.name.startswith(PURE)):
            return []
    return moved


def _reloaded(store: ir.Operation | None, body: list[ir.Operation]) -> bool:
    """`store` (in `body`) puts back, at the same element, a value loaded from it with no
    store in between: it changes nothing."""
    if store is None or store.name != "memref.store" or store not in body:
        return False
    load = defining(store.operands[0])
    if load is None or load.name != "memref.load" or load not in body or \
            list(load.operands) != list(store.operands)[1:]:
        return False
    between = body[body.index(load) + 1:body.index(store)]
    return not any(op.name == "memref.store" for op in between)


def _clone_stores(moved: list[tuple[ir.Operation, list[ir.Operation]]], iv: ir.Value,
                  at: ir.Value) -> None:
    """The stores of `moved` (each with the ops of its index) at iteration `at`."""
    for store, ops in moved:
        memo: dict[ir.Value, ir.Value] = {iv: at}
        for op in [*ops, store]:
            copy = op.clone()
            for n, v in enumerate(op.operands):
                copy.operands[n] = memo.get(v, v)
            if op.name in LINEAR:
                _nsw(copy)
            for old, new in zip(op.results, copy.results, strict=True):
                memo[old] = new


def _partial(chain: list[ir.Operation], loop: ir.Operation, k: int, at: int,
             add: ir.Operation) -> None:
    """Let the gather loops sum from -0.0 (a partial sum per run of the loops, not a chain
    through all of them) and add that partial sum to the carried one after them."""
    init = chain[0].operands[3 + k]
    with ir.InsertionPoint(chain[0]), chain[0].location:
        chain[0].operands[3 + k] = arith.ConstantOp(init.type, NEUTRAL["arith.addf"]).result
    with ir.InsertionPoint(loop), loop.location:
        total = add.clone()
        total.operands[0] = init
        total.operands[1] = chain[-1].results[k]
    loop.operands[at] = total.results[0]


def _threads(chain: list[ir.Operation], loop: ir.Operation, k: int, at: int) -> bool:
    """Whether the gather loops `chain` carry their k-th value from one to the next and
    into operand `at` of `loop`."""
    ends = [*chain[1:], loop]
    return all(nxt.operands[3 + k if nxt != loop else at] == g.results[k]
               for g, nxt in zip(chain, ends, strict=True))


def _pure_slice(value: ir.Value, loop: ir.Operation,
                body: list[ir.Operation]) -> list[ir.Operation] | None:
    """The loads and arithmetic of `loop`'s body that compute `value`, in body order; None
    if it uses another op or a loop-carried value."""
    iv = loop.regions[0].blocks[0].arguments[0]
    needed: set[ir.Operation] = set()
    stack = [value]
    while stack:
        v = stack.pop()
        if v == iv or not inside(v, loop):
            continue
        op = defining(v)
        if op is None or op_of(op.parent) != loop or op.regions or not (
                op.name == "memref.load" or op.name.startswith(PURE)):
            return None
        if op not in needed:
            needed.add(op)
            stack.extend(op.operands)
    return [op for op in body if op in needed]


def _add_term(g: ir.Operation, k: int, add: ir.Operation, acc: ir.Value,
              ops: list[ir.Operation], loop: ir.Operation) -> None:
    """In the gather loop `g`: its k-th carried value plus the term of iteration t + d (for
    t the gather loop's element; a guarded loop adds only iterations in `loop`'s range)."""
    s, d, guarded = list(ir.DenseI64ArrayAttr(g.attributes[FOLD_GATHER]))[:3]
    block = g.regions[0].blocks[0]
    yield_op = list(block.operations)[-1].operation
    e = add.operands[1 if add.operands[0] == acc else 0]
    iv = loop.regions[0].blocks[0].arguments[0]
    lo, hi = loop.operands[0], loop.operands[1]
    first = list(block.operations)[0].operation
    with ir.InsertionPoint(first), g.location:  # before the stores: loads shared (CSE)
        u = block.arguments[0]
        t = _nsw(arith.SubIOp(_index(0), u).operation).results[0] if s < 0 else u
        at = _shift(t, d)
        if guarded:
            ok = arith.AndIOp(arith.CmpIOp(arith.CmpIPredicate.sge, at, lo).result,
                              arith.CmpIOp(arith.CmpIPredicate.slt, at, hi).result).result
            branch = scf.IfOp(ok, [e.type], has_else=True)
            with ir.InsertionPoint(branch.then_block):
                scf.YieldOp([_clone_term(ops, iv, at, e)])
            with ir.InsertionPoint(branch.else_block):
                scf.YieldOp([arith.ConstantOp(e.type, NEUTRAL["arith.addf"]).result])
            term = branch.results[0]
        else:
            term = _clone_term(ops, iv, at, e)
        new = add.clone()
        pos = 0 if add.operands[0] == acc else 1
        new.operands[pos] = block.arguments[1 + k]
        new.operands[1 - pos] = term
    yield_op.operands[k] = new.results[0]


def _clone_term(ops: list[ir.Operation], iv: ir.Value, at: ir.Value, e: ir.Value) -> ir.Value:
    """Clone `ops` at the insertion point with `iv` replaced by `at`; the copy of `e`."""
    return _clone(ops, {iv: at}).get(e, e)
