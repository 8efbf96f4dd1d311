"""The vectorized reduction paths of ir/reductions.py (issue 13 speed) against NumPy, on inputs
large enough to reach them: float min/max (a vector max beside a NaN flag), argmin/argmax by
blocks of ARG_BLOCK elements (NaN, ties, -inf and the extreme in several blocks or in the
tail), and reductions that keep the last axis (sum/prod/min/max/mean/any/all accumulated row
by row into the result, keepdims, fused operands, views)."""

import numpy as np
import pytest

from ember import f32, f64, i64, kernel
from ember.ir.reductions import ARG_BLOCK
from ember.types import boolean

N = 3 * ARG_BLOCK + 37


@kernel
def extremes(a: f64[:], out: f64[:], where: i64[:]) -> None:
    out[0] = np.max(a)
    out[1] = np.min(a)
    out[2] = np.max(a * 2.0)
    where[0] = np.argmax(a)
    where[1] = np.argmin(a)
    where[2] = a.argmax()


@kernel
def extremes_f32(a: f32[:], out: f32[:], where: i64[:]) -> None:
    out[0] = np.max(a)
    out[1] = np.min(a)
    where[0] = np.argmax(a)
    where[1] = np.argmin(a)


def _cases():
    rng = np.random.default_rng(7)
    base = rng.standard_normal(N)
    late_nan = base.copy()
    late_nan[ARG_BLOCK + 5] = np.nan
    late_nan[2 * ARG_BLOCK + 1] = np.nan
    ties = base.copy()
    ties[[10, ARG_BLOCK + 3, N - 2]] = 9.0
    ties[[20, 2 * ARG_BLOCK]] = -9.0
    tail = base.copy()
    tail[N - 1], tail[N - 3] = 50.0, -50.0
    return {
        "random": base, "late_nan": late_nan, "ties": ties, "tail": tail,
        "increasing": np.arange(N, dtype=np.float64),
        "decreasing": -np.arange(N, dtype=np.float64),
        "all_-inf": np.full(N, -np.inf), "all_inf": np.full(N, np.inf),
        "short": base[:5], "one_block": base[:ARG_BLOCK],
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_min_max_argmin_argmax(name):
    a = _cases()[name]
    out, where = np.zeros(3), np.zeros(3, dtype=np.int64)
    extremes(a, out, where)
    np.testing.assert_array_equal(out, [np.max(a), np.min(a), np.max(a * 2.0)])
    np.testing.assert_array_equal(where, [np.argmax(a), np.argmin(a), np.argmax(a)])
    a32 = a.astype(np.float32)
    out32, where32 = np.zeros(2, np.float32), np.zeros(2, dtype=np.int64)
    extremes_f32(a32, out32, where32)
    np.testing.assert_array_equal(out32, [np.max(a32), np.min(a32)])
    np.testing.assert_array_equal(where32, [np.argmax(a32), np.argmin(a32)])


@kernel
def arg_axes(m: f64[:, :], rows: i64[:], cols: i64[:]) -> None:
    rows[:] = np.argmax(m, axis=1)
    cols[:] = np.argmin(m[::-1], axis=0)


def test_argmax_along_an_axis_by_blocks():
    rng = np.random.default_rng(8)
    m = rng.standard_normal((N, N // 4))
    m[3, N // 8] = np.nan
    m[N - 1, 7] = -100.0
    wide = m.T.copy()  # rows of N elements: several blocks per result
    rows, cols = np.zeros(N // 4, np.int64), np.zeros(N, np.int64)
    arg_axes(wide, rows, cols)
    np.testing.assert_array_equal(rows, np.argmax(wide, axis=1))
    np.testing.assert_array_equal(cols, np.argmin(wide[::-1], axis=0))


@kernel
def keep_last(m: f64[:, :], t: f64[:, :, :], out: f64[:, :], ks: f64[:, :, :]) -> None:
    out[0] = m.sum(axis=0)
    out[1] = np.max(m, axis=0)
    out[2] = np.min(m * 2.0, axis=0)
    out[3] = m.mean(axis=0)
    out[4] = np.prod(m[:4], axis=0)
    out[5] = np.sum(t, axis=(0, 1))
    out[6] = np.max(t, axis=(0, 1))
    ks[...] = t.sum(axis=1, keepdims=True)


@kernel
def any_all(m: boolean[:, :], out: boolean[:, :]) -> None:
    out[0] = np.any(m, axis=0)
    out[1] = np.all(m, axis=0)


@kernel
def int_max(m: i64[:, :]) -> i64[:]:
    return m.max(axis=0)


def test_reductions_that_keep_the_last_axis():
    rng = np.random.default_rng(9)
    m = rng.random((40, 30)) + 0.5
    m[5, 3] = np.nan
    t = rng.random((3, 40, 30))
    out, ks = np.zeros((7, 30)), np.zeros((3, 1, 30))
    keep_last(m, t, out, ks)
    want = [m.sum(axis=0), np.max(m, axis=0), np.min(m * 2.0, axis=0), m.mean(axis=0),
            np.prod(m[:4], axis=0), np.sum(t, axis=(0, 1)), np.max(t, axis=(0, 1))]
    np.testing.assert_allclose(out, want, rtol=1e-12)
    np.testing.assert_allclose(ks, t.sum(axis=1, keepdims=True), rtol=1e-12)
    b = rng.random((6, 30)) < 0.3
    got = np.zeros((2, 30), dtype=bool)
    any_all(b, got)
    np.testing.assert_array_equal(got, [np.any(b, axis=0), np.all(b, axis=0)])
    i = rng.integers(-50, 50, (9, 30))
    np.testing.assert_array_equal(int_max(i), i.max(axis=0))
