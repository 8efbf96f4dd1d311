"""Derivatives through NumPy reductions and scans: sum, prod, mean, var, std, min/max (the
derivative flows to the extreme element), cumsum/cumprod, with axis None/0/1 and keepdims,
over fused and broadcast operands; argmin/argmax/any/all have no derivative of their own but
compile inside differentiated kernels (`x[np.argmax(x)]` differentiates through the load).
Each kernel is checked in reverse mode against central finite differences (`check_grad`) and
in forward mode (`jvp` against grad . tangent). Derivative builds emit reductions as plain
scf loops in order, with broadcasting folded into the load indices (ir/reductions.py)."""

import copy

import numpy as np
import pytest
from reducers import total, total2

from ember import check_grad, f32, f64, grad, jvp, kernel, value_and_grad, vjp

RNG = np.random.default_rng(2024)
X = RNG.normal(size=6)
Y = RNG.normal(size=6)
A = RNG.normal(size=(4, 5))
B = RNG.normal(size=(4, 5))
NEAR1 = 1.0 + 0.3 * RNG.uniform(-1.0, 1.0, size=(3, 4))


# --- sum / prod / mean over axes ----------------------------------------------------------------
def sum_all(a: f64[:, :]) -> float:
    return np.sum(a * a) + a.sum() * 0.5


def sum_axis0(a: f64[:, :]) -> float:
    return total(np.sum(np.sin(a), axis=0))


def sum_axis1(a: f64[:, :]) -> float:
    return total(a.sum(axis=1) ** 2)


def sum_axis_neg_keepdims(a: f64[:, :]) -> float:
    return total2(np.sum(a * a, axis=-1, keepdims=True) * a)


def sum_keepdims_all(a: f64[:, :]) -> float:
    return total2(np.exp(a) / np.sum(np.exp(a), keepdims=True))


def sum_tuple_axes(a: f64[:, :]) -> float:
    return np.sum(a * a, axis=(0, 1)) + total2(a.sum(axis=(1,), keepdims=True) * a)


def fused_product(a: f64[:, :], b: f64[:, :]) -> float:
    return np.sum(a * b) + np.sum(np.abs(a)) * 0.25


def broadcast_operand(a: f64[:, :], x: f64[:]) -> float:
    return np.sum(a * x) + total(np.sum(a - x[:, None][:4, :], axis=1) * 0.5)  # (4,5)*(5,)


def broadcast_column(a: f64[:, :], c: f64[:, :]) -> float:
    return total(np.sum(a * c, axis=0)) + np.mean(a + c) * 2.0  # (4,5)*(4,1)


def prod_all(a: f64[:, :]) -> float:
    return np.prod(a) + a.prod() * 0.5


def prod_axes(a: f64[:, :]) -> float:
    return total(np.prod(a, axis=0)) + total(a.prod(axis=1)) + total2(
        np.prod(a, axis=1, keepdims=True) * a)


def mean_axes(a: f64[:, :]) -> float:
    return np.mean(a * a) + total(np.mean(a, axis=0)) + total(a.mean(axis=1) ** 2) + total2(
        np.mean(a, axis=0, keepdims=True) * a)


# --- var / std ------------------------------------------------------------------------------------
def var_all(a: f64[:, :]) -> float:
    return np.var(a) + a.var(ddof=1) * 0.5


def var_axes(a: f64[:, :]) -> float:
    return total(np.var(a, axis=0)) + total(a.var(axis=1, ddof=1)) + total2(
        np.var(a, axis=1, keepdims=True) * a)


def std_axes(a: f64[:, :]) -> float:
    return np.std(a * 2.0) + total(np.std(a, axis=0)) + total(a.std(axis=1, ddof=1)) + total2(
        np.std(a, axis=0, keepdims=True) + a)


# --- min / max --------------------------------------------------------------------------------------
def max_all(a: f64[:, :]) -> float:
    return np.max(a * a) + a.min() * 3.0


def minmax_axes(a: f64[:, :]) -> float:
    return total(np.max(np.sin(a), axis=0)) + total(a.min(axis=1)) + total2(
        np.max(a, axis=1, keepdims=True) * a) + total2(np.min(a, axis=0, keepdims=True))


def amax_amin(x: f64[:]) -> float:
    return np.amax(x) * np.amin(x)


# --- scans ------------------------------------------------------------------------------------------
def cumsum_flat(a: f64[:, :]) -> float:
    return total(np.cumsum(a * a)) + total(a.cumsum() * 0.5)


def cumsum_axes(a: f64[:, :]) -> float:
    return total2(np.cumsum(a, axis=0) ** 2) + total2(a.cumsum(axis=1) * a)


