"""Refusals of driver/gpu_derivatives.py: what a derivative of a `target="gpu"` kernel cannot
compute correctly is a CompileError at the user's line, never a wrong gradient.

* reverse mode recomputes each iteration from the arrays as the kernel left them (the
  derivative's reverse nests run after the whole kernel): a nest may not read an array that
  it or a later nest overwrites (`check_reverse`), except an element the iteration stored
  itself, when no later nest writes the array;
* `a[idx] += v` done atomically has no Enzyme derivative (`refuse_atomics`);
* reverse mode: no `while` loops (`refuse_whiles`) and no per-iteration tapes
  (`refuse_tapes`: device code cannot allocate);
* forward mode: no integer sums (`refuse_int_sums`: the forward body returns float sums).
"""

from __future__ import annotations

from .. import types as T
from ..errors import CompileError
from ..frontend import dataflow, tir
from ..frontend.gpu import AtomicAdd, GpuPlan
from ..frontend.gpu import Nest as NestPlan


def refuse_atomics(gp: GpuPlan) -> None:
    for n in gp.nests:
        for node in tir.walk(n.body):
            if isinstance(node, AtomicAdd):
                raise CompileError(
                    "cannot differentiate this `+=` in a GPU prange loop: its subscript does "
                    "not name every grid loop variable, so it is an atomic add, and Enzyme "
                    "0.0.16 has no derivative for atomic adds", node.span).with_note(
                    "sum into a local scalar in an inner sequential loop and store it once, "
                    "or differentiate the kernel with target='cpu'")


def refuse_whiles(gp: GpuPlan) -> None:
    for n in gp.nests:
        for node in tir.walk(n.body):
            if isinstance(node, tir.While):
                raise CompileError(
                    "cannot differentiate a `while` loop inside a GPU prange loop in reverse "
                    "mode: Enzyme 0.0.16 has no reverse of it, and replaying its trips would "
                    "need a tape on the device", node.span).with_note(
                    "use a `for` loop with a fixed trip count, jvp (forward mode "
                    "differentiates it), or target='cpu'")


def _array_uses(n: NestPlan, arrays: set[str],
                written: frozenset[str]) -> tuple[set[str], set[str], set[str]]:
    """(arrays read, arrays read only where the iteration stored them before, arrays
    written) by a nest body: read means used other than as the array a `Store` writes or
    whose shape is taken; a store into a view (`row[j] = v`) counts as a write of every
    written array the body mentions."""
    mentioned: dict[str, int] = {}
    other = _own_reads(n)
    own = {a for a, k in other.items() if k}
    into_views = False
    for node in tir.walk(n.body):
        if isinstance(node, tir.Var) and node.name in arrays:
            mentioned[node.name] = mentioned.get(node.name, 0) + 1
        target = node.array if isinstance(node, tir.Store | tir.Dim) else None
        if isinstance(target, tir.Var):
            other[target.name] = other.get(target.name, 0) + 1
            into_views |= isinstance(node, tir.Store) and target.name not in arrays
        elif isinstance(node, tir.Store):
            into_views = True
    reads = {a for a, k in mentioned.items() if k > other.get(a, 0)}
    stores = {s.array.name for s in tir.walk(n.body) if isinstance(s, tir.Store)
              and isinstance(s.array, tir.Var)}
    writes = set(mentioned) & written if into_views else stores & arrays
    return reads, own - reads, writes


def _own_reads(n: NestPlan) -> dict[str, int]:
    """Per array, its loads of an element the iteration stored before: after the only store
    into the array, a top-level `a[idx] = v` whose subscript uses grid variables and
    constants only (the reverse pass reads the value the kernel left there)."""
    grid = {lp.var for lp in n.loops} - dataflow.assigned(n.body)
    stores = [s for s in tir.walk(n.body) if isinstance(s, tir.Store)]
    names = [s.array.name for s in stores if isinstance(s.array, tir.Var)]
    seen: list[tir.Store] = []
    counts: dict[str, int] = {}
    for s in n.body:
        for node in tir.walk((s,)):
            if isinstance(node, tir.Load) and isinstance(node.array, tir.Var) and any(
                    tir.same(node.array, st.array) and tir.same(node.indices, st.indices)
                    for st in seen):
                counts[node.array.name] = counts.get(node.array.name, 0) + 1
        if isinstance(s, tir.Store) and isinstance(s.array, tir.Var) and \
                names.count(s.array.name) == 1 and dataflow.uses(s.indices) <= grid:
            seen.append(s)
    return counts


def check_reverse(gp: GpuPlan) -> None:
    """Refuse nests whose inputs are overwritten by themselves or by a later nest (or, for
    an element the iteration stored itself, by a later nest)."""
    fn = gp.fn
    arrays = {n for n, t in fn.params if isinstance(t, T.Array)}
    uses = [_array_uses(n, arrays, fn.written) for n in gp.nests]
    written = [w | {g.array.name for g in n.sums} for n, (_, _, w) in zip(gp.nests, uses,
                                                                            strict=True)]
    for k, n in enumerate(gp.nests):
        reads, own, _ = uses[k]
        bad = sorted((reads & set().union(*written[k:])) | (own & set().union(*written[k + 1:])))
        if bad:
            raise CompileError(
                f"cannot differentiate this GPU prange loop in reverse mode: it reads "
                f"'{bad[0]}', which it or a later loop of the kernel overwrites", n.loops[0].span
            ).with_note("the reverse pass recomputes each iteration from the arrays as the "
                        "kernel left them: write the new values into another array "
                        "(out[i] = f(x[i]) instead of x[i] = f(x[i])), or use jvp")


def refuse_tapes(gp: GpuPlan, bodies: list[str]) -> None:
    from ..ir.gpu_derivs import body_name

    for k, n in enumerate(gp.nests):
        if body_name(k) in bodies:
            raise CompileError(
                "cannot differentiate this GPU prange loop in reverse mode: the reverse of "
                "each iteration needs a tape (values of an inner loop that it overwrites or "
                "computes), and device code cannot allocate one", n.loops[0].span).with_note(
                "inner loops that only read arrays and accumulate are fine; keep what the "
                "inner loop computes in an array parameter, use jvp, or differentiate the "
                "kernel with target='cpu'")


def refuse_int_sums(gp: GpuPlan) -> None:
    for n in gp.nests:
        if any(not t.is_float for _, t in n.reductions) or any(
                not g.dtype.is_float for g in n.sums):
            raise CompileError("cannot take the jvp of a GPU prange loop that also sums "
                               "integers; count in a separate loop", n.loops[0].span)
