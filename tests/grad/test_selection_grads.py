"""Derivatives through sorting, boolean masks and joins (issue 13): the gradient of np.sort /
a.sort() flows through the permutation, a[mask] and a[mask] = v / += v move derivatives with
the selected elements (also a[idx] and a[idx] = v / += v with integer index arrays, and rows A[idx] of a 2-D A),
np.concatenate/np.stack/np.hstack/np.vstack with their pieces; argsort,
searchsorted and counts are discrete. Each kernel is checked in reverse mode against central
finite differences (`check_grad`, on distinct values, away from mask edges) and in forward
mode (`jvp`: the value against the kernel, the tangent against grad . tangent)."""

import copy

import numpy as np
import pytest

from ember import check_grad, f64, grad, jvp, kernel

RNG = np.random.default_rng(2026)


def sorted_values(x: f64[:], w: f64[:], m: f64[:, :]) -> float:
    s = np.sort(x)
    c = x.copy()
    c.sort()
    idx = np.argsort(x)
    t = 0.0
    for k in range(len(x)):
        t += x[idx[k]] * w[k] * w[k]
    rows = np.sort(m * x[0], axis=-1) + np.sort(m * x[1], axis=0)
    pos = np.searchsorted(s, 0.0)
    return np.sum(s * w) + np.sum(np.sin(c) * w) + t + np.sum(rows * rows) + s[pos] * 0.5


def masked(x: f64[:], m: f64[:, :]) -> float:
    y = x[x > 0]
    z = x * 1.5
    z[x < 0] = 0.5 * x[x < 0]
    z[z > 1] += np.sin(z[z > 1])
    q = m.copy()
    q[m > 0] = np.exp(m[m > 0])
    q[m < -1] = x[0]
    idx = np.argsort(x)
    g = x[idx[::2]]  # a gather, then scatters (integer index arrays)
    r = x * 1.0
    r[idx[:3]] = np.sin(g[:3])
    r[idx[3:5]] += x[:2] * 3.0
    return (np.sum(y * y) + np.sum(z * np.cos(z)) + np.sum(q * m) + np.count_nonzero(y) * x[1]
            + np.sum(g * g * g) + np.sum(r * np.exp(r)))


def joined(a: f64[:, :], b: f64[:, :]) -> float:
    c = np.concatenate((a, b * 2.0), axis=0)
    d = np.stack((a, b), axis=2)
    e = np.vstack((a, np.sin(b)))
    f = np.hstack((a[0], b[1], a[1]))
    idx = np.array([1, 0, 1])
    g = a[idx]  # rows of a 2-D array, then a scatter-add of rows
    r = b * 1.0
    r[idx[:2]] += a * 3.0
    return (np.sum(np.sin(c)) + np.sum(d * d * d) + np.sum(e * c) + np.sum(f * np.arange(9))
            + np.sum(g * g * g) + np.sum(r * np.sin(r)))


X = RNG.permutation(np.linspace(-2.0, 2.0, 9)) + RNG.normal(size=9) * 0.01  # distinct values
W = RNG.normal(size=9)
M = RNG.normal(size=(3, 4))
M = M + 0.1 * np.sign(M)  # away from the mask's edges (0 and -1)
M[np.abs(M + 1) < 0.1] -= 0.3
CASES = [(sorted_values, (X, W, M)), (masked, (X, M)),
         (joined, (RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))))]
IDS = [f.__name__ for f, _ in CASES]


@pytest.mark.parametrize(("f", "args"), CASES, ids=IDS)
def test_grad_and_jvp(f, args):
    k = kernel(f)
    wrt = f.__code__.co_varnames[0]
    check_grad(k, *copy.deepcopy(args), wrt=wrt)
    tangent = RNG.normal(size=np.shape(args[0]))
    value, tan = jvp(k, wrt=wrt)(*copy.deepcopy(args), tangents=(tangent,))
    np.testing.assert_allclose(value, k(*copy.deepcopy(args)), rtol=1e-12)
    g = grad(k, wrt=wrt)(*copy.deepcopy(args))
    np.testing.assert_allclose(tan, np.sum(np.asarray(g) * tangent), rtol=1e-9, atol=1e-12)


def test_sort_gradient_is_the_permutation():
    g = grad(kernel(sorted_values), wrt="w")(X.copy(), W.copy(), M.copy())
    s = np.sort(X)
    want = s + np.sin(s) + 2 * W * s
    np.testing.assert_allclose(g, want, rtol=1e-12)
