"""prange: parallel loops give the serial results (bitwise without reductions), reductions
combine correctly, and what cannot run in parallel is a clear CompileError."""

import math

import numpy as np
import pytest
from helpers import assert_same

import ember
from ember import f32, f64, i64, prange


def saxpy(a: float, x: f64[:], y: f64[:]) -> None:
    for i in prange(x.shape[0]):
        y[i] += a * x[i]


def stencil(u: f64[:, :], out: f64[:, :], k: float) -> None:
    for i in prange(1, u.shape[0] - 1):
        for j in prange(1, u.shape[1] - 1):
            out[i, j] = u[i, j] + k * (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1]
                                       - 4.0 * u[i, j])


def reductions(x: f64[:]) -> tuple[float, float, float, float]:
    s = 0.0
    p = 1.0
    lo = math.inf
    hi = -math.inf
    for i in prange(len(x)):
        s += x[i]
        p *= 1.0 + x[i] * 1e-3
        lo = min(lo, x[i])
        hi = max(hi, x[i])
    return s, p, lo, hi


def int_reduction(a: i64[:]) -> int:
    total = 0
    for i in prange(len(a)):
        if a[i] % 3 == 0:
            total += a[i]
    return total


def backwards(x: f32[:], out: f32[:]) -> None:
    for i in prange(len(x) - 1, -1, -2):
        out[i] = x[i] * f32(2.0)


def heavy(x: f64[:], out: f64[:]) -> None:
    for i in prange(len(x)):
        v = x[i]
        for _ in range(50):
            v = math.sin(v) + 0.5
        out[i] = v


def test_saxpy_is_bitwise_serial():
    x, y = np.random.default_rng(0).random(10001), np.ones(10001)
    assert_same(saxpy, 2.5, x, y)


def test_two_dimensional_prange():
    u = np.random.default_rng(1).random((33, 47))
    assert_same(stencil, u, np.zeros_like(u), 0.1)


@pytest.mark.parametrize("n", [0, 1, 7, 1000])
def test_reductions(n):
    assert_same(reductions, np.random.default_rng(n).random(n) * 10 - 5, rtol=1e-12)


def test_integer_reduction_exact():
    assert_same(int_reduction, np.arange(-500, 777, dtype=np.int64))


def test_negative_step():
    x = np.arange(11, dtype=np.float32)
    assert_same(backwards, x, np.zeros_like(x))


def heavy_serial(x: f64[:], out: f64[:]) -> None:
    for i in range(len(x)):
        v = x[i]
        for _ in range(50):
            v = math.sin(v) + 0.5
        out[i] = v


def test_parallel_equals_serial_bitwise():
    x = np.random.default_rng(2).random(5000)
    parallel, serial = np.zeros_like(x), np.zeros_like(x)
    ember.kernel(heavy)(x, parallel)
    ember.kernel(heavy_serial)(x, serial)
    assert np.array_equal(parallel, serial)
    assert_same(heavy, x, np.zeros_like(x))


def test_gradient_through_prange_matches_finite_differences():
    def loss(x: f64[:]) -> float:
        s = 0.0
        for i in prange(len(x)):
            s += math.sin(x[i]) * x[i]
        return s
    ember.check_grad(loss, np.linspace(-1, 1, 9))


def carried(x: f64[:]) -> float:
    prev = 0.0
    for i in prange(len(x)):
        x[i] = x[i] + prev
        prev = x[i]
    return prev


def breaks(x: f64[:]) -> float:
    for i in prange(len(x)):
        if x[i] > 0.0:
            break
    return 0.0


def shared_total(x: f64[:]) -> float:
    total = np.zeros(1)
    for i in prange(len(x)):
        total[0] = total[0] + x[i]
    return total[0]


@pytest.mark.parametrize("fn, text", [
    (carried, "'prev' is carried from one iteration of this prange loop"),
    (breaks, "a prange loop cannot break"),
    (shared_total, "every iteration of this prange loop updates the same array element"),
])
def test_dependent_iterations_are_rejected(fn, text):
    with pytest.raises(ember.CompileError, match=text):
        ember.kernel(fn)(np.ones(3))
    with pytest.raises(ember.CompileError, match=text):  # and so does its derivative
        ember.grad(fn)(np.ones(3))


def scatter(x: f64[:], bins: i64[:], h: f64[:]) -> float:
    for i in prange(len(x)):
        if i == 0:
            h[0] += 1.0  # one iteration only: no race
        h[bins[i]] += 0.0 * x[i]  # one element per iteration here (bins distinct)
    s = 0.0
    for j in range(len(h)):
        s += h[j] * x[j]
    return s


def test_gradient_of_unprovable_scatter_runs_serially_and_is_right():
    """`h[bins[i]] +=` may hit one element from several iterations: the derivative keeps
    the loop serial (never a racing adjoint)."""
    x = np.linspace(0.5, 1.5, 6)
    ember.check_grad(scatter, x, np.arange(6), np.zeros(6), wrt="x")
