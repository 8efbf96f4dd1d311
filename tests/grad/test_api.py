"""Tests of the derivative API: wrt by name and by position, tuple wrt order, value_and_grad,
jvp and vjp against grad, the decorator forms, error cases, side effects of derivative functions
on their arguments (the same as the kernel's) and freshness of the returned gradients."""

import copy
import math

import numpy as np
import pytest

from ember import (
    Derivative,
    GradientCheckError,
    check_grad,
    f32,
    f64,
    grad,
    jvp,
    kernel,
    value_and_grad,
    vjp,
)

W = np.array([0.3, -0.8, 1.2])
XS = np.array([[1.0, 0.5, -0.2], [0.1, -1.0, 0.7], [0.6, 0.2, 0.9], [-0.4, 0.8, 0.3]])
YS = np.array([1.0, -0.5, 0.25, 0.8])


def loss(w: f64[:], x: f64[:, :], y: f64[:], lam: float) -> float:
    s = 0.0
    for i in range(x.shape[0]):
        p = 0.0
        for j in range(x.shape[1]):
            p += x[i, j] * w[j]
        s += (math.tanh(p) - y[i]) ** 2
    r = 0.0
    for j in range(len(w)):
        r += w[j] * w[j]
    return s + lam * r


def loss_ref(w, x, y, lam):
    return float(np.sum((np.tanh(x @ w) - y) ** 2) + lam * np.sum(w * w))


def loss_grad_ref(w, x, y, lam):
    t = np.tanh(x @ w)
    gw = x.T @ (2 * (t - y) * (1 - t * t)) + 2 * lam * w
    return gw, float(np.sum(w * w))


def mutates(x: f64[:], a: float) -> float:
    for i in range(len(x)):
        x[i] = x[i] * a + 1.0
    return x[0] * x[1]


def counts(x: f64[:], n: int) -> float:
    s = 0.0
    for i in range(n):
        s += x[i % len(x)] * (i + 1)
    return s


def returns_int(x: float) -> int:
    return int(x * 2.0)


def returns_array(x: f64[:]) -> f64[:]:
    y = np.zeros(len(x))
    for i in range(len(x)):
        y[i] = x[i] * 2.0
    return y


def writes_out(x: f64[:], out: f64[:]) -> None:
    for i in range(len(x)):
        out[i] = math.sin(x[i]) * x[i]


def args():
    return W.copy(), XS.copy(), YS.copy(), 0.1


def test_wrt_by_name():
    gw, _ = loss_grad_ref(*args())
    np.testing.assert_allclose(grad(loss, wrt="w")(*args()), gw, rtol=1e-13)


def test_default_wrt_is_first_parameter():
    np.testing.assert_array_equal(grad(loss)(*args()), grad(loss, wrt="w")(*args()))


def test_wrt_by_position():
    np.testing.assert_array_equal(grad(loss, wrt=0)(*args()), grad(loss, wrt="w")(*args()))
    assert grad(loss, wrt=3)(*args()) == grad(loss, wrt="lam")(*args())
    assert grad(loss, wrt=-1)(*args()) == grad(loss, wrt="lam")(*args())


def test_tuple_wrt_in_given_order():
    gw, glam = loss_grad_ref(*args())
    a, b = grad(loss, wrt=("w", "lam"))(*args())
    c, d = grad(loss, wrt=("lam", "w"))(*args())
    np.testing.assert_allclose(a, gw, rtol=1e-13)
    np.testing.assert_allclose(b, glam, rtol=1e-13)
    assert c == b
    np.testing.assert_array_equal(d, a)


def test_mixed_names_and_positions():
    gw, gx = grad(loss, wrt=("w", 1))(*args())
    assert gw.shape == (3,) and gx.shape == (4, 3)
    check_grad(loss, *args(), wrt=("w", 1, "y", 3))


def test_gradient_shape_and_dtype():
    g = grad(loss, wrt="x")(*args())
    assert g.shape == XS.shape and g.dtype == np.float64
    assert isinstance(grad(loss, wrt="lam")(*args()), float)


def test_value_and_grad_value_equals_kernel():
    v, g = value_and_grad(loss, wrt="w")(*args())
    assert v == kernel(loss)(*args())
    np.testing.assert_allclose(v, loss_ref(*args()), rtol=1e-13)
    np.testing.assert_array_equal(g, grad(loss, wrt="w")(*args()))


