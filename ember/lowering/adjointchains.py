"""Shorter loop-carried adjoint chains in reverse loops (after Enzyme, opt_level >= 2).

A reverse loop carries the adjoints of the primal's loop-carried scalars from one iteration
to the next; when its body does little else (an ODE stepped in time: `x = x + dt * v`,
`v = v + dt * a(x, v)`), the loop runs at the latency of that carried chain, not at the
processor's throughput. Enzyme builds each adjoint as it meets the uses in reverse order,
so the carried value enters first and every later term waits for it: Van der Pol's `dx`
goes through five dependent adds per step (`((((dx + t) + t) - u) + w) + w`), and a term
linear in a carried adjoint multiplies it first (`(((dv * dt) * v) * mu) * x`), so four
multiplies lie between `dv` and the next `dx`.

`shorten_chains` rebuilds, inside the loop bodies of the derivative function `diffe<fn>`,
each tree of `arith.addf`/`arith.subf` (and of `arith.mulf`/`arith.negf`, a sign moved
onto a factor off the chain): the terms (factors) that do not depend on the loop's carried
values are combined first, in their order, then the rest, always the two that are ready
earliest (ready time: the latency from the loop's carried values, `LATENCY`), so the carried
value meets one add where it met five. A tree is rebuilt only where that makes its value
ready earlier. Inner nodes have one use, or (in one of two tries) lie on the chain and are
computed again for the tree while staying for their other uses. Each try works on a copy of
the loop, which replaces it only where a cost model says the loop gets faster: per
iteration, the longer of the carried chain and the float operations on two units (a loop
that waits on throughput, such as RK4's reverse with 156 float operations, gains nothing
from a shorter chain and loses from operations computed again). Only adjoint values are
touched: values that depend on the derivative's seed, on a shadow argument or on a carried
adjoint, never the primal values of the forward sweep (the returned value stays bitwise
equal). The derivative changes by rounding only (reordered sums and products, about 1e-16
relative per operation; 4e-16 on Van der Pol's gradient) and stays deterministic.
opt_level <= 1 keeps Enzyme's order, and so do second-order (`serial`) derivatives.
"""

from __future__ import annotations

from typing import Final

from mlir import ir
from mlir.dialects import arith

from ..ir.context import ops_where
from .enzyme import ADSpec
from .irquery import defining, derivative_functions, nested, op_of

LATENCY: Final = {"arith.addf": 4, "arith.subf": 4, "arith.mulf": 4, "arith.negf": 1,
                  "arith.divf": 14, "arith.select": 1, "memref.load": 5}
"""Cycles from operands to result by op (others: 4); only the order of ready times counts."""
_MAX_TERMS: Final = 16
"""Larger trees are left as they are (inner nodes with other uses are computed again)."""
_SUMS: Final = frozenset({"arith.addf", "arith.subf"})
_PRODUCTS: Final = frozenset({"arith.mulf", "arith.negf"})


def shorten_chains(module: ir.Module, spec: ADSpec) -> int:
    """Rebuild the trees of the module docstring in `diffe<spec.fn>`; returns how many."""
    if spec.mode != "reverse":
        return 0
    done = 0
    for func in derivative_functions(module, spec.fn):
        adjoint = _adjoint_values(func, spec)
        for loop in ops_where(func, lambda op: op.name == "scf.for"):  # inner loops first
            done += _shorten(loop, adjoint)
    return done


def _shorten(loop: ir.Operation, adjoint: set[ir.Value]) -> int:
    """Rebuild the trees of `loop` where that makes it faster by the cost model (the longer
    of its carried chain and its float operations on two units): on a copy, with and
    without computing shared nodes again; the best copy replaces the loop."""
    base = _Body(loop, adjoint, False).cost()
    if base[0] <= base[1]:  # throughput-bound: nothing to gain
        return 0
    best: tuple[float, int, ir.Operation] | None = None
    for again in (True, False):
        copy = loop.clone(ir.InsertionPoint(loop))
        mapping = _pair_values(loop, copy)
        adjoint.update(mapping[v] for v in list(mapping) if v in adjoint)
        done = _Body(copy, adjoint, again).rebuild()
        cost = max(_Body(copy, adjoint, again).cost())
        if done and cost < max(base) and (best is None or cost < best[0]):
            if best is not None:
                best[2].erase()
            best = (cost, done, copy)
        else:
            copy.erase()
    if best is None:
        return 0
    for old, new in zip(loop.results, best[2].results, strict=True):
        old.replace_all_uses_with(new)
    loop.erase()
    return best[1]


