"""Differential tests: small whole programs mixing loops, branches, math and array mutation
(the kind of kernel users write), including the examples of the specification."""

import math

import numpy as np
import pytest
from helpers import assert_same

from ember import f32, f64, i64


def clip_inplace(x: f32[:], lo: f32, hi: f32) -> None:
    for i in range(len(x)):
        if x[i] < lo:
            x[i] = lo
        elif x[i] > hi:
            x[i] = hi


@pytest.mark.parametrize("n", [0, 1, 20])
def test_clip_inplace_from_spec(n):
    x = np.linspace(-2, 2, n, dtype=np.float32)
    assert_same(clip_inplace, x, np.float32(-0.5), np.float32(1.25))


def heat_step(u: f64[:, :], out: f64[:, :], alpha: float) -> None:
    n = u.shape[0]
    m = u.shape[1]
    for i in range(n):
        for j in range(m):
            if i == 0 or j == 0 or i == n - 1 or j == m - 1:
                out[i, j] = u[i, j]
            else:
                lap = u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1] - 4.0 * u[i, j]
                out[i, j] = u[i, j] + alpha * lap


def test_heat_equation_step():
    u = np.random.default_rng(0).random((6, 7))
    assert_same(heat_step, u, np.zeros_like(u), 0.1)


def mandel(re: float, im: float, max_iter: int) -> int:
    zr = 0.0
    zi = 0.0
    for k in range(max_iter):
        if zr * zr + zi * zi > 4.0:
            return k
        zr, zi = zr * zr - zi * zi + re, 2.0 * zr * zi + im
    return max_iter


@pytest.mark.parametrize("re, im", [(0.0, 0.0), (1.0, 1.0), (-0.75, 0.1), (0.3, 0.5)])
def test_mandelbrot_escape(re, im):
    assert_same(mandel, re, im, 200)


def newton_sqrt(x: float) -> float:
    if x == 0.0:
        return 0.0
    g = x
    while abs(g * g - x) > 1e-12 * x:
        g = 0.5 * (g + x / g)
    return g


@pytest.mark.parametrize("x", [0.0, 2.0, 1e6, 0.01])
def test_newton_sqrt(x):
    assert_same(newton_sqrt, x)


def conv2d(img: f64[:, :], k: f64[:, :], out: f64[:, :]) -> None:
    kh = k.shape[0]
    kw = k.shape[1]
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            s = 0.0
            for a in range(kh):
                for b in range(kw):
                    s += img[i + a, j + b] * k[a, b]
            out[i, j] = s


def test_valid_convolution():
    rng = np.random.default_rng(2)
    img, k = rng.random((6, 5)), rng.random((3, 2))
    assert_same(conv2d, img, k, np.zeros((4, 4)))


def cumulative_max_with_reset(a: f64[:], out: f64[:]) -> int:
    resets = 0
    cur = -math.inf
    for i in range(len(a)):
        if math.isnan(a[i]):
            cur = -math.inf
            resets += 1
            out[i] = 0.0
            continue
        cur = max(cur, a[i])
        out[i] = cur
    return resets


def test_cumulative_max_with_nan_resets():
    a = np.array([1.0, 3.0, 2.0, np.nan, -1.0, 0.5, np.nan, 4.0])
    assert_same(cumulative_max_with_reset, a, np.zeros(8))


def insertion_sort(a: f64[:]) -> None:
    for i in range(1, len(a)):
        key = a[i]
        j = i - 1
        while j >= 0 and a[j] > key:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = key


@pytest.mark.parametrize("n", [0, 1, 9])
def test_insertion_sort(n):
    assert_same(insertion_sort, np.random.default_rng(n).standard_normal(n))


def run_length(a: i64[:], vals: i64[:], counts: i64[:]) -> int:
    k = -1
    for i in range(len(a)):
        if k >= 0 and vals[k] == a[i]:
            counts[k] += 1
        else:
            k += 1
            vals[k] = a[i]
            counts[k] = 1
    return k + 1


def test_run_length_encoding():
    a = np.array([1, 1, 2, 2, 2, 3, 1, 1], dtype=np.int64)
    assert_same(run_length, a, np.zeros(8, dtype=np.int64), np.zeros(8, dtype=np.int64))


def polyval_horner(c: f64[:], x: float) -> float:
    r = 0.0
    for i in range(len(c) - 1, -1, -1):
        r = r * x + c[i]
    return r


@pytest.mark.parametrize("x", [0.5, -2.0])
def test_horner_with_negative_step(x):
    assert_same(polyval_horner, np.array([1.0, -3.0, 0.5, 2.0]), x)


def lcg_fill(a: i64[:], seed: int) -> int:
    s = seed
    for i in range(len(a)):
        s = (s * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFF
        a[i] = s % 1000 - 500
    return s


def test_lcg_with_masking():
    # the product exceeds 64 bits in CPython, but wrapping keeps the low 32 bits the mask keeps
    assert_same(lcg_fill, np.zeros(6, dtype=np.int64), 1)


def trapezoid(n: int) -> float:
    h = math.pi / n
    s = 0.5 * (math.sin(0.0) + math.sin(math.pi))
    for i in range(1, n):
        s += math.sin(i * h)
    return s * h


@pytest.mark.parametrize("n", [1, 10, 1000])
def test_trapezoid_integral_of_sin(n):
    assert_same(trapezoid, n, rtol=1e-12)


def bincount_2d(idx: i64[:, :], out: i64[:, :]) -> None:
    for r in range(idx.shape[0]):
        for c in range(idx.shape[1]):
            v = idx[r, c]
            if v < 0:
                continue
            out[r, v % out.shape[1]] += 1


def test_row_wise_bincount():
    idx = np.array([[0, 1, 1, -1], [3, 3, 3, 7]], dtype=np.int64)
    assert_same(bincount_2d, idx, np.zeros((2, 4), dtype=np.int64))