def test_value_and_grad_tuple_wrt():
    v, (gw, glam) = value_and_grad(loss, wrt=("w", "lam"))(*args())
    assert v == kernel(loss)(*args())
    assert glam == grad(loss, wrt="lam")(*args())


def test_jvp_is_directional_derivative():
    dw = np.array([0.5, -1.0, 2.0])
    v, dv = jvp(loss, wrt="w")(*args(), tangents=(dw,))
    assert v == pytest.approx(kernel(loss)(*args()), rel=1e-14)
    np.testing.assert_allclose(dv, np.dot(grad(loss)(*args()), dw), rtol=1e-12)


def test_jvp_two_inputs():
    dw, dlam = np.array([1.0, 0.0, -1.0]), 0.5
    _, dv = jvp(loss, wrt=("w", "lam"))(*args(), tangents=(dw, dlam))
    gw, glam = grad(loss, wrt=("w", "lam"))(*args())
    np.testing.assert_allclose(dv, np.dot(gw, dw) + glam * dlam, rtol=1e-12)


def test_jvp_of_array_output():
    x, dx = np.array([0.3, 1.2]), np.array([1.0, -2.0])
    _, dout = jvp(writes_out, wrt="x", outputs="out")(x, np.zeros(2), tangents=(dx,))
    np.testing.assert_allclose(dout, (np.cos(x) * x + np.sin(x)) * dx, rtol=1e-14)


def test_vjp_matches_grad_for_scalar_result():
    g = vjp(loss, wrt="w")(*args(), cotangents=(2.5,))
    np.testing.assert_allclose(g, 2.5 * grad(loss)(*args()), rtol=1e-14)


def test_vjp_of_array_output_matches_jvp():
    x, ct, t = np.array([0.3, 1.2, -0.5]), np.array([1.0, 2.0, -1.0]), np.array([0.2, -0.1, 1.0])
    gx = vjp(writes_out, wrt="x", outputs="out")(x.copy(), np.zeros(3), cotangents=(ct,))
    _, dout = jvp(writes_out, wrt="x", outputs="out")(x.copy(), np.zeros(3), tangents=(t,))
    np.testing.assert_allclose(np.dot(gx, t), np.dot(ct, dout), rtol=1e-13)


def test_decorator_bare():
    @grad
    def energy(theta: f64[:]) -> float:
        s = 0.0
        for i in range(len(theta)):
            s += math.cos(theta[i])
        return s

    assert isinstance(energy, Derivative)
    np.testing.assert_allclose(energy(W.copy()), -np.sin(W), rtol=1e-15)


def test_decorator_with_wrt():
    @grad(wrt="b")
    def f(a: float, b: float) -> float:
        return a * b * b

    assert f(2.0, 3.0) == 12.0


def test_decorator_value_and_grad_and_jvp():
    @value_and_grad(wrt=("a", "b"))
    def f(a: float, b: float) -> float:
        return a * math.exp(b)

    @jvp(wrt="b")
    def h(a: float, b: float) -> float:
        return a * math.exp(b)

    v, (ga, gb) = f(2.0, 0.5)
    assert (v, ga, gb) == pytest.approx((2 * math.exp(0.5), math.exp(0.5), 2 * math.exp(0.5)))
    assert h(2.0, 0.5, tangents=(3.0,)) == pytest.approx((2 * math.exp(0.5), 6 * math.exp(0.5)))


def test_grad_of_kernel_object_and_plain_function_agree():
    np.testing.assert_array_equal(grad(kernel(loss))(*args()), grad(loss)(*args()))


def test_integer_argument_is_constant():
    check_grad(counts, W, 7)


def test_wrt_int_parameter_raises():
    with pytest.raises(TypeError, match="'n'"):
        grad(counts, wrt="n")(W.copy(), 5)


def test_unknown_parameter_raises():
    with pytest.raises((ValueError, TypeError), match="nope"):
        grad(loss, wrt="nope")(*args())


def test_position_out_of_range_raises():
    with pytest.raises((ValueError, TypeError)):
        grad(loss, wrt=4)(*args())


def test_grad_of_int_result_raises():
    with pytest.raises(TypeError):
        grad(returns_int)(1.5)


