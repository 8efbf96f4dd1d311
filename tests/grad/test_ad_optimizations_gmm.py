"""The GMM gradient's optimizations (issue 15) fire, and change no value.

lowering/countertable.py (a counter advanced by an inner loop is read from a table),
lowering/deadarrays.py (work arrays nothing reads any more are erased), lowering/rowloops.py
(in-place row loops of the derivative stay scalar) and lowering/adattrs.py (`noalias` shadows
and arena blocks, no memcpy formation). Each kernel is built at opt_level 3 with and without
them (values and gradients bitwise equal) and at opt_level 1 (within 1e-12: other rewrites
of opt_level 3 may round differently), and checked against central finite differences.
"""

from __future__ import annotations

import copy
import math
import os
import re
import sys

import llvmlite.binding as llvm
import numpy as np
import pytest

import ember
from ember import f32, f64
from ember.lowering import adattrs

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import grad_workloads as W  # noqa: E402

RNG = np.random.default_rng(15)


def packed_rows(v: f64[:], packed: f64[:], w: f64[:]) -> float:
    """The packed counter restarts in every row of an outer loop (a table of n entries)."""
    n = v.shape[0]
    s = 0.0
    for r in range(w.shape[0]):
        p = 0
        for i in range(n):
            for j in range(i, n):
                s += packed[p] * v[i] * v[j] * w[r]
                p += 1
    return s


def shifted_counter(v: f64[:], packed: f64[:], m: int) -> float:
    """The counter starts at the outer index: its values differ per row (no table), and a
    while loop around it."""
    n = v.shape[0]
    s = 0.0
    r = 0
    while r < m:
        p = r
        for i in range(n):
            for j in range(i + 1, n):
                s += packed[p] * math.sin(v[i] * v[j])
                p += 1
        r += 1
    return s


def scratch_dead(x: f64[:, :], y: f64[:]) -> float:
    """`t` is only read back where forwarding replaces it (then erased); `u` is also read
    after an overwrite (kept)."""
    n = y.shape[0]
    t = np.empty(n)
    u = np.empty(n)
    s = 0.0
    for r in range(x.shape[0]):
        for j in range(n):
            t[j] = x[r, j] - y[j]
            u[j] = x[r, j] * y[j]
        u[0] = u[0] * 2.0
        for i in range(n):
            for j in range(i + 1, n):
                s += t[i] * t[j] + u[j] * u[i]
    return s


def rows_f32(x: f32[:], c: f32[:]) -> f32:
    """An in-place triangular update of a local row (GMM's Q * xc), in float32."""
    n = x.shape[0]
    z = np.empty(n, dtype=np.float32)
    s = np.float32(0.0)
    for r in range(c.shape[0]):
        for j in range(n):
            z[j] = x[j] * c[r]
        p = 0
        for i in range(n):
            for j in range(i + 1, n):
                z[j] += x[(p + r) % n] * z[i]
                p += 1
        for j in range(n):
            s += z[j] * z[j]
    return s


def dot_pair(a: f64[:], b: f64[:]) -> float:
    """Called with the same array twice: shadows are separate buffers (adattrs.py)."""
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * b[i] * b[i]
    return s


V = RNG.standard_normal(5)
CASES = {
    "gmm": (W.gmm, W.make_gmm(30, d=6, k=4), ("alphas", "means", "icf")),
    "packed_rows": (packed_rows, (V, RNG.standard_normal(15), RNG.standard_normal(3)),
                    ("v", "packed", "w")),
    "packed_rows_no_rows": (packed_rows, (V, RNG.standard_normal(15), np.zeros(0)),
                            ("v", "packed", "w")),  # the nest never runs: nor does the table
    "shifted_counter": (shifted_counter, (V, RNG.standard_normal(14), 3), ("v", "packed")),
    "scratch_dead": (scratch_dead, (RNG.standard_normal((3, 5)), V), ("x", "y")),
    "rows_f32": (rows_f32, (V.astype(np.float32), np.array([0.5, -1.25], np.float32)),
                 ("x", "c")),
    "dot_pair": (dot_pair, (V, V), ("a", "b")),
}


def _gradients(fn, args, wrt, opt_level):
    vg = ember.value_and_grad(ember.kernel(fn, opt_level=opt_level, cache=False), wrt=wrt)
    value, grads = vg(*copy.deepcopy(args))
    grads = grads if isinstance(grads, tuple) else (grads,)
    return [np.atleast_1d(np.asarray(value))] + [np.atleast_1d(np.asarray(g)) for g in grads]


def _without_these(m: pytest.MonkeyPatch) -> None:
    """opt_level 3 as it was before these four rewrites."""
    from ember.lowering import preopt, rowloops
    from ember.runtime import thunk

    m.setattr(preopt, "tabulate_counters", lambda module: 0)
    m.setattr(preopt, "drop_unread", lambda module: 0)
    m.setattr(rowloops, "keep_rows_scalar", lambda module, name: 0)
    m.setattr(adattrs, "annotate", lambda text, shadows: text)
    m.setattr(thunk, "ARENA", thunk.ARENA.replace("declare noalias ptr", "declare ptr"))


