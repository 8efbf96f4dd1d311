"""Derivatives of kernels with defaults, keywords, Optional and tuple parameters: omitted
arguments take their defaults, keywords bind by name, a None argument selects its own build
(differentiated separately), `wrt` may name a parameter with a default, a tuple parameter
(its gradient a tuple of its items', a JAX pytree) or one item (`t_0`, `p_x` for NamedTuple
field x). Checked against finite differences."""

from typing import NamedTuple

import numpy as np
import pytest

import ember
from ember import check_grad, f64


@ember.kernel
def loss(x: f64[:], p: float = 2.0, w: f64[:] | None = None, *, scale: float = 1.5) -> float:
    s = 0.0
    for i in range(x.shape[0]):
        v = x[i] * x[i] * p
        if w is not None:
            v = v * w[i]
        s += v
    return s * scale


class Model(NamedTuple):
    a: f64[:]
    b: float


@ember.kernel
def fit(m: Model, data: tuple[f64[:], f64[:]]) -> float:
    xs, ys = data
    s = 0.0
    for i in range(xs.shape[0]):
        r = m.a[0] * xs[i] + m.a[1] * xs[i] * xs[i] + m.b - ys[i]
        s += r * r
    return s


X = np.array([0.5, -1.0, 2.0])
W = np.array([1.0, 0.25, -0.5])


def test_defaults_and_keywords():
    g = ember.grad(loss)
    np.testing.assert_allclose(g(X), 2 * X * 2.0 * 1.5)
    np.testing.assert_allclose(g(X, scale=2.0, p=3.0), 2 * X * 3.0 * 2.0)
    np.testing.assert_allclose(g(X, w=W), 2 * X * 2.0 * W * 1.5)
    check_grad(loss, X, 1.25, W, wrt=("x", "p"))
    check_grad(loss, X, 1.25, wrt="p")
    value, (gp, gs) = ember.value_and_grad(loss, wrt=("p", "scale"))(X, w=W, scale=0.5)
    assert value == pytest.approx(loss.py_func(X, w=W, scale=0.5))
    assert gp == pytest.approx(np.sum(X * X * W) * 0.5)
    assert gs == pytest.approx(np.sum(X * X * W * 2.0))


def test_jvp_and_vjp_bind_keywords():
    value, tangent = ember.jvp(loss, wrt="p")(X, w=W, tangents=(1.0,))
    assert value == pytest.approx(loss.py_func(X, w=W))
    assert tangent == pytest.approx(np.sum(X * X * W) * 1.5)
    grad_x = ember.vjp(loss, wrt="x")(X, scale=1.0, cotangents=(2.0,))
    np.testing.assert_allclose(grad_x, 2.0 * 2 * X * 2.0)


def test_bad_calls():
    g = ember.grad(loss)
    with pytest.raises(TypeError, match=r"loss\(\) got an unexpected keyword argument 'q'"):
        g(X, q=1.0)
    with pytest.raises(TypeError, match=r"loss\(\) missing 1 required positional argument"):
        g()
    with pytest.raises(TypeError, match="with respect to 'w': it is None in this call"):
        ember.grad(loss, wrt="w")(X)


def test_items_of_tuple_parameters():
    m = Model(np.array([0.5, -0.25]), 0.75)
    data = (np.array([1.0, 2.0, -1.0]), np.array([0.5, 1.0, 2.0]))
    ga, gb, gx = ember.grad(fit, wrt=("m_a", "m_b", "data_0"))(m, data)

    def f(a, b, xs):
        return fit.py_func(Model(a, b), (xs, data[1]))

    eps = 1e-6
    for value, index in ((m.a, 0), (data[0], 2)):
        for k in range(value.shape[0]):
            args = [m.a.copy(), m.b, data[0].copy()]
            args[index][k] += eps
            up = f(*args)
            args[index][k] -= 2 * eps
            numeric = (up - f(*args)) / (2 * eps)
            assert (ga if index == 0 else gx)[k] == pytest.approx(numeric, rel=1e-6)
    assert gb == pytest.approx((f(m.a, m.b + eps, data[0]) - f(m.a, m.b - eps, data[0]))
                               / (2 * eps), rel=1e-6)
    # a tuple parameter as a whole: its gradient is a tuple of its items' (a JAX pytree)
    (gm_a, gm_b), (gd_0, gd_1) = ember.grad(fit, wrt=("m", "data"))(m, data)
    np.testing.assert_allclose(gm_a, ga)
    assert gm_b == gb
    np.testing.assert_allclose(gd_0, gx)
    np.testing.assert_allclose(gd_1, -2 * (m.a[0] * data[0] + m.a[1] * data[0] ** 2 + m.b
                                           - data[1]))
    value, tangent = ember.jvp(fit, wrt="m")(m, data, tangents=((np.ones(2), 0.5),))
    assert value == pytest.approx(fit.py_func(m, data))
    assert tangent == pytest.approx(ga.sum() + 0.5 * gb)  # along a = (1, 1), b = 0.5


def test_wrt_an_optional_parameter_given_a_value():
    g = ember.grad(loss, wrt="w")
    np.testing.assert_allclose(g(X, w=W), X * X * 2.0 * 1.5)
    check_grad(loss, X, 2.0, W, wrt="w")