def _pair_values(loop: ir.Operation, copy: ir.Operation) -> dict[ir.Value, ir.Value]:
    """Each value defined by `loop` (results, block arguments, nested results) and its
    counterpart in `copy`, a clone of it."""
    pairs: dict[ir.Value, ir.Value] = {}
    for a, b in zip((loop, *nested(loop)), (copy, *nested(copy)), strict=True):
        pairs.update(zip(a.results, b.results, strict=True))
        for ra, rb in zip(a.regions, b.regions, strict=True):
            for ba, bb in zip(ra.blocks, rb.blocks, strict=True):
                pairs.update(zip(ba.arguments, bb.arguments, strict=True))
    return pairs


def _adjoint_values(func: ir.Operation, spec: ADSpec) -> set[ir.Value]:
    """Values that depend on the seed, a shadow argument or a loop-carried adjoint (a fixed
    point: the results and carried values of an `scf.for` or `scf.if` are adjoints where a
    yielded value or, for a loop, its start is one; those of other ops with regions never
    are, so no primal value is ever taken for an adjoint)."""
    args = list(func.regions[0].blocks[0].arguments)
    seeded = set(spec.shadows())
    if spec.result is not None and spec.ret_activity:
        seeded.add(len(args) - 1)
    adjoint = {args[k] for k in seeded if k < len(args)}
    ops = list(nested(func))
    while any([_spread(op, adjoint) for op in ops]):  # every op each round
        pass
    return adjoint


def _spread(op: ir.Operation, adjoint: set[ir.Value]) -> bool:
    """Add the values `op` makes adjoints of (the rules of `_adjoint_values`); returns
    whether any was new."""
    parent = op_of(op.parent)
    pairs: list[ir.Value] = []
    if op.name == "scf.yield" and parent is not None and parent.name in ("scf.for", "scf.if"):
        for r, value in enumerate(op.operands):
            if value in adjoint:
                pairs.append(parent.results[r])
                if parent.name == "scf.for":
                    pairs.append(parent.regions[0].blocks[0].arguments[1 + r])
    elif op.name == "scf.for":  # a carried value starting from an adjoint
        body = op.regions[0].blocks[0]
        for r, init in enumerate(list(op.operands)[3:]):
            if init in adjoint:
                pairs += [op.results[r], body.arguments[1 + r]]
    elif not op.regions and any(v in adjoint for v in op.operands):
        pairs = list(op.results)
    new = [v for v in pairs if v not in adjoint]
    adjoint.update(new)
    return bool(new)


def _flagged(op: ir.Operation) -> bool:
    """Whether `op` carries fast-math flags (another rewrite's, kept as they are)."""
    return "fastmath" in op.attributes and \
        str(op.attributes["fastmath"]) != "#arith.fastmath<none>"


def _used(op: ir.Operation) -> list[ir.Value]:
    """The operands of `op` and of the ops in its regions."""
    return [v for o in (op, *nested(op)) for v in o.operands]


class _Body:
    """One loop body: ready times of its values and the trees rebuilt in it (`again`:
    inner nodes with other uses on the chain are computed again)."""

    def __init__(self, loop: ir.Operation, adjoint: set[ir.Value], again: bool) -> None:
        self.block = loop.regions[0].blocks[0]
        self.adjoint = adjoint
        self.again = again
        self.ready: dict[ir.Value, int] = {v: 0 for v in list(self.block.arguments)[1:]
                                           if v in adjoint}

    def time(self, value: ir.Value) -> int | None:
        """Cycles after the carried values at which `value` is ready; None: independent."""
        return self.ready.get(value)

    def rebuild(self) -> int:
        """Rebuild the trees of the body (module docstring); returns how many."""
        done = 0
        for child in list(self.block.operations):
            op = child.operation
            self._time_results(op)
            if op.name in _SUMS | _PRODUCTS and self._root(op) and self._tree(op):
                done += 1
        return done

    def _time_results(self, op: ir.Operation) -> None:
        known = [t for t in (self.time(v) for v in _used(op)) if t is not None]
        if known:
            at = max(known) + LATENCY.get(op.name, 4)
            for r in op.results:
                self.ready[r] = at

    def cost(self) -> tuple[float, float]:
        """Cycles per iteration: (the carried chain, the float operations on two units)."""
        ops = list(self.block.operations)
        for child in ops:
            self._time_results(child.operation)
        work = sum(1 for o in (c.operation for c in ops) for x in (o, *nested(o))
                   if x.name.startswith("math.") or (x.name.startswith("arith.")
                                                     and x.name.endswith("f")))
        chain = max((self.time(v) or 0 for v in ops[-1].operation.operands), default=0)
        return float(chain), work / 2

    def _inner(self, value: ir.Value, kinds: frozenset[str]) -> ir.Operation | None:
        """The op making `value` when it is an inner node of a tree of `kinds`."""
        op = defining(value)
        if op is None or op.name not in kinds or op_of(op.parent) != op_of(self.block.owner):
            return None
        if _flagged(op) or value not in self.adjoint:
            return None
        # a node with other uses is computed again (it stays for them) where it lies on
        # the chain: its terms then need not wait for it
        again = self.again and self.time(value) is not None
        return op if len(list(value.uses)) == 1 or again else None

    def _root(self, op: ir.Operation) -> bool:
        """Whether `op` heads a tree: its value is an adjoint and not an inner node."""
        result = op.results[0]
        if result not in self.adjoint or _flagged(op):
            return False
        kinds = _SUMS if op.name in _SUMS else _PRODUCTS
        uses = list(result.uses)
        return not (len(uses) == 1 and op_of(uses[0].owner).name in kinds
                    and op_of(op_of(uses[0].owner).parent) == op_of(self.block.owner))

    def _tree(self, root: ir.Operation) -> bool:
        """Rebuild the tree under `root` where that makes it ready earlier."""
        kinds = _SUMS if root.name in _SUMS else _PRODUCTS
        terms: list[tuple[ir.Value, bool]] = []
        inner: list[ir.Operation] = []

        def flatten(value: ir.Value, negative: bool, top: bool) -> None:
            op = root if top else self._inner(value, kinds)
            if op is None:
                terms.append((value, negative))
                return
            inner.append(op)
            if op.name == "arith.negf":
                flatten(op.operands[0], not negative, False)
            elif op.name == "arith.mulf":
                flatten(op.operands[0], negative, False)
                flatten(op.operands[1], False, False)
            else:
                flatten(op.operands[0], negative, False)
                flatten(op.operands[1], negative != (op.name == "arith.subf"), False)

        flatten(root.results[0], False, True)
        if len(terms) > _MAX_TERMS or len(terms) < 3 or all(self.time(v) is None for v, _ in terms):
            return False
        plan = _Plan(kinds is _PRODUCTS, self.time)
        if plan.finish(terms) >= self.time(root.results[0]):
            return False
        with ir.InsertionPoint(root), root.location:
            value = plan.emit(terms)
        self.ready.update({v: t for v, t in plan.made.items() if t is not None})
        for v in (value, *(r for op in inner for r in op.results)):
            self.adjoint.add(v)
        root.results[0].replace_all_uses_with(value)
        for op in inner:  # root first, then its operands: each loses its last use in turn
            if not any(True for _ in op.results[0].uses):
                op.erase()
        return True