def cumprod_axes(a: f64[:, :]) -> float:
    return total(np.cumprod(a)) + total2(np.cumprod(a, axis=0)) + total2(
        a.cumprod(axis=-1) * 0.5)


# --- discrete reductions inside differentiated kernels ------------------------------------------
def through_argmax(x: f64[:]) -> float:
    return x[np.argmax(x)] * 2.0 + x[x.argmin()] ** 2 + np.sum(x)


def argmax_rows(a: f64[:, :]) -> float:
    k = np.argmax(a, axis=1)
    j = a.argmin(axis=0)
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i, k[i]] * (i + 1)
    for c in range(a.shape[1]):
        s += a[j[c], c] ** 2
    return s


def any_all(x: f64[:]) -> float:
    s = np.sum(x * x)
    if np.any(x > 1.0):
        s += np.sum(x)
    if np.all(x > -5.0):
        s *= 2.0
    rows = np.any(x[None, :] > 0.0, axis=1, keepdims=True)
    if rows[0, 0]:
        s += np.max(x)
    return s


# --- worked examples -------------------------------------------------------------------------------
def loss(w: f64[:], X: f64[:, :], y: f64[:], lam: float) -> float:
    r = X @ w - y
    return 0.5 * np.dot(r, r) / y.size + lam * np.sum(np.abs(w))


def softmax_loss(z: f64[:, :], target: f64[:, :]) -> float:
    out = np.zeros_like(z)
    e = np.zeros(z.shape[1])  # reverse mode: arrays sized by a row view live outside the loop
    for i in range(z.shape[0]):
        row = z[i]
        e[:] = np.exp(row - row.max())
        s = e.sum()
        for j in range(len(e)):
            out[i, j] = e[j] / s
    return np.sum(out * target)


def softmax_in_place(z: f64[:, :], target: f64[:, :]) -> float:
    out = z.copy()
    for i in range(z.shape[0]):
        out[i] -= out[i].max()
        out[i] = np.exp(out[i])
        out[i] /= out[i].sum()
    return np.sum(out * target)


def softmax_rows(z: f64[:, :], target: f64[:, :]) -> float:
    """The textbook form: each row's temporaries are new arrays inside the loop."""
    out = np.zeros_like(z)
    for i in range(z.shape[0]):
        row = z[i]
        e = np.exp(row - row.max())
        out[i] = e / e.sum()
    return np.sum(out * target)


def softmax_keepdims(z: f64[:, :], target: f64[:, :]) -> float:
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)
    return -np.sum(target * np.log(p)) / z.shape[0]


def standardize(a: f64[:, :]) -> float:
    z = (a - a.mean(axis=0)) / a.std(axis=0)
    return total2(z * z * z) + np.sum(np.cumsum(z, axis=1) * 0.1)


CASES = [
    (sum_all, (A.copy(),)),
    (sum_axis0, (A.copy(),)),
    (sum_axis1, (A.copy(),)),
    (sum_axis_neg_keepdims, (A.copy(),)),
    (sum_keepdims_all, (A.copy(),)),
    (sum_tuple_axes, (A.copy(),)),
    (fused_product, (A.copy(), B.copy())),
    (broadcast_operand, (A.copy(), X[:5].copy())),
    (broadcast_column, (A.copy(), B[:, :1].copy())),
    (prod_all, (NEAR1.copy(),)),
    (prod_axes, (NEAR1.copy(),)),
    (mean_axes, (A.copy(),)),
    (var_all, (A.copy(),)),
    (var_axes, (A.copy(),)),
    (std_axes, (A.copy(),)),
    (max_all, (A.copy(),)),
    (minmax_axes, (A.copy(),)),
    (amax_amin, (X.copy(),)),
    (cumsum_flat, (A.copy(),)),
    (cumsum_axes, (A.copy(),)),
    (cumprod_axes, (NEAR1.copy(),)),
    (through_argmax, (X.copy(),)),
    (argmax_rows, (A.copy(),)),
    (any_all, (X.copy(),)),
    (loss, (X[:5].copy(), A.copy(), Y[:4].copy(), 0.3)),
    (softmax_loss, (A.copy(), np.abs(B))),
    (softmax_in_place, (A.copy(), np.abs(B))),
    (softmax_keepdims, (A.copy(), np.abs(B))),
    (standardize, (A.copy(),)),
]
IDS = [f.__name__ for f, _ in CASES]


def _wrt(f):
    return f.__code__.co_varnames[0]


@pytest.mark.parametrize(("f", "args"), CASES, ids=IDS)
def test_grad_matches_finite_differences(f, args):
    check_grad(f, *copy.deepcopy(args), wrt=_wrt(f))


