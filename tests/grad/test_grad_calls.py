"""Gradient tests through calls to other kernels: scalar helpers, helpers reading and writing
arrays, a chain of three kernel calls, a helper called in a loop, and a helper used by two
differentiated kernels."""

import math

import numpy as np

from ember import check_grad, f64, grad, kernel

X = np.array([0.5, -1.1, 0.8, 1.9])


@kernel
def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


@kernel
def sq(x: float) -> float:
    return x * x


@kernel
def dot(a: f64[:], b: f64[:]) -> float:
    s = 0.0
    for i in range(len(a)):
        s += a[i] * b[i]
    return s


@kernel
def axpy_into(a: float, x: f64[:], y: f64[:]) -> None:
    for i in range(len(x)):
        y[i] += a * x[i]


@kernel
def stage1(x: float) -> float:
    return math.sin(x) * 2.0 + x


@kernel
def stage2(y: float, c: float) -> float:
    return math.exp(y * c) + sq(y)


@kernel
def stage3(z: float) -> float:
    return math.sqrt(z + 1.0) * softplus(z * 0.1)


def chain_of_three(x: float, c: float) -> float:
    return stage3(stage2(stage1(x), c))


def scalar_helper_in_loop(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        s += softplus(x[i]) * sq(x[i] - 0.5)
    return s


def array_helper(x: f64[:], w: f64[:]) -> float:
    return math.tanh(dot(x, w)) + dot(x, x) * 0.25


def mutating_helper(x: f64[:], y: f64[:], a: float) -> float:
    axpy_into(a, x, y)
    axpy_into(a * a, y, x)
    return dot(x, y)


def nested_calls(x: float) -> float:
    return sq(sq(softplus(x)) + stage1(sq(x)))


def test_chain_of_three_kernels(): check_grad(chain_of_three, 0.3, 0.7, wrt=("x", "c"))
def test_scalar_helper_in_loop(): check_grad(scalar_helper_in_loop, X)
def test_array_helper(): check_grad(array_helper, X, X[::-1].copy(), wrt=("x", "w"))
def test_mutating_helper(): check_grad(mutating_helper, X, X * 0.5 + 1.0, 0.6, wrt=("x", "y", "a"))
def test_nested_calls(): check_grad(nested_calls, 0.45)
def test_grad_of_a_decorated_kernel(): check_grad(dot, X, X + 1.0, wrt=("a", "b"))
def test_grad_of_callee_itself(): check_grad(stage2, 0.4, 1.2, wrt=(0, 1))


def test_chain_matches_hand_derivative():
    x, c = 0.3, 0.7
    y = math.sin(x) * 2 + x
    z = math.exp(y * c) + y * y
    sp = math.log1p(math.exp(0.1 * z))
    dz = (0.5 / math.sqrt(z + 1)) * sp + math.sqrt(z + 1) * 0.1 / (1 + math.exp(-0.1 * z))
    dy = dz * (c * math.exp(y * c) + 2 * y)
    gx, gc = grad(chain_of_three, wrt=("x", "c"))(x, c)
    np.testing.assert_allclose([gx, gc], [dy * (2 * math.cos(x) + 1), dz * y * math.exp(y * c)],
                               rtol=1e-13)
