"""Derivatives through the product rewrites of issue 13 (tests/e2e/test_product_rewrites.py):
chains `A @ B @ x`, `x @ A @ B @ y`, `A @ B @ C` and fused epilogues `alpha * (A @ B) + beta
* C`, `np.tanh(A @ W + bias)`. Derivative builds emit the written order as plain loop nests
(ir/chains.py, ir/epilogue.py leave them to ir/products.py and ir/arrays.py), which Enzyme
differentiates: reverse mode against central finite differences, forward mode against the
reverse gradient."""

import numpy as np

from ember import check_grad, f64, grad, jvp, kernel

RNG = np.random.default_rng(1315)
A, B, C = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 5)), RNG.normal(size=(5, 2))
X, Y = RNG.normal(size=5), RNG.normal(size=4)


@kernel
def chains(a: f64[:, :], b: f64[:, :], c: f64[:, :], x: f64[:], y: f64[:]) -> float:
    u = a @ b @ x
    s = y @ a @ b @ x
    m = a @ b @ c
    return np.dot(u, u) + s + np.sum(m * m)


@kernel
def epilogues(alpha: float, a: f64[:, :], b: f64[:, :], beta: float, c: f64[:, :],
              bias: f64[:]) -> float:
    g = alpha * (a @ b) + beta * c
    h = np.tanh(a @ b + bias)
    return np.sum(g * g) + np.sum(h)


def test_chain_gradients():
    check_grad(chains, A, B, C, X, Y)


def test_epilogue_gradients():
    c = RNG.normal(size=(4, 5))
    check_grad(epilogues, 1.5, A, B, -0.5, c, X)


def test_epilogue_forward_mode_matches_reverse():
    c, tangent = RNG.normal(size=(4, 5)), RNG.normal(size=(4, 3))
    args = (1.5, A, B, -0.5, c, X)
    value, dot = jvp(epilogues, wrt="a")(*args, tangents=(tangent,))
    assert np.isclose(value, epilogues(*args))
    assert np.isclose(dot, np.sum(grad(epilogues, wrt="a")(*args) * tangent))


@kernel
def into(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> float:
    d = c * 1.0
    d += a @ b
    d[...] = 2.0 * (a @ b) - d
    return np.sum(d * d)


def test_products_into_arrays_gradients():
    check_grad(into, A, B, RNG.normal(size=(4, 5)))