@pytest.mark.parametrize(("f", "args"), CASES, ids=IDS)
def test_jvp_agrees_with_grad(f, args):
    k = kernel(f)
    wrt = _wrt(f)
    tangent = RNG.normal(size=np.shape(args[0]))
    value, tan = jvp(k, wrt=wrt)(*copy.deepcopy(args), tangents=(tangent,))
    np.testing.assert_allclose(value, f(*copy.deepcopy(args)), rtol=1e-12)
    g = grad(k, wrt=wrt)(*copy.deepcopy(args))
    np.testing.assert_allclose(tan, np.sum(np.asarray(g) * tangent), rtol=1e-9, atol=1e-12)


def test_loss_every_argument_and_value_and_grad():
    w, Xm, y, lam = X[:5].copy(), A.copy(), Y[:4].copy(), 0.3
    check_grad(loss, w, Xm, y, lam)
    value, (gw, gX, gy, glam) = value_and_grad(kernel(loss), wrt=("w", "X", "y", "lam"))(
        w.copy(), Xm.copy(), y.copy(), lam)
    r = Xm @ w - y
    np.testing.assert_allclose(value, 0.5 * r @ r / y.size + lam * np.abs(w).sum(), rtol=1e-12)
    np.testing.assert_allclose(gw, Xm.T @ r / y.size + lam * np.sign(w), rtol=1e-12)
    np.testing.assert_allclose(gX, np.outer(r, w) / y.size, rtol=1e-12)
    np.testing.assert_allclose(gy, -r / y.size, rtol=1e-12)
    np.testing.assert_allclose(glam, np.abs(w).sum(), rtol=1e-12)


def test_max_gradient_goes_to_the_extreme_element():
    def top(x: f64[:]) -> float:
        return np.max(x) - 2.0 * np.min(x)

    x = np.array([0.3, 2.0, -1.0, 0.5])
    np.testing.assert_array_equal(grad(kernel(top))(x), [0.0, 1.0, -2.0, 0.0])
    ties = np.array([1.0, 3.0, 3.0, -2.0])  # ties: the first extreme element, as argmax picks
    np.testing.assert_array_equal(grad(kernel(top))(ties), [0.0, 1.0, 0.0, -2.0])


def test_vjp_of_reduced_outputs():
    def rows(a: f64[:, :], out: f64[:], run: f64[:, :]) -> None:
        out[:] = np.sum(a * a, axis=1) + a.max(axis=1)
        run[:] = np.cumsum(a, axis=1) * a

    a = A.copy()
    dout, drun = RNG.normal(size=4), RNG.normal(size=(4, 5))
    ga = vjp(kernel(rows), wrt="a", outputs=("out", "run"))(
        a.copy(), np.zeros(4), np.zeros((4, 5)), cotangents=(dout, drun))
    want = 2.0 * a * dout[:, None]
    want[np.arange(4), a.argmax(axis=1)] += dout
    want += drun * np.cumsum(a, axis=1)
    want += np.cumsum((drun * a)[:, ::-1], axis=1)[:, ::-1]
    np.testing.assert_allclose(ga, want, rtol=1e-12, atol=1e-14)
    check_grad(rows, a, np.zeros(4), np.zeros((4, 5)), wrt="a", outputs=("out", "run"))


def test_float32_reductions():
    def f(a: f32[:, :]) -> float:
        return float(np.sum(a * a) + np.mean(a, axis=0).sum() + a.std())

    check_grad(f, A.astype(np.float32))


def test_softmax_rows_forward_mode():
    """Forward mode takes the textbook softmax loop as written."""
    k = kernel(softmax_rows)
    z, target = A.copy(), np.abs(B)
    tangent = RNG.normal(size=z.shape)
    value, tan = jvp(k, wrt="z")(z.copy(), target, tangents=(tangent,))
    np.testing.assert_allclose(value, softmax_rows(z.copy(), target), rtol=1e-12)
    fd = (k(z + 1e-6 * tangent, target) - k(z - 1e-6 * tangent, target)) / 2e-6
    np.testing.assert_allclose(tan, fd, rtol=1e-6)
    g = grad(kernel(softmax_loss), wrt="z")(z.copy(), target)
    np.testing.assert_allclose(tan, np.sum(g * tangent), rtol=1e-9)


def test_softmax_rows_reverse_mode():
    """The textbook loop: `e = np.exp(row - row.max())` allocates, in each iteration, an array
    sized by a row view; that size does not depend on the row, so the allocation is hoisted
    out of the loop (lowering/temporaries.py) and reverse mode takes the loop as written."""
    check_grad(softmax_rows, A.copy(), np.abs(B), wrt="z")
