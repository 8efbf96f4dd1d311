"""Reload instead of saving: drop Enzyme caches of elements of arrays that no longer change.

Enzyme 0.0.16 saves every loaded element its reverse pass needs in a cache (after
`flatten-enzyme-caches`, a buffer with one leading axis per enclosing loop), also when the
array it came from is never written again: `x[s, i]` of a read-only input, the weights of a
layer, a table computed before the loop nest. For such a cache, `rematerialize_loads` replaces
every read of the cache in the reverse pass by a load of the array itself at the same element,
and the cache disappears (the clean-up stages remove the buffer): less memory traffic, the
same values bit for bit.

A cache qualifies when, in the derivative function:
* it is written by exactly one store and read only by loads (through `memref.subview`s that
  fix its leading axes), freed by a dealloc at most;
* the value stored is a load `A[idx]` or a small expression of such loads (`x[i] - mu[j]`, at
  most `MAX_OPS` arithmetic ops and loads), each reloadable as follows;
* every buffer `A` may view is an allocation or an argument of the function, and no write to
  it (to any primal argument, for an argument: two may be the same array) happens in or after
  the top-level op that holds the cache's store; shadow arguments (fresh gradient buffers,
  never the caller's arrays) are not primal arguments;
* `A` itself is defined before that op, and each index of the load is computed (pure integer
  arithmetic) from values defined before it and from the induction variables of the loops
  around the store, each of which is one of the cache's positions (Enzyme indexes caches by
  `iv`, `iv - lb` or `(iv - lb) / step`), so the reverse pass can recompute it from the
  position it reads.
Anything else is left as Enzyme made it.

`save_results` goes the other way where that is cheaper: a cache whose every reverse read only
feeds one math function the forward pass also applied to the value (`tanh(a)`, recomputed by
the adjoint of tanh) keeps that function's result instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, NamedTuple

from mlir import ir
from mlir.dialects import arith

from .enzyme import ADSpec
from .irquery import VIEWS, defining, is_iv, is_parallel_iv, nested, op_of, writes

_DYNAMIC: Final = ir.ShapedType.get_dynamic_size()
PURE: Final = ("arith.",)
"""Ops a cached value may be recomputed through (arithmetic, constants), besides loads."""
MAX_OPS: Final = 8
"""At most this many loads and float ops recompute one cached value (a few additions or
products of loaded elements): a cheap recomputation replaces the cache."""
MAX_INDEX_OPS: Final = 64
"""... and at most this many ops in all (index arithmetic included)."""


def rematerialize_loads(module: ir.Module, functions: dict[str, frozenset[int]],
                        distinct: bool = False) -> int:
    """Rewrite the derivative functions `functions` (name -> positions of their shadow
    arguments) in `module`; returns how many caches were replaced. `distinct`: different
    array arguments are different arrays (the GPU target's rule, docs/gpu.md)."""
    done = 0
    for view in module.body.operations:
        op = view.operation
        name = ir.StringAttr(op.attributes["sym_name"]).value if "sym_name" in op.attributes \
            else None
        if op.name == "func.func" and name in functions:
            done += _Function(op, functions[name], distinct).run()
    return done


@dataclass
class _Function:
    func: ir.Operation
    shadows: frozenset[int]
    distinct: bool = False
    """Array arguments never alias (else a write to one counts as a write to every one)."""
    top: dict[ir.Operation, int] = field(default_factory=dict)
    saved: dict[ir.Value, _Saved] = field(default_factory=dict)
    last_write: dict[object, int] = field(default_factory=dict)
    """Base buffer (a block argument's position or an alloc op) -> index of the last
    top-level op that writes it; 'args' stands for every primal argument."""

    def run(self) -> int:
        block = self.func.regions[0].blocks[0]
        self.block = block
        for k, op in enumerate(block.operations):
            self.top[op.operation] = k
        if not self._writes():
            return 0
        done = 0
        allocs = [op for op in nested(self.func) if op.name == "memref.alloc"]
        self.saved = self._saved_arguments(allocs)
        for alloc in allocs:
            done += self._replace(alloc) if op_of(alloc.parent) == self.func \
                else self._replace_nested(alloc)
        return done

    def _saved_arguments(self, allocs: list[ir.Operation]) -> dict[ir.Value, _Saved]:
        """Loop-carried values (block arguments: `p` of `p += n - i`) Enzyme saves in a
        cache of their own (one store): the reverse pass may read them there to recompute
        another cached value (an element of a packed array `a[p + j]`)."""
        saved = {}
        for alloc in allocs:
            uses = _Uses.of(alloc.result) if op_of(alloc.parent) == self.func else None
            if uses is not None and len(uses.stores) == 1:
                store, coords = uses.stores[0]
                if isinstance(store.operands[0].owner, ir.Block):
                    saved[store.operands[0]] = _Saved(alloc.result, coords)
        return saved

    # --- what is written where --------------------------------------------------------------

    def _writes(self) -> bool:
        """Fill `last_write`; False when some write goes to a buffer of unknown origin."""
        for op in nested(self.func):
            for k, operand in enumerate(op.operands):
                if not isinstance(operand.type, ir.MemRefType) or not writes(op, k):
                    continue
                bases = self._bases(operand)
                if bases is None:
                    return False
                where = self._top_of(op)
                for base in bases:
                    key = "args" if isinstance(base, int) and base not in self.shadows \
                        and not self.distinct else base
                    self.last_write[key] = max(self.last_write.get(key, -1), where)
        return True

    def _bases(self, value: ir.Value) -> set[object] | None:
        """Buffers `value` may view: argument positions (shadows excluded: they are their
        own buffers, named by position too) and alloc ops; None if unknown."""
        if isinstance(value.owner, ir.Block):
            if value.owner != self.block:
                return None
            return {value.arg_number}
        op = defining(value)
        if op is None:
            return None
        if op.name in ("memref.alloc", "memref.alloca"):
            return {op}
        if op.name == "arith.select":
            a, b = self._bases(op.operands[1]), self._bases(op.operands[2])
            return None if a is None or b is None else a | b
        if op.name in VIEWS:
            return self._bases(op.operands[0])
        return None

    def _top_of(self, op: ir.Operation) -> int:
        while op.parent is not None and op_of(op.parent) != self.func:
            op = op_of(op.parent)  # type: ignore[assignment]
        return self.top[op]

    def _last_write(self, base: object) -> int:
        if isinstance(base, int) and base not in self.shadows and not self.distinct:
            return self.last_write.get("args", -1)
        return self.last_write.get(base, -1)

    # --- one cache ---------------------------------------------------------------------------

    def _replace(self, alloc: ir.Operation) -> bool:
        """A cache allocated before the loops (one axis per enclosing loop)."""
        uses = _Uses.of(alloc.result)
        if uses is None or len(uses.stores) != 1 or not uses.loads:
            return False
        store, coords = uses.stores[0]
        return self._recompute(store, coords, uses.loads)

    def _replace_nested(self, buffer: ir.Operation) -> bool:
        """A cache allocated inside a loop whose trip count varies (`range(i + 1, n)`):
        Enzyme keeps each iteration's buffer in a cache of buffers, read back as `%m` in the
        reverse pass; positions are those of the outer cache, then those in the buffer."""
        inner = _Uses.of(buffer.result, escapes=True)
        if inner is None or len(inner.stores) != 1 or inner.loads or len(inner.escapes) != 1:
            return False
        keeper = inner.escapes[0]
        outer_alloc = _root(keeper.operands[1])
        outer = _Uses.of(outer_alloc.result) if outer_alloc is not None else None
        if outer is None or [s for s, _ in outer.stores] != [keeper]:
            return False
        reads: list[tuple[ir.Operation, list[ir.Value]]] = []
        for load, o in outer.loads:
            got = _Uses.of(load.results[0])
            if got is None or got.stores:
                return False
            reads += [(op, o + c) for op, c in got.loads]
        store, coords = inner.stores[0]
        keeper_coords = outer.stores[0][1]
        if not reads or not self._recompute(store, keeper_coords + coords, reads):
            return False
        freed = all([_unused_but_freed(load.results[0]) for load, _ in outer.loads])
        _unused_but_freed(buffer.result)  # erases its dead views
        if freed and [op_of(u.owner) for u in buffer.result.uses] == [keeper]:
            for load, _ in outer.loads:  # the buffers are no longer read: nor kept
                for use in list(load.results[0].uses):
                    op_of(use.owner).erase()  # type: ignore[union-attr]
                load.erase()
            keeper.erase()
            buffer.erase()
        return True

    def _recompute(self, store: ir.Operation, coords: list[ir.Value],
                   loads: list[tuple[ir.Operation, list[ir.Value]]]) -> bool:
        """Replace the reverse `loads` of what `store` saved at `coords` by recomputing it,
        if it can be (module docstring); then drop the store."""
        at = self._top_of(store)
        ivs = _iv_positions(coords)
        if ivs is None or not loads or any(self._top_of(load) <= at or len(rc) != len(coords)
                                           for load, rc in loads):
            return False
        value = store.operands[0]
        bounds = [v for how in ivs.values() for v in (how.lb, how.step) if v is not None]
        budget = [MAX_OPS, MAX_INDEX_OPS]
        if defining(value) is None or not all(
                self._recomputable(v, at, ivs, budget) for v in [value, *bounds]):
            return False
        for load, rcoords in loads:
            with ir.InsertionPoint(load), load.location:
                memo = self._map_ivs(ivs, rcoords, at)
                again = self._clone(value, at, ivs, memo)
            load.results[0].replace_all_uses_with(again)
            load.erase()
        store.erase()
        return True

    def _map_ivs(self, ivs: dict[ir.Value, _IV], rcoords: list[ir.Value],
                 at: int) -> dict[ir.Value, ir.Value]:
        """Forward induction variable -> its value at a reverse read at positions `rcoords`
        (outer loops first: an inner loop's bounds may use them), built at the current
        insertion point."""
        memo: dict[ir.Value, ir.Value] = {}
        for iv, how in sorted(ivs.items(), key=lambda item: item[1].position):
            value = rcoords[how.position]
            if how.step is not None:
                value = arith.muli(value, self._clone(how.step, at, ivs, memo))
            if how.lb is not None:
                value = arith.addi(value, self._clone(how.lb, at, ivs, memo))
            memo[iv] = value
        return memo

    def _available(self, value: ir.Value, at: int) -> bool:
        """Defined by a function argument or a top-level op before index `at`."""
        if isinstance(value.owner, ir.Block):
            return value.owner == self.block
        op = defining(value)
        return op is not None and op_of(op.parent) == self.func and self.top[op] < at

    def _recomputable(self, value: ir.Value, at: int, ivs: dict[ir.Value, _IV],
                      budget: list[int]) -> bool:
        """Whether the reverse pass can compute `value` again from the cache positions:
        pure arithmetic on values defined before the top-level op `at`, the loops' induction
        variables and loads of arrays unchanged from `at` on; `budget`: how many more float
        ops and ops in all it may take."""
        if value in ivs or self._available(value, at):
            return True
        op = defining(value)
        if op is None and value in self.saved:
            return all(self._recomputable(c, at, ivs, budget) for c in self.saved[value].coords)
        if op is None or len(op.regions) or budget[0] <= 0 or budget[1] <= 0:
            return False
        budget[1] -= 1
        if not isinstance(value.type, ir.IntegerType | ir.IndexType):
            budget[0] -= 1
        if op.name == "memref.load":
            source = op.operands[0]
            bases = self._bases(source)
            if bases is None or any(self._last_write(b) >= at for b in bases) or \
                    not self._available(source, at):
                return False
        elif not op.name.startswith(PURE):
            return False
        return all(self._recomputable(v, at, ivs, budget) for v in op.operands)

    def _clone(self, value: ir.Value, at: int, ivs: dict[ir.Value, _IV],
               memo: dict[ir.Value, ir.Value]) -> ir.Value:
        if value in memo:
            return memo[value]
        if self._available(value, at):
            return value
        op = defining(value)
        if op is None:  # a saved loop-carried value (_saved_arguments)
            cache, coords = self.saved[value]
            at_ = [self._clone(c, at, ivs, memo) for c in coords]
            load = ir.Operation.create("memref.load", results=[value.type],
                                       operands=[cache, *at_])
            memo[value] = load.results[0]
            return load.results[0]
        assert value not in ivs
        operands = [self._clone(operand, at, ivs, memo) for operand in op.operands]
        copy = op.clone()  # at the insertion point, after the operands' copies
        for k, operand in enumerate(operands):
            copy.operands[k] = operand
        memo[value] = copy.results[0]
        return copy.results[0]


@dataclass
class _Uses:
    stores: list[tuple[ir.Operation, list[ir.Value]]]
    loads: list[tuple[ir.Operation, list[ir.Value]]]
    escapes: list[ir.Operation] = field(default_factory=list)
    """Stores of the buffer itself into another buffer (a cache of buffers)."""

    @staticmethod
    def of(buffer: ir.Value, escapes: bool = False) -> _Uses | None:
        """Stores and loads of `buffer` through leading-axis subviews, with the full position
        of each (subview offsets, then indices); None if used any other way (with `escapes`,
        stores of the buffer itself as a value are collected, not refused)."""
        uses = _Uses([], [])
        return uses if uses._collect(buffer, [], escapes) else None

    def _collect(self, value: ir.Value, outer: list[ir.Value], escapes: bool) -> bool:
        for use in value.uses:
            op = op_of(use.owner)
            if op is None:
                return False
            if op.name in ("memref.dealloc", "memref.dim"):
                continue
            if op.name == "memref.load":
                self.loads.append((op, outer + list(op.operands)[1:]))
            elif op.name == "memref.store" and use.operand_number == 1:
                self.stores.append((op, outer + list(op.operands)[2:]))
            elif op.name == "memref.store" and escapes and not outer:
                self.escapes.append(op)
            elif op.name == "memref.subview":
                fixed = _fixed_axes(op)
                if fixed is None or not self._collect(op.results[0], outer + fixed, False):
                    return False
            else:
                return False
        return True


def _unused_but_freed(buffer: ir.Value) -> bool:
    """Whether `buffer` is only freed, once the views and sizes nobody uses are erased."""
    changed = True
    while changed:  # re-read the uses after each erasure (an erased op's uses are gone)
        changed = False
        for use in buffer.uses:
            op = op_of(use.owner)
            if op is not None and op.name in ("memref.subview", "memref.dim") and \
                    _erase_dead(op):
                changed = True
                break
    return all(op_of(use.owner).name == "memref.dealloc" for use in buffer.uses)  # type: ignore[union-attr]


def _erase_dead(op: ir.Operation) -> bool:
    """Erase `op` if its results are unused (then the views and sizes only it used, too)."""
    if any(len(list(r.uses)) for r in op.results):
        return False
    owners = [defining(v) for v in op.operands]
    op.erase()
    for owner in owners:
        if owner is not None and owner.name in ("memref.subview", "memref.dim"):
            _erase_dead(owner)
    return True


def _root(view: ir.Value) -> ir.Operation | None:
    """The alloc a chain of subviews starts from, else None."""
    op = defining(view)
    while op is not None and op.name == "memref.subview":
        op = defining(op.operands[0])
    return op if op is not None and op.name == "memref.alloc" else None


def _fixed_axes(op: ir.Operation) -> list[ir.Value] | None:
    """The dynamic offsets of a subview that fixes the leading axes of its source (sizes 1,
    rank-reduced) and keeps the others whole from 0; None for any other subview."""
    offsets = list(ir.DenseI64ArrayAttr(op.attributes["static_offsets"]))
    sizes = list(ir.DenseI64ArrayAttr(op.attributes["static_sizes"]))
    source = ir.MemRefType(op.operands[0].type)
    result = ir.MemRefType(op.results[0].type)
    fixed = source.rank - result.rank
    leading = zip(offsets[:fixed], sizes[:fixed], strict=True)
    if fixed <= 0 or any(o != _DYNAMIC or s != 1 for o, s in leading):
        return None
    if any(o != 0 for o in offsets[fixed:]):
        return None
    dynamic_offsets = [v for v in op.operands[1:1 + fixed]]
    return dynamic_offsets if len(dynamic_offsets) == fixed else None


class _Saved(NamedTuple):
    cache: ir.Value
    coords: list[ir.Value]


@dataclass(frozen=True)
class _IV:
    """How a cache position was computed from a loop's induction variable."""

    position: int
    lb: ir.Value | None
    step: ir.Value | None


def _iv_positions(coords: list[ir.Value]) -> dict[ir.Value, _IV] | None:
    """Induction variable -> `_IV` for each store position that is `iv`, `iv - lb` or
    `(iv - lb) / step`; None if a position is anything else."""
    ivs: dict[ir.Value, _IV] = {}
    for k, c in enumerate(coords):
        found = _iv_of(c)
        if found is None:
            return None
        iv, lb, step = found
        ivs[iv] = _IV(k, lb, step)
    return ivs


def _iv_of(c: ir.Value) -> tuple[ir.Value, ir.Value | None, ir.Value | None] | None:
    if is_iv(c) or is_parallel_iv(c):
        return c, None, None
    op = defining(c)
    if op is None:
        return None
    if op.name == "arith.subi" and is_iv(op.operands[0]):
        return op.operands[0], op.operands[1], None
    if op.name in ("arith.divui", "arith.divsi"):
        inner = _iv_of(op.operands[0])
        if inner is not None and inner[2] is None and inner[1] is not None:
            return inner[0], inner[1], op.operands[1]
    return None


def rematerialize(module: ir.Module, spec: ADSpec) -> int:
    """`rematerialize_loads` on the reverse derivative of `spec` (forward mode has no
    caches)."""
    if spec.mode != "reverse":
        return 0
    name = f"diffe{spec.fn}"  # first: saving exp(v) beats recomputing v and exp
    return save_results(module, name) + rematerialize_loads(module, {name: spec.shadows()})


def save_results(module: ir.Module, name: str) -> int:
    """In derivative function `name`: where the reverse pass only ever applies one math
    function to a cached value (`tanh(a)` for tanh's adjoint) that the forward pass also
    computed from it, cache that result instead: a load replaces the recomputation (the same
    operation on the same input: the same bits). Returns how many caches changed."""
    done = 0
    for view in module.body.operations:
        op = view.operation
        if op.name == "func.func" and "sym_name" in op.attributes and \
                ir.StringAttr(op.attributes["sym_name"]).value == name:
            for alloc in op.regions[0].blocks[0].operations:
                if alloc.operation.name == "memref.alloc":
                    done += _save_result(alloc.operation)
    return done


def _save_result(alloc: ir.Operation) -> int:
    uses = _Uses.of(alloc.result)
    if uses is None or len(uses.stores) != 1 or not uses.loads:
        return 0
    store = uses.stores[0][0]
    applied = [op_of(u.owner) for load, _ in uses.loads for u in load.results[0].uses]
    first = applied[0] if applied else None
    if first is None or not first.name.startswith("math.") or len(first.operands) != 1 or \
            any(a is None or not _sameop_of(a, first) for a in applied):
        return 0
    stored = store.operands[0]
    forward = next((op_of(u.owner) for u in stored.uses
                    if op_of(u.owner) is not None and _sameop_of(op_of(u.owner), first)
                    and op_of(u.owner).block == store.block), None)  # type: ignore[union-attr]
    if forward is None:
        return 0
    if store.is_before_in_block(forward):
        forward.move_before(store)  # its operand is defined before the store
    store.operands[0] = forward.results[0]
    for a in applied:
        a.results[0].replace_all_uses_with(a.operands[0])  # type: ignore[union-attr]
        a.erase()  # type: ignore[union-attr]
    return 1


def _sameop_of(a: ir.Operation, b: ir.Operation) -> bool:
    """The same unary op with the same attributes (fastmath flags)."""
    return a.name == b.name and len(a.operands) == 1 and _attributes(a) == _attributes(b)


def _attributes(op: ir.Operation) -> dict[str, str]:
    attrs = op.attributes
    return {name: str(attrs[name]) for name in attrs}
