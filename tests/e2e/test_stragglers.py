"""The primal stragglers of issue 15: reversed accesses in range loops and loops of libm calls.

`r[k - i - 1]` inside `for i in range(k)` is provably >= 0 (frontend/loopbounds.py), so it
skips Python's negative wrap-around and LLVM vectorizes it into loads and a reverse shuffle;
indices the loops do not bound keep their wrap-around. libm functions without an MLIR op
(`atan2`, `hypot`, ...) are declared pure (ir/emitter.py), so loops calling them vectorize.
Results are compared with CPython on the same inputs, bitwise (rtol 0) unless stated.
"""

import ast
import math
import os
import platform
import re
import sys
import textwrap

import numpy as np
import pytest
from helpers import assert_same

import ember
from ember import f32, f64
from ember.frontend.bounds import compute_bounds
from ember.frontend.loopbounds import nonnegative_indices

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
from suite_kernels import durbin  # noqa: E402  (NPBench's Levinson-Durbin, the suite row)


@pytest.mark.parametrize("n", [1, 2, 3, 9, 64])
def test_durbin_matches_cpython_and_has_no_wraparound(n):
    k = ember.kernel(durbin)
    r = np.random.default_rng(n).uniform(-1.0, 1.0, n) / n
    assert_same(durbin, r, np.zeros(n), np.zeros(n), kernel=k)
    if n == 64:  # every index is provably >= 0: no compare-and-select is left
        assert "arith.cmpi slt" not in k.inspect("mlir")
        assert "masked.gather" not in k.inspect("llvm")


def reverse_f64(a: f64[:], out: f64[:]) -> None:
    n = len(a)
    for i in range(n):
        out[i] = a[n - 1 - i]


def reverse_f32(a: f32[:], out: f32[:]) -> None:
    for i in range(len(a)):
        out[i] = a[len(a) - i - 1] * f32(2)


@pytest.mark.parametrize("n", [0, 1, 2, 17])
def test_reversed_copies_f64_and_f32(n):
    a = np.linspace(-3.0, 5.0, n)
    assert_same(reverse_f64, a, np.zeros(n))
    assert_same(reverse_f32, a.astype(np.float32), np.zeros(n, dtype=np.float32))


def needs_wraparound(a: f64[:], out: f64[:]) -> None:
    """Indices the loops do not bound: `i - k` is negative, `m` shrinks inside its loop."""
    k = len(a) // 2
    for i in range(k):
        out[i] = a[i - k]
    m = len(a) // 2
    for i in range(m):
        m = m - 2
        out[i + k] += a[m - i]


@pytest.mark.parametrize("n", [2, 6, 7])
def test_indices_the_loops_do_not_bound_still_wrap(n):
    assert_same(needs_wraparound, np.arange(n) + 1.0, np.zeros(n))


def arc_distance(t1: f64[:], p1: f64[:], t2: f64[:], p2: f64[:], out: f64[:]) -> None:
    for i in range(len(out)):
        a = math.sin((t2[i] - t1[i]) / 2.0)
        b = math.sin((p2[i] - p1[i]) / 2.0)
        t = a * a + math.cos(t1[i]) * math.cos(t2[i]) * (b * b)  # x**2: LLVM squares, CPython pow()s
        out[i] = 2.0 * math.atan2(math.sqrt(t), math.sqrt(1.0 - t))


def arc_distance_f32(t1: f32[:], t2: f32[:], out: f32[:]) -> None:
    for i in range(len(out)):
        out[i] = np.arctan2(np.sin(t1[i]), np.cos(t2[i])) + np.hypot(t1[i], t2[i])


@pytest.mark.parametrize("n", [0, 1, 5, 40])
def test_loops_of_libm_calls_vectorize_with_the_same_results(n):
    rng = np.random.default_rng(n)
    angles = [rng.uniform(0.0, 2 * np.pi, n) for _ in range(4)]
    k = ember.kernel(arc_distance)
    assert_same(arc_distance, *angles, np.zeros(n), kernel=k)
    a32 = [x.astype(np.float32) for x in angles[:2]]
    assert_same(arc_distance_f32, *a32, np.zeros(n, dtype=np.float32), rtol=1e-6)
    if n == 40:
        assert re.search(r"@llvm\.atan2\.v\d+f64", k.inspect("llvm"))


def atan2_loop(y: f64[:], x: f64[:], out: f64[:]) -> None:
    for i in range(len(out)):
        out[i] = math.atan2(y[i], x[i])


