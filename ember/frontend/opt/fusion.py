"""Frontend step 7c (opt_level >= 2): fusion of adjacent producer/consumer loops.

    for i in range(n):                 for i in range(n):
        t[i] = a[i] * a[i]       ->        t[i] = a[i] * a[i]
    for i in range(n):                     out[i] = t[i] + b[i]
        out[i] = t[i] + b[i]

Adjacent serial loops with the same bounds that share data (one writes what the next
accesses, or both read the same elements) become one loop, so each element is used again
while it is still in a register or the L1 cache instead of streaming every array through
memory once per loop. Chains of such loops fuse into one; scalar assignments between them
that the loops do not touch (`t = 0.0` for the next loop's reduction) move before the chain.

Fusing loop 2 into loop 1 reorders only operations of different iterations, so it is legal
where iteration i of loop 2 needs nothing from iterations after i of loop 1 and iteration i
of loop 1 nothing from iterations before i of loop 2. Accepted, per pair (after matmul
tiling and interchange, before unroll-and-jam): bodies of straight-line statements and inner
loops (as jam.py accepts); bounds that read no memory and no value the first loop assigns;
scalars that both loops assign only as iteration locals (assigned before they are read, in
both loops, and dead after them), other scalars assigned by one loop are not touched by the
other; every array that one loop writes and the other accesses is accessed, in both loops,
at one subscript that names the loop variable (`t[i]`, `t[i, j]`, `t[i + 1]`), so iteration
i of both loops touches its own elements. Each iteration still runs its statements in their
original order: results are bitwise those of the loops as written. Arrays that might share
memory are told apart at run time (jam.disjoint); if a written array overlaps another one,
the loops run as written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ... import types as T
from .. import dataflow, tir
from .jam import (
    MAX_NODES,
    Row,
    accesses_of,
    cold,
    defined_before_use,
    disjoint,
    names_var,
    reads_memory,
    shape_of,
    straight_nest,
)


def fuse_loops(body: tuple[tir.Stmt, ...], types: dict[str, T.Type]) -> tuple[tir.Stmt, ...]:
    """`body` (with `carried` computed) with its fusable loop chains fused (`carried` to be
    recomputed by the caller)."""
    return _Fuser(types).block(body)


@dataclass
class _Chain:
    """Loops fused so far: the originals (for the fallback) and the fused loop."""

    loops: list[tir.For]
    fused: tir.For
    hoisted: list[tir.Stmt]
    """Assignments found between the loops, independent of them: they run first."""

    def live(self) -> set[str]:
        """Names some loop of the chain carries (across its iterations or out of it)."""
        return {n for loop in self.loops for n, _ in loop.carried}


class _Fuser:
    def __init__(self, types: dict[str, T.Type]) -> None:
        self.types = types

    def block(self, body: tuple[tir.Stmt, ...]) -> tuple[tir.Stmt, ...]:
        out: list[tir.Stmt] = []
        chain: _Chain | None = None
        for s in body:
            s = self.inside(s)
            if chain is not None and self.extend(chain, s):
                continue
            if chain is not None:
                out.extend(self.emit(chain))
                chain = None
            if _candidate(s):
                assert isinstance(s, tir.For)
                chain = _Chain([s], s, [])
            else:
                out.append(s)
        if chain is not None:
            out.extend(self.emit(chain))
        return tuple(out)

    def extend(self, chain: _Chain, s: tir.Stmt) -> bool:
        """Fuse loop `s` into the chain, or set aside an assignment the chain's loops do
        not touch (`t = 0.0` before the next loop): True if `s` was taken."""
        if isinstance(s, tir.For):
            fused = fuse_pair(chain.fused, s, self.types, chain.live())
            if fused is not None:
                chain.loops.append(s)
                chain.fused = fused
            return fused is not None
        if _independent(s, chain.loops, self.types):
            chain.hoisted.append(s)
            return True
        return False

    def inside(self, s: tir.Stmt) -> tir.Stmt:
        if isinstance(s, tir.For):
            return replace(s, body=self.block(s.body))
        if isinstance(s, tir.If):
            return replace(s, then=self.block(s.then), orelse=self.block(s.orelse))
        if isinstance(s, tir.While):
            return replace(s, body=self.block(s.body))
        return s

    def emit(self, chain: _Chain) -> tuple[tir.Stmt, ...]:
        if len(chain.loops) == 1:
            return (chain.fused, *chain.hoisted)
        found = accesses_of(chain.fused.body) or []
        written = sorted({a for a, _, store, _ in found if store})
        arrays = sorted({a for a, _, _, _ in found})
        if not written or len(arrays) < 2:
            return (*chain.hoisted, chain.fused)
        guard = disjoint(written, arrays, self.types, chain.fused.span)
        return (*chain.hoisted, tir.If(chain.fused.span, guard, (chain.fused,),
                                       tuple(cold(s) for s in chain.loops)))


def _independent(s: tir.Stmt, loops: list[tir.For], types: dict[str, T.Type]) -> bool:
    """`s` is a scalar assignment that may move before `loops`: it reads no memory and no
    value they assign, and they do not use the name it assigns."""
    if not isinstance(s, tir.Assign) or not isinstance(types[s.name], T.Scalar):
        return False
    if reads_memory(s.value):
        return False
    for loop in loops:
        changed = dataflow.assigned(loop.body) | {loop.var}
        if s.name in changed | tir.names(loop.body) or dataflow.uses(s.value) & changed:
            return False
    return True


def _candidate(s: tir.Stmt) -> bool:
    return isinstance(s, tir.For) and not s.parallel and not s.cold and straight_nest(s.body, s)


def fuse_pair(first: tir.For, second: tir.For, types: dict[str, T.Type],
              live: set[str]) -> tir.For | None:
    """`second` fused into `first` (which runs before it), or None where that is not legal
    or they share no array. `live`: the names the loops fused into `first` carry."""
    if not _candidate(second):
        return None
    renamed = _rename_var(second, first, types)
    if renamed is None or not _same_bounds(first, second):
        return None
    live = live | {n for n, _ in second.carried}
    if {first.var, second.var} & live:  # a loop variable read after the loops
        return None
    if not _scalars_apart(first, renamed, types, live) or not _arrays_aligned(first, renamed):
        return None
    body = first.body + renamed
    if sum(1 for _ in tir.walk(body)) > MAX_NODES:
        return None
    return replace(first, body=body, carried=())


def _rename_var(second: tir.For, first: tir.For,
                types: dict[str, T.Type]) -> tuple[tir.Stmt, ...] | None:
    """The body of `second` with its loop variable renamed to that of `first`."""
    if second.var in dataflow.assigned(second.body):
        return None
    if second.var == first.var:
        return second.body
    if first.var in tir.names(second.body) or types[first.var] != types[second.var]:
        return None
    row = Row(second.var, tir.Var(types[first.var], first.span, first.var), {})
    return tuple(row.stmt(s) for s in second.body)


def _same_bounds(first: tir.For, second: tir.For) -> bool:
    """Equal bounds that mean the same after `first` ran."""
    bounds = (first.start, first.stop, first.step)
    if shape_of(bounds) != shape_of((second.start, second.stop, second.step)):
        return False
    changed = dataflow.assigned(first.body) | {first.var}
    return not reads_memory(bounds) and not (dataflow.uses(bounds) & changed)


def _scalars_apart(first: tir.For, body2: tuple[tir.Stmt, ...],
                   types: dict[str, T.Type], live: set[str]) -> bool:
    """No scalar flows between the two loops: each shared name is an iteration local of both
    (assigned before it is read, dead after the loops)."""
    var = first.var
    set1, set2 = dataflow.assigned(first.body) - {var}, dataflow.assigned(body2) - {var}
    shared = (set1 & (tir.names(body2) | set2)) | (set2 & tir.names(first.body))
    for name in shared:
        if name not in set1 & set2 or name in live or not isinstance(types[name], T.Scalar):
            return False
        if not (defined_before_use(first.body, {name}) and defined_before_use(body2, {name})):
            return False
    return True


def _arrays_aligned(first: tir.For, body2: tuple[tir.Stmt, ...]) -> bool:
    """Every array written by one loop and accessed by the other has one subscript, naming
    the loop variable, in both; and fusing pays: one loop writes what the other accesses, or
    both read some array at the same subscript (the same elements in the same iteration)."""
    acc1, acc2 = accesses_of(first.body), accesses_of(body2)
    if acc1 is None or acc2 is None:
        return False
    names1, names2 = {a for a, _, _, _ in acc1}, {a for a, _, _, _ in acc2}
    written = {a for a, _, store, _ in acc1 + acc2 if store}
    banned = dataflow.assigned(first.body) | dataflow.assigned(body2)
    if (names1 | names2) & banned:
        return False
    for name in written & names1 & names2:
        subs = {sub for a, sub, _, _ in acc1 + acc2 if a == name}
        sub = subs.pop() if len(subs) == 1 else None
        if sub is None or not names_var(sub, first.var, banned - {first.var}):
            return False
    shared = {(a, sub) for a, sub, _, _ in acc1} & {(a, sub) for a, sub, _, _ in acc2}
    return bool(written & names1 & names2) or bool(shared)
