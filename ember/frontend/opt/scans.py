"""Float max/min scans with several accumulators: `m = max(m, x[j])` over a range loop.

Python's `max(m, x)` keeps `m` unless `x > m`, so the scan is one chain of compare-and-select
whose latency bounds the loop (LLVM may not reorder it without fast-math: NaNs and signed
zeros make the order visible). Exactly the same result comes from LANES independent chains,
each folding every LANES-th element from the same start value `c`, then folded together in
lane order, except when the maximum is a zero:

- `c` is NaN: every chain stays NaN (nothing compares greater), as the serial scan does;
- else NaN elements are skipped by both, and the serial scan returns the first element equal
  to the largest value V. Equal floats have the same bits unless they are zeros (-0.0 and
  0.0 compare equal), so if V != 0 the chains give V's bits too; if V == 0 the serial loop
  runs again from `c` (a cold fallback) and decides the sign of the zero.

`min` is the mirror image. The loop must be the scan alone: one statement `m = max(m, e)`
(or min) on a float `m`, `e` a pure expression of loads and arithmetic not reading `m`.
Primal builds only: among equal non-zero elements the chains may return another one (same
bits), which would move a derivative to it; derivative builds do not run these passes.
"""

from __future__ import annotations

from dataclasses import replace

from ... import types as T
from .. import tir
from .jam import LoopRewriter, Row, cold, is_one, whole_blocks

VECTOR_BYTES = 32
"""Chains per scan: one AVX register of lanes (8 float32, 4 float64)."""
_PURE = (tir.Var, tir.Const, tir.Load, tir.BinOp, tir.Cast, tir.Dim)
"""Nodes the scanned expression may hold (loads and arithmetic that cannot raise)."""


def split_scans(body: tuple[tir.Stmt, ...], types: dict[str, T.Type]) -> tuple[tir.Stmt, ...]:
    """`body` with its float max/min scans split into chains; new locals go into `types`."""
    return _Scans(types).block(body)


def scan_of(loop: tir.For, types: dict[str, T.Type]) -> tir.Assign | None:
    """The loop's `m = max(m, e)` / `m = min(m, e)` statement, if the loop is such a scan."""
    if loop.cold or not is_one(loop.step) or len(loop.body) != 1:
        return None
    s = loop.body[0]
    if not (isinstance(s, tir.Assign) and isinstance(s.value, tir.Call)
            and s.value.op in ("max", "min") and len(s.value.args) == 2):
        return None
    t, (acc, e) = types.get(s.name), s.value.args
    if not (isinstance(t, T.Scalar) and t.is_float and s.value.type == t
            and isinstance(acc, tir.Var) and acc.name == s.name and e.type == t):
        return None
    nodes = list(tir.walk(e))
    if not all(isinstance(n, _PURE) for n in nodes):
        return None
    if any(getattr(n, "check", None) is not None for n in nodes):
        return None
    return None if any(isinstance(n, tir.Var) and n.name == s.name for n in nodes) else s


class _Scans(LoopRewriter):
    def rewrite(self, loop: tir.For) -> tuple[tir.Stmt, ...] | None:
        scan = scan_of(loop, self.types)
        return self.split(loop, scan) if scan is not None else None

    def local(self, name: str, t: T.Type) -> str:
        self.types[name] = t
        return name

    def split(self, loop: tir.For, scan: tir.Assign) -> tuple[tir.Stmt, ...]:
        k, span, it, ft = self.count, loop.span, self.types[loop.var], self.types[scan.name]
        self.count += 1
        assert isinstance(ft, T.Scalar)
        lanes = VECTOR_BYTES // (ft.bits // 8)
        lo, hi, main, base, start = (self.local(f"__scan{k}_{s}", t) for s, t in (
            ("lo", it), ("hi", it), ("main", it), ("i", it), ("start", ft)))
        accs = [scan.name] + [self.local(f"{scan.name}__lane{k}_{r}", ft)
                              for r in range(1, lanes)]

        def var(name: str, t: T.Type = it) -> tir.Var:
            return tir.Var(t, span, name)

        call = scan.value
        assert isinstance(call, tir.Call)

        def fold(a: str, b: tir.Expr) -> tir.Assign:
            return tir.Assign(span, a, replace(call, args=(var(a, ft), b)))

        setup = (tir.Assign(span, start, var(scan.name, ft)), tir.Assign(span, lo, loop.start),
                 tir.Assign(span, hi, loop.stop),
                 tir.Assign(span, main, whole_blocks(var(lo), var(hi), lanes)),
                 *(tir.Assign(span, a, var(start, ft)) for a in accs[1:]))
        chains = tuple(self.lane(loop, scan, var(base), r, accs[r]) for r in range(lanes))
        blocks = tir.For(span, base, var(lo), var(main), tir.Const(it, span, lanes), 1, chains)
        rest = cold(replace(loop, start=var(main), stop=var(hi)))
        zero = tir.Compare(T.boolean, span, "eq", var(scan.name, ft), tir.Const(ft, span, 0.0))
        serial = cold(replace(loop, start=var(lo), stop=var(hi)))
        again = tir.If(span, zero, (tir.Assign(span, scan.name, var(start, ft)), serial), ())
        return (*setup, blocks, rest, *(fold(scan.name, var(a, ft)) for a in accs[1:]), again)

    def lane(self, loop: tir.For, scan: tir.Assign, base: tir.Var, r: int,
             acc: str) -> tir.Stmt:
        index: tir.Expr = base if r == 0 else tir.BinOp(
            base.type, base.span, "add", base, tir.Const(base.type, base.span, r))
        return Row(loop.var, index, {scan.name: acc}).stmt(scan)