def test_fastmath_atan2_loops_call_libmvec():
    from ember.runtime import vecmath

    rng = np.random.default_rng(3)
    y, x = rng.normal(size=37), rng.normal(size=37)
    y[:4], x[:4] = [0.0, -0.0, 1.0, -1.0], [-0.0, 0.0, 0.0, -0.0]
    k = ember.kernel(atan2_loop, fastmath=True)
    out = np.zeros(37)
    k(y, x, out)
    np.testing.assert_allclose(out, np.arctan2(y, x), rtol=1e-13, atol=0)
    if vecmath.variant("atan2", 4, 64) and vecmath.variant("atan2", 2, 64):
        assert "_ZGV" in k.inspect("asm")


# --- the proof itself (no compile) -----------------------------------------------------------

def _proven(source: str) -> set[str]:
    fdef = ast.parse(textwrap.dedent(source)).body[0]
    assert isinstance(fdef, ast.FunctionDef)
    bounds = compute_bounds(fdef, {a.arg for a in fdef.args.args})
    return {ast.unparse(node) for node in nonnegative_indices(fdef, bounds)}


def test_which_indices_the_loops_prove_nonnegative():
    proven = _proven("""
        def f(a, n):
            for k in range(1, n):
                for i in range(k):
                    a[k - i - 1] = a[n - 1 - i] + a[k - i - 2] + a[i - k]
                for j in range(2, k, 3):
                    a[k - j] = a[a.shape[0] - 1 - j] + a[-j + k - 1] + a[2 * k - 2 * j]
                for j in range(k, 0, -1):
                    a[k + 1 - j] = 0.0
                for i in range(k):
                    i = i + 1
                    a[k - i] = 0.0
            for i in range(n):
                a[n - i - 1] = 0.0
                n = n - 1
                a[n - i] = 0.0
        """)
    assert proven - {"0"} == {"k - i - 1", "n - 1 - i", "k - j", "-j + k - 1", "2 * k - 2 * j"}


# --- max/min scans split into chains (frontend/opt/scans.py) ---------------------------------

def scans_f64(x: f64[:], out: f64[:]) -> None:
    m = x[0]
    for j in range(1, len(x)):
        m = max(m, x[j])
    lo = x[0]
    for j in range(1, len(x)):
        lo = min(lo, x[j] * 2.0)
    out[0] = m
    out[1] = lo


def scans_f32(x: f32[:, :], out: f32[:, :]) -> None:
    for i in range(x.shape[0]):
        m = x[i, 0]
        for j in range(1, x.shape[1]):
            m = max(m, x[i, j])
        lo = x[i, 0]
        for j in range(x.shape[1]):
            lo = min(lo, x[i, j] - f32(1))
        out[i, 0] = m
        out[i, 1] = lo


def _rows() -> list[list[float]]:
    nan, rng = math.nan, np.random.default_rng(7)
    return [[3.0], [-0.0, 0.0, -1.0], [0.0, -0.0, -2.0] * 7, [-5.0] + [-0.0, 0.0] * 9,
            [nan, 1.0, 2.0], [1.0] + [nan] * 19 + [0.5], [-3.0, nan, -0.0, -9.0] * 5,
            list(rng.normal(size=37)), [1.0] * 16 + [-0.0] * 3, list(np.arange(40.0)[::-1]),
            [-1.0, 1.0] + [0.0] * 30, [2.0, 3.0] + [nan] * 8 + [7.0] * 10,
            # the first zero (-0.0) in lane 1, a later +0.0 in lane 0, and the mirror for min
            [-5.0, -1.0, -0.0] + [-1.0] * 6 + [0.0] + [-1.0] * 3,
            [5.0, 1.0, 0.0] + [1.0] * 6 + [-0.0] + [1.0] * 3]


def _same_bits(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)  # NaN matches NaN
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))  # and -0.0 is not 0.0


def test_max_min_scans_keep_nan_and_signed_zero_results():
    k64 = ember.kernel(scans_f64)
    for row in _rows():
        x = np.array(row)
        want, got = np.zeros(2), np.zeros(2)
        scans_f64(x, want)
        k64(x, got)
        _same_bits(got, want)
    k32 = ember.kernel(scans_f32)
    for width in (1, 3, 21):  # one row per case, padded with its own first element
        x = np.array([(r * width)[:width] for r in _rows()], dtype=np.float32)
        want, got = np.zeros((len(x), 2), np.float32), np.zeros((len(x), 2), np.float32)
        scans_f32(x, want)
        k32(x, got)
        _same_bits(got, want)
    k32(np.zeros((0, 4), np.float32), np.zeros((0, 2), np.float32))  # no rows: nothing runs
    if platform.machine() in ("x86_64", "AMD64"):  # the chains became vector max/min
        assert re.search(r"maxp[sd]", k64.inspect("asm"))
