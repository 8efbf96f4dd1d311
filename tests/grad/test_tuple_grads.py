"""Derivatives through tuples of arrays and returned parameters: a called kernel returning a
tuple of (array, float), tuple locals unpacked and indexed, and a called kernel that scales
its argument in place and returns it (the caller's result aliases its array). Reverse mode
against central finite differences, forward mode against grad . tangent."""

import numpy as np

from ember import check_grad, f64, grad, jvp, kernel


@kernel
def parts(x: f64[:], k: float) -> tuple[f64[:], float]:
    y = x * k
    return y, np.sum(y * y)


@kernel
def scale_(x: f64[:], k: float) -> f64[:]:
    for i in range(x.shape[0]):
        x[i] = x[i] * k
    return x


@kernel
def through_tuples(x: f64[:], k: float) -> float:
    y, s = parts(x, k)
    t = (y, x)
    a, b = t
    return s + np.sum(a * b) + t[1][0] * len(t)


@kernel
def through_alias(x: f64[:], k: float) -> float:
    w = x.copy()
    z = scale_(w, k)  # z is w
    return np.sum(z * w) + np.sum(np.sin(z[1:]))


def test_reverse_mode_matches_finite_differences():
    x = np.array([0.3, -1.2, 0.8, 2.0])
    for f in (through_tuples, through_alias):
        check_grad(f, x, 1.5, wrt=("x", "k"))


def test_alias_gradient_in_closed_form():
    x = np.array([1.0, 2.0, 3.0])
    gx, gk = grad(through_alias, wrt=("x", "k"))(x, 1.5)
    # sum((k x)^2) + sum(sin(k x[1:]))
    want_x = 2 * 1.5**2 * x + np.r_[0.0, 1.5 * np.cos(1.5 * x[1:])]
    np.testing.assert_allclose(gx, want_x, rtol=1e-12)
    assert gk == np.float64(2 * 1.5 * np.sum(x * x) + np.sum(x[1:] * np.cos(1.5 * x[1:])))


def test_forward_mode_agrees_with_reverse():
    x = np.array([0.3, -1.2, 0.8, 2.0])
    dx = np.array([0.5, 0.1, -0.2, 1.0])
    for f in (through_tuples, through_alias):
        value, tangent = jvp(f, wrt=("x", "k"))(x, 1.5, tangents=(dx, 0.25))
        gx, gk = grad(f, wrt=("x", "k"))(x, 1.5)
        assert value == np.float64(f(x, 1.5)) or abs(value - f(x, 1.5)) < 1e-12
        np.testing.assert_allclose(tangent, gx @ dx + gk * 0.25, rtol=1e-10)


@kernel
def second(a: f64[:], b: f64[:]) -> f64[:]:
    return b


@kernel
def writes_through_call(x: f64[:], y: f64[:]) -> float:
    z = second(x, y)  # z is y: y is written, so its derivative is tracked
    z[0] = x[0] * 3.0
    return np.sum(y * y)


@kernel
def writes_through_tuple(x: f64[:], y: f64[:]) -> float:
    t = (x, y)
    t[1][0] = x[0] * 3.0
    return np.sum(y * y)


def test_writes_through_aliases_are_differentiated():
    x, y = np.array([1.0, 2.0]), np.array([5.0, 7.0])
    for f in (writes_through_call, writes_through_tuple):
        np.testing.assert_allclose(grad(f, wrt="x")(x, y.copy()), [18.0, 0.0])
        check_grad(f, x, y.copy(), wrt=("x", "y"))