class _Plan:
    """The order of a rebuilt tree: independent terms first in their order, then the two
    ready earliest, repeatedly (`product`: multiplies, a sign per factor; else adds)."""

    def __init__(self, product: bool, time) -> None:
        self.product = product
        self.time = time
        self.made: dict[ir.Value, int | None] = {}

    def at(self, value: ir.Value) -> int | None:
        return self.made[value] if value in self.made else self.time(value)

    def finish(self, terms: list[tuple[ir.Value, bool]]) -> int:
        """The ready time of the rebuilt tree (without emitting it)."""
        times = [self.time(v) for v, _ in terms]
        known = sorted(t for t in times if t is not None)
        if len(known) < len(times):
            known = sorted([*known, -1])
        while len(known) > 1:
            a, b = known.pop(0), known.pop(0)
            known = sorted([*known, max(a, b, 0) + 4])
        odd = self.product and len(known) == len(times) and sum(n for _, n in terms) % 2
        return known[0] + (1 if odd else 0)

    def emit(self, terms: list[tuple[ir.Value, bool]]) -> ir.Value:
        free = [t for t in terms if self.time(t[0]) is None]
        timed = [t for t in terms if self.time(t[0]) is not None]
        items = [self._fold(free)] if free else []
        if self.product and items:  # every sign on the independent factor, off the chain
            odd = sum(n for _, n in terms) % 2 == 1
            items = [(self._negate(items[0][0]) if odd else items[0][0], False)]
            timed = [(v, False) for v, _ in timed]
        items += timed
        while len(items) > 1:
            items.sort(key=lambda t: -1 if self.at(t[0]) is None else self.at(t[0]))
            items = [self._pair(items[0], items[1]), *items[2:]]
        value, negative = items[0]
        return self._negate(value) if negative else value

    def _negate(self, value: ir.Value) -> ir.Value:
        out = arith.negf(value)
        at = self.at(value)
        self.made[out] = None if at is None else at + 1
        return out

    def _fold(self, terms: list[tuple[ir.Value, bool]]) -> tuple[ir.Value, bool]:
        out = terms[0]
        for t in terms[1:]:
            out = self._pair(out, t)
        return out

    def _pair(self, a: tuple[ir.Value, bool], b: tuple[ir.Value, bool]) -> tuple[ir.Value, bool]:
        (x, nx), (y, ny) = a, b
        if self.product:
            value, negative = arith.mulf(x, y), nx != ny
        elif nx == ny:
            value, negative = arith.addf(x, y), nx
        else:
            value, negative = (arith.subf(x, y), False) if ny else (arith.subf(y, x), False)
        times = [t for t in (self.at(x), self.at(y)) if t is not None]
        self.made[value] = max(times) + 4 if times else None
        return value, negative
