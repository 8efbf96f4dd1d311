"""Derivatives through array creation (issue 13, "Creation"): arrays made by np.zeros/ones/
full/empty/*_like, np.arange, np.linspace, np.eye and np.array are constants of the derivative
where their values do not depend on active inputs, and carry the derivative where they do
(np.linspace(a, b, n), np.array([x, y]), copies of active arrays: np.copy, .copy(),
.flatten(), .fill()). Checked against central finite differences; reshape/ravel views are
refused in derivative builds with a clear message."""

import math

import numpy as np
import pytest

from ember import CompileError, check_grad, f64, grad, kernel

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


def test_reshape_refused_in_derivative_builds():
    @kernel
    def reshaped(a: f64[:]) -> float:
        b = a.reshape(2, -1)
        return b[0, 0] * b[1, 1]

    assert reshaped(np.arange(6.0)) == 0.0 * 4.0
    with pytest.raises(CompileError, match="reshape.*not supported in derivative builds"):
        grad(reshaped)(np.arange(6.0))
