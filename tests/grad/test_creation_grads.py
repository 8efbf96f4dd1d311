"""Derivatives through array creation (issue 13, "Creation"): arrays made by np.zeros/ones/
full/empty/*_like, np.arange, np.linspace, np.eye and np.array are constants of the derivative
where their values do not depend on active inputs, and carry the derivative where they do
(np.linspace(a, b, n), np.array([x, y]), copies of active arrays: np.copy, .copy(),
.flatten(), .fill()) and reshaped views (read and written through, of contiguous and strided
arrays). Checked against central finite differences; run-time errors raise as in primal builds.""" 

import math

import numpy as np
import pytest

from ember import check_grad, f64, grad, kernel, value_and_grad

RNG = np.random.default_rng(31)
X = RNG.normal(size=6)
A = RNG.normal(size=(2, 3))


@kernel
def constants(x: f64[:]) -> float:
    n = len(x)
    w = np.arange(n) * 0.5
    z = np.zeros(n)
    o = np.ones((n,), dtype=np.float64)
    e = np.eye(n)
    lin = np.linspace(0.0, 1.0, n)
    f = np.full_like(x, 2.0)
    s = 0.0
    for i in range(n):
        s += math.sin(x[i]) * (w[i] + o[i] + z[i] + e[i, i] + lin[i] * f[i])
    return s


@kernel
def copies(x: f64[:]) -> float:
    c = x.copy()
    d = np.copy(x)
    c[0] = 1.0  # writes to a copy do not reach x
    s = 0.0
    for i in range(len(c)):
        s += c[i] * d[i] * x[i]
    return s


@kernel
def flattened(a: f64[:, :]) -> float:
    f = a.flatten()
    s = 0.0
    for i in range(len(f)):
        s += math.cos(f[i]) * (i + 1)
    return s


@kernel
def literal(x: f64[:], t: float) -> float:
    v = np.array([x[0] * t, math.sin(x[1]), 2.0])
    s = 0.0
    for i in range(3):
        s += v[i] * v[i]
    return s


@kernel
def spaced(a: float, b: float) -> float:
    g = np.linspace(a, b, 5)
    s = 0.0
    for i in range(5):
        s += g[i] * g[i] * (i + 1)
    return s


@kernel
def filled(x: f64[:], v: float) -> float:
    buf = np.empty(len(x))
    buf.fill(v)
    s = 0.0
    for i in range(len(x)):
        s += buf[i] * x[i]
    return s


@pytest.mark.parametrize("fn, args", [
    (constants, (X,)), (copies, (X,)), (flattened, (A,)), (literal, (X, 0.7)),
    (spaced, (0.3, 1.9)), (filled, (X, 1.3)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_creation_gradients(fn, args):
    check_grad(fn, *args)


@kernel
def reshaped(x: f64[:], a: f64[:, :]) -> float:
    m = x.reshape(2, -1)               # a view of a contiguous parameter
    s = np.sum(m[0] * m[1]) + np.sum(np.sin(a.ravel()) * np.arange(a.size))
    s += np.sum(a.T.ravel() * np.arange(a.size) ** 2)   # C order of the transpose
    s += np.sum(x[::2].reshape(1, -1) * 3.0)            # a strided view: NumPy copies
    r = m.reshape(-1).reshape(3, 2)                     # a reshape of a reshape
    for i in range(3):
        s += r[i, 0] * r[i, 1] * (i + 1)
    return s


@kernel
def through_reshape(x: f64[:]) -> float:
    t = np.zeros((1, x.shape[0]))      # a constant 1 in the shape (a 1 x n cache)
    t[0] = x * x
    flat = t.ravel()
    flat[1:] += x[:-1]                 # writes through the view reach t
    return np.sum(t * t)


def test_reshape_gradients():
    check_grad(reshaped, X, A)
    check_grad(through_reshape, X)
    x, a = X.copy(), A.copy()
    m = x.reshape(2, -1)
    want = (np.sum(m[0] * m[1]) + np.sum(np.sin(a.ravel()) * np.arange(a.size))
            + np.sum(a.T.ravel() * np.arange(a.size) ** 2) + np.sum(x[::2] * 3.0)
            + sum(m.reshape(3, 2)[i, 0] * m.reshape(3, 2)[i, 1] * (i + 1) for i in range(3)))
    assert reshaped(x, a) == pytest.approx(want)
    assert grad(reshaped)(x, a) == pytest.approx(
        np.array([x[3] + 3.0 + x[1] * 1, x[4] + x[0], x[5] + 3.0 + x[3] * 2,
                  x[0] + x[2] * 2, x[1] + 3.0 + x[5] * 3, x[2] + x[4] * 3]))


def test_reshape_size_error_in_derivative_builds():
    with pytest.raises(ValueError, match=r"cannot reshape array of size 5 into shape \(2,newaxis\)"):
        grad(reshaped)(X[:5], A)


def test_arange_zero_step_raises_in_derivative_builds():
    @kernel
    def ranged(x: f64[:], step: float) -> float:
        return np.sum(x * x) + np.arange(0.0, 3.0, step).size

    assert grad(ranged)(X, 1.0) == pytest.approx(2 * X)
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        grad(ranged)(X, 0.0)


@kernel
def counted(x: f64[:]) -> float:
    count = 0
    for i in range(len(x)):
        if x[i] > 0:
            count += 1
    out = np.empty(count)  # sized by a value a loop computes (sccp once folded it to 0)
    return len(out) + x[0] * x[1]


def test_array_sized_by_a_loop_result():
    x = np.array([1.0, -2.0, 3.0, 4.0])
    value, g = value_and_grad(counted)(x)
    assert value == 3 + x[0] * x[1]
    np.testing.assert_allclose(g, [x[1], x[0], 0.0, 0.0])
