"""Derivatives with respect to real inputs of kernels that compute with complex intermediates
(Enzyme sees the real and imaginary parts as floats: lowering/enzyme.py PREPARE), checked
against central finite differences; and the refusals: a complex parameter as `wrt`, forward
mode through loop-carried complex values."""

import cmath

import numpy as np
import pytest

import ember
from ember import c128, check_grad, f64


def phasor(x: float, wr: float, wi: float) -> float:
    z = np.exp(1j * x)
    w = complex(wr, wi)
    return abs(z * w + 0.5) + (z * z).imag + cmath.phase(w * z)


def polynomial(x: float) -> float:
    z = complex(x, 0.3)
    p = ((2 - 1j) * z + 3j) * z - 1
    return abs(p) ** 2 + cmath.phase(p) + (cmath.sqrt(p) / (z + 2)).real + (p ** 3).imag


def dft_magnitude(x: f64[:]) -> float:
    n = x.shape[0]
    total = 0.0
    for k in range(n):
        acc = 0j
        for t in range(n):
            acc += x[t] * cmath.exp(-2j * cmath.pi * k * t / n)
        total += abs(acc)
    return total


def array_expression(x: f64[:], y: f64[:]) -> float:
    z = np.exp(1j * x) * (1 + 2j) + y
    return np.sum(np.abs(z * z + x)) + np.sum(z).real + np.mean(np.log(z / 2)).imag


def workspace(x: f64[:], w: c128[:]) -> float:
    for i in range(x.shape[0]):
        w[i] = cmath.exp(1j * x[i]) * (x[i] + 1j)
    return np.sum(np.abs(w * w)) + np.sum(w).imag


def transcendental(x: float) -> float:
    z, w = complex(x, 0.3), complex(0.2, x)
    u = cmath.sin(z) + cmath.tan(z) * cmath.tanh(w) + cmath.cos(w) + cmath.sinh(z / 2)
    u += np.log10(w) + np.expm1(z) + np.log1p(w) + cmath.cosh(w) - cmath.sqrt(w) * z ** 0.5
    return u.real + u.imag + abs(u) + cmath.phase(u)


X = np.array([0.3, 1.0, -0.5, 2.0])


@pytest.mark.parametrize("f, args", [
    (phasor, (0.7, 1.2, -0.4)), (polynomial, (0.8,)), (dft_magnitude, (X,)),
    (array_expression, (X, X[::-1] + 0.5)), (transcendental, (0.7,)), (transcendental, (-1.3,)),
], ids=["phasor", "polynomial", "dft", "arrays", "transcendental", "transcendental-negative"])
def test_gradients_match_finite_differences(f, args):
    check_grad(f, *args)


def test_written_complex_array_carries_derivatives():
    check_grad(workspace, X[:3].copy(), np.zeros(3, complex), wrt="x")


def test_value_and_grad_and_straight_line_jvp():
    k = ember.kernel(phasor)
    value, grads = ember.value_and_grad(k, wrt=("x", "wr"))(0.7, 1.2, -0.4)
    assert value == pytest.approx(phasor(0.7, 1.2, -0.4), rel=1e-14)
    h = 1e-6
    fd = (phasor(0.7 + h, 1.2, -0.4) - phasor(0.7 - h, 1.2, -0.4)) / (2 * h)
    assert grads[0] == pytest.approx(fd, rel=1e-7)
    value, tangent = ember.jvp(k, wrt="x")(0.7, 1.2, -0.4, tangents=(1.0,))
    assert tangent == pytest.approx(fd, rel=1e-7)


def test_complex_parameters_are_refused_as_wrt():
    @ember.kernel
    def scale(z: complex, x: float) -> float:
        return abs(z * x)

    with pytest.raises(TypeError, match="complex parameter 'z'.*real and imaginary parts"):
        ember.grad(scale, wrt="z")(1 + 1j, 0.5)
    assert ember.grad(scale, wrt="x")(1 + 1j, 0.5) == pytest.approx(abs(1 + 1j))
    assert ember.jvp(scale, wrt="x")(1 + 1j, 0.5, tangents=(2.0,))[1] == pytest.approx(
        2 * abs(1 + 1j))  # a complex constant parameter in forward mode


def branchy(x: float, n: int) -> float:
    z = complex(x, 0.5)
    w = 1j
    for k in range(n):
        if k % 2 == 0:  # noqa: SIM108 - a complex value merged by an if
            w = w * z + 0.5
        else:
            w = w.conjugate() - z * 0.25
    if x > 0:
        w = w * w
    return abs(w) + w.imag


@pytest.mark.parametrize("f, args, tangent", [
    (dft_magnitude, (X,), np.array([1.0, -0.5, 0.25, 2.0])), (branchy, (0.7, 5), 1.0),
    (branchy, (-0.4, 4), 1.0)], ids=["dft", "branchy", "branchy-negative"])
def test_jvp_through_loop_carried_and_merged_complex(f, args, tangent):
    k = ember.kernel(f)
    value, got = ember.jvp(k, wrt=0)(*args, tangents=(tangent,))
    h = 1e-6
    up, down = (f(args[0] + s * h * tangent, *args[1:]) for s in (1, -1))
    assert value == pytest.approx(f(*args), rel=1e-14)
    assert got == pytest.approx((up - down) / (2 * h), rel=1e-7)


def test_forward_mode_refuses_complex_arrays():
    k = ember.kernel(array_expression)
    with pytest.raises(ember.CompileError, match="forward mode.*complex"):
        ember.jvp(k, wrt="x")(X.copy(), X.copy(), tangents=(np.ones(4),))


def test_complex_outputs_are_refused():
    @ember.kernel
    def fill(x: f64[:], out: c128[:]) -> None:
        for i in range(x.shape[0]):
            out[i] = x[i] * 1j

    with pytest.raises(TypeError, match="complex output 'out'.*float arrays"):
        ember.vjp(fill, wrt="x", outputs="out")(np.ones(2), np.zeros(2, complex),
                                                cotangents=(np.ones(2, complex),))
