"""Derivatives through the prelude (NumPy routines written in Ember, ember/prelude): Enzyme
differentiates the routines' loops like user code. Each kernel combines a few routines;
checked against central finite differences (reverse mode) and against grad . tangent
(forward mode, `jvp`)."""

import numpy as np
import pytest

from ember import check_grad, f64, grad, jvp, kernel

RNG = np.random.default_rng(13)
A = np.random.default_rng(5).normal(size=(4, 4))[[2, 0, 3, 1]] * np.array([1, 2, 3, 4.0])
A[0, 0] = 0.05  # LU needs row swaps: the derivative follows the pivots
B = RNG.normal(size=4)
M = RNG.normal(size=(3, 4))
X = RNG.normal(size=7)


@kernel
def solved(a: f64[:, :], b: f64[:]) -> float:
    x = np.linalg.solve(a, b)
    y = np.linalg.solve(a, np.outer(b, b))
    return np.sum(x * x) + np.sum(y) + np.linalg.norm(b) + np.linalg.norm(a, 1)


@kernel
def factored(a: f64[:, :]) -> float:
    s = a @ a.T + np.eye(a.shape[0])
    return (np.linalg.det(a) + np.sum(np.linalg.inv(a) * a)
            + np.sum(np.linalg.cholesky(s)) + np.sum(np.linalg.norm(a, axis=0)))


@kernel
def shifted(m: f64[:, :], x: f64[:]) -> float:
    c = np.cov(m)
    r = np.roll(x, 2) + np.flip(x)
    d = np.diff(x, n=2)
    return np.sum(c * c) + np.sum(r * x) + np.sum(d * d) + np.sum(np.diff(m, axis=0) ** 2)


@kernel
def interpolated(x: f64[:], fp: f64[:]) -> float:
    xp = np.linspace(-2.0, 2.0, fp.shape[0])
    y = np.interp(x, xp, fp)
    return np.sum(y * y) + np.interp(x[0] * 0.5, xp, fp)


@kernel
def convolved(a: f64[:], v: f64[:]) -> float:
    full = np.convolve(a, v)
    same = np.convolve(a, v, mode="same")
    valid = np.convolve(v, a, "valid")
    return np.sum(full * full) + np.sum(same) + np.sum(valid * a[:valid.shape[0]])


@kernel
def ordered(m: f64[:, :], x: f64[:]) -> float:
    """Order statistics (sorted values: piecewise linear) and triangles/diagonals."""
    return (np.median(m) + np.sum(np.median(m, axis=0) ** 2) + np.percentile(x, 30.0) * 2.0
            + np.quantile(m, 0.55) * np.median(x) + np.sum(np.triu(m, 1) * m)
            + np.sum(np.tril(m) ** 2) + np.sum(np.diag(x) @ np.diag(x)) + np.sum(np.diag(m, 1) ** 3))


@kernel
def integrated(m: f64[:, :], x: f64[:]) -> float:
    """Trapezoid sums, cross products, repeat and tile."""
    c = np.cross(m[:, :3], m[:, 1:]) + np.cross(x[:3], m[:, 1:])
    return (np.trapezoid(x, dx=0.3) + np.trapezoid(x * x, x) + np.sum(c * c)
            + np.sum(np.cross(x[:3], x[3:6]) * x[:3]) + np.sum(np.repeat(x, 2) * np.tile(x, 2)))


@pytest.mark.parametrize("fn, args", [
    (solved, (A, B)), (factored, (A,)), (shifted, (M, X)), (ordered, (M, X)),
    (integrated, (M, X)),
    (interpolated, (X * 0.8, RNG.normal(size=5))), (convolved, (X, B[:3])),
], ids=lambda v: getattr(v, "__name__", ""))
def test_prelude_gradients(fn, args):
    check_grad(fn, *args)


@pytest.mark.parametrize("fn, args", [
    (solved, (A, B)), (interpolated, (X * 0.8, RNG.normal(size=5))),
], ids=lambda v: getattr(v, "__name__", ""))
def test_prelude_jvp_agrees_with_grad(fn, args):
    tangent = RNG.normal(size=args[0].shape)
    value, tan = jvp(fn, wrt=fn.py_func.__code__.co_varnames[0])(*args, tangents=(tangent,))
    np.testing.assert_allclose(value, fn(*args), rtol=1e-12)
    g = grad(fn, wrt=fn.py_func.__code__.co_varnames[0])(*args)
    np.testing.assert_allclose(tan, np.sum(np.asarray(g) * tangent), rtol=1e-9, atol=1e-12)
