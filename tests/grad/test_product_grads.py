"""Derivatives through array products (issue 13): `@`, np.dot, np.matmul, np.inner, np.vdot,
np.outer and np.trace, alone, through transposed and sliced views, inside elementwise
expressions and loops (the issue's least-squares `loss`). Reverse mode against central finite
differences (`check_grad`), forward mode against grad . tangent (`jvp`). Derivative builds emit
products as plain loop nests (ir/products.py), which Enzyme differentiates."""

import numpy as np
import pytest

from ember import check_grad, f64, grad, jvp, kernel

RNG = np.random.default_rng(1314)
X = RNG.normal(size=(8, 3))
W = RNG.normal(size=3)
Y = RNG.normal(size=8)
A = RNG.normal(size=(4, 3))
B = RNG.normal(size=(4, 5))


@kernel
def loss(w: f64[:], X: f64[:, :], y: f64[:], lam: float) -> float:
    r = X @ w - y
    return 0.5 * np.dot(r, r) / y.size + lam * np.dot(w, w)


@kernel
def products(A: f64[:, :], B: f64[:, :]) -> float:
    C = A.T @ B
    return np.trace(C @ C.T) + np.vdot(A[0], B[1, :3]) + np.outer(A[0], B[:, 1])[1, 2]


@kernel
def forms(A: f64[:, :], B: f64[:, :]) -> float:
    u = B[:, 0] @ A            # 1-D @ 2-D
    v = np.matmul(A.T, B[:, 1])  # 2-D @ 1-D
    M = np.inner(A.T, A.T)     # A.T @ A
    return np.dot(u, v) + M[0, 1] * M[2, 2] + np.trace(A[::-1, :] @ A.T, 1)


@kernel
def in_loop(A: f64[:, :], x: f64[:], steps: int) -> float:
    s = 0.0
    for _ in range(steps):
        x[:] = np.tanh(A @ x) + 0.5 * x
        s += np.dot(x, x)
    return s


@pytest.mark.parametrize("fn, args", [
    (loss, (W, X, Y, 0.1)), (products, (A, B)), (forms, (A, B)),
    (in_loop, (RNG.normal(size=(3, 3)), W, 3)),  # a new A @ x in each iteration
], ids=lambda v: getattr(v, "__name__", ""))
def test_product_gradients(fn, args):
    check_grad(fn, *args)


def test_loss_forward_mode_matches_reverse():
    tangent = RNG.normal(size=3)
    value, dot = jvp(loss, wrt="w")(W.copy(), X, Y, 0.1, tangents=(tangent,))
    assert np.isclose(value, loss(W, X, Y, 0.1))
    assert np.isclose(dot, np.dot(grad(loss)(W, X, Y, 0.1), tangent))