def test_grad_of_array_result_raises():
    with pytest.raises(TypeError):
        grad(returns_array)(W.copy())


def test_wrong_number_of_tangents_raises():
    with pytest.raises(TypeError, match="tangents"):
        jvp(loss, wrt=("w", "y"))(*args(), tangents=(np.ones(3),))
    with pytest.raises(TypeError, match="tangents"):
        jvp(loss, wrt="w")(*args())


def test_wrong_number_of_cotangents_raises():
    with pytest.raises(TypeError, match="cotangents"):
        vjp(writes_out, wrt="x", outputs="out")(W.copy(), np.zeros(3), cotangents=())
    with pytest.raises(TypeError, match="cotangents"):
        vjp(writes_out, wrt="x", outputs="out")(W.copy(), np.zeros(3), cotangents=(W, W))


def test_wrong_tangent_shape_raises():
    with pytest.raises(ValueError, match="shape"):
        jvp(loss, wrt="w")(*args(), tangents=(np.ones(4),))


def test_wrong_number_of_arguments_raises():
    with pytest.raises(TypeError):
        grad(loss)(W.copy(), XS.copy())


def test_wrong_argument_type_raises():
    with pytest.raises(TypeError):
        grad(loss)(W.astype(np.float32), XS.copy(), YS.copy(), 0.1)


def test_derivative_has_the_kernels_side_effects():
    x_kernel, x_grad, x_vg, x_jvp = (W.copy() for _ in range(4))
    kernel(mutates)(x_kernel, 1.5)
    grad(mutates, wrt=("x", "a"))(x_grad, 1.5)
    value_and_grad(mutates)(x_vg, 1.5)
    jvp(mutates)(x_jvp, 1.5, tangents=(np.ones(3),))
    for x in (x_grad, x_vg, x_jvp):
        np.testing.assert_array_equal(x, x_kernel)


def test_vjp_writes_the_output_like_the_kernel():
    out_k, out_v = np.zeros(3), np.zeros(3)
    kernel(writes_out)(W.copy(), out_k)
    vjp(writes_out, wrt="x", outputs="out")(W.copy(), out_v, cotangents=(np.ones(3),))
    np.testing.assert_array_equal(out_v, out_k)


def test_gradient_of_mutating_kernel_is_wrt_entry_values():
    gx, ga = grad(mutates, wrt=("x", "a"))(W.copy(), 1.5)
    u = W * 1.5 + 1.0
    np.testing.assert_allclose(gx, [u[1] * 1.5, u[0] * 1.5, 0.0], rtol=1e-15)
    assert ga == pytest.approx(W[0] * u[1] + u[0] * W[1], rel=1e-15)


def test_gradients_are_fresh_arrays():
    w = W.copy()
    a = args()
    g1 = grad(loss)(w, *a[1:])
    g2 = grad(loss)(w, *a[1:])
    assert g1 is not w and not np.shares_memory(g1, w)
    assert not np.shares_memory(g1, g2)
    for arr in a[1:3]:
        assert not np.shares_memory(g1, arr)
    np.testing.assert_array_equal(w, W)  # a read-only input is left alone
    g1[:] = 99.0
    np.testing.assert_array_equal(g2, grad(loss)(w, *a[1:]))


def test_repeated_calls_do_not_accumulate():
    d = grad(loss, wrt=("w", "x"))
    first = d(*args())
    second = d(*args())
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_f32_gradient_dtype():
    def f(x: f32[:]) -> f32:
        s = np.float32(0.0)
        for i in range(len(x)):
            s += x[i] * x[i]
        return s

    x = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    g = grad(f)(x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, 2 * x)


def test_check_grad_detects_a_wrong_gradient():
    # a kernel whose finite differences disagree with any analytic derivative: the branch on
    # the perturbed value jumps, so the check must fail loudly rather than pass
    def jump(x: float) -> float:
        return x + 1.0 if x > 1.0 else x

    with pytest.raises(GradientCheckError, match="jump"):
        check_grad(jump, 1.0 + 1e-9)


def test_check_grad_works_on_copies():
    x = W.copy()
    check_grad(mutates, x, 1.5, wrt=("x", "a"))
    np.testing.assert_array_equal(x, W)
    before = copy.deepcopy(args())
    check_grad(loss, *before)
    np.testing.assert_array_equal(before[0], W)