@pytest.mark.parametrize("name", list(CASES))
def test_gradients_bitwise_unchanged_and_equal_to_opt_level_1(name, monkeypatch):
    fn, args, wrt = CASES[name]
    fast = _gradients(fn, args, wrt, 3)
    plain = _gradients(fn, args, wrt, 1)
    with monkeypatch.context() as m:
        _without_these(m)
        before = _gradients(fn, args, wrt, 3)
    for got, was, want in zip(fast, before, plain, strict=True):
        assert got.dtype == was.dtype and got.tobytes() == was.tobytes(), name
        scale = max(float(np.max(np.abs(want), initial=0.0)), 1e-300)  # other rewrites
        assert np.max(np.abs(got.astype(np.float64) - want), initial=0.0) <= 1e-12 * scale
    if name == "dot_pair":  # d/da = b*b, d/db = 2ab, with a and b the same array
        np.testing.assert_allclose(fast[1], V * V, rtol=1e-15)
        np.testing.assert_allclose(fast[2], 2 * V * V, rtol=1e-15)
    elif fn is not rows_f32:  # float32: finite differences are too coarse
        ember.check_grad(fn, *copy.deepcopy(args), wrt=wrt, atol=1e-6)


def _dump(fn, args, wrt, opt_level, folder, monkeypatch) -> dict[str, str]:
    monkeypatch.setenv("EMBER_DUMP_IR", str(folder))
    ember.grad(ember.kernel(fn, opt_level=opt_level, cache=False), wrt=wrt)(*args)
    found = {stage: list(folder.glob(f"*_reverse.*.{stage}"))
             for stage in ("enzyme-output.mlir", "cleanup.mlir", "optimize.mlir")}
    return {stage: "".join(p.read_text() for p in paths) for stage, paths in found.items()}


def _primal_part(text: str) -> str:
    """The primal function Enzyme received (before the derivative functions)."""
    return text.split("_reverse(")[0]


def test_gmm_tape_table_dead_arrays_and_scalar_rows(tmp_path, monkeypatch):
    fn, args, wrt = CASES["gmm"]
    plain = _dump(fn, args, wrt, 1, tmp_path / "plain", monkeypatch)
    fast = _dump(fn, args, wrt, 3, tmp_path / "fast", monkeypatch)
    with monkeypatch.context() as m:
        _without_these(m)
        bare = _dump(fn, args, wrt, 3, tmp_path / "bare", monkeypatch)
    out_bare, out_fast = bare["enzyme-output.mlir"], fast["enzyme-output.mlir"]
    # the packed index p of Qxcentered: Enzyme saved it per (point, component, row); now one
    # table of d entries, filled before the loop nest and reloaded
    assert "memref<?x?x?xi64>" in out_bare
    assert "memref<?x?x?xi64>" not in out_fast and "memref<?x?xi64>" not in out_fast
    assert re.search(r"memref\.alloc\([^)]*\) : memref<\?xi64>", _primal_part(out_fast))
    # xc (all its loads forwarded) is gone: one local vector fewer in the primal
    vectors = re.compile(r"memref\.alloc\([^)]*\) : memref<\?xf64>")
    assert len(vectors.findall(_primal_part(out_fast))) == \
        len(vectors.findall(_primal_part(out_bare))) - 1
    # the in-place triangular row loops of the derivative are not vectorized
    def annotated(ir: dict[str, str]) -> int:  # loops with LLVM metadata (printed as alias)
        return ir["optimize.mlir"].count("{loop_annotation = ")

    assert "#llvm.loop_vectorize<disable = true>" in fast["optimize.mlir"]
    assert annotated(fast) >= annotated(bare) + 2 and "{loop_annotation" not in plain["cleanup.mlir"]


def test_annotate_marks_shadow_pointers_noalias_and_parses():
    text = """define double @diffeek_f(ptr %0, ptr %1, i64 %2, i64 %3, i64 %4, ptr %5, ptr %6, \
i64 %7, i64 %8, i64 %9, double %10) {
  ret double %10
}

define double @ek_f_reverse(ptr %0, ptr %1) #0 {
  ret double 0.0
}

attributes #0 = { nounwind }
"""
    out = adattrs.annotate(text, adattrs.Shadows("diffeek_f", (5, 6)))
    first = out.splitlines()[0]
    assert "ptr noalias %5, ptr noalias %6," in first and "ptr noalias %0" not in first
    assert first.endswith(f") {adattrs.NO_MEMCPY} {{")
    assert f"(ptr %0, ptr %1) {adattrs.NO_MEMCPY} #0 {{" in out
    llvm.parse_assembly(out).verify()
    assert adattrs.annotate(text, None) == text
