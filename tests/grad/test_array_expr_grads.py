"""Derivatives through whole-array expressions and new axes (issue 13): broadcasting arithmetic,
elementwise NumPy functions, np.where, np.clip, powers, division, astype, in-place updates,
slice assignments (stencil steps, overlapping source and destination) and kernels mixing them
with loops, while loops and mutation. Each kernel is checked in reverse mode against central
finite differences (`check_grad`) and in forward mode (`jvp`: the tangent against
grad . tangent, the value against the kernel). Derivative builds emit array expressions as
plain loop nests with broadcasting folded into the indices, and new axes as an expand_shape
folded into indices before Enzyme (ir/arrays.py, lowering/views.py)."""

import copy

import numpy as np
import pytest
from reducers import total, total2

from ember import CompileError, check_grad, f32, f64, grad, jvp, kernel, vjp

RNG = np.random.default_rng(1313)
X = RNG.normal(size=6)
Y = RNG.normal(size=6)
A = RNG.normal(size=(4, 5))


def broadcast_columns_rows(c: f64[:, :], r: f64[:, :]) -> float:
    return total2(c * r + 2.0 * (c - r) / 3.0)  # (m,1) * (1,n)


def broadcast_vector(a: f64[:, :], x: f64[:]) -> float:
    return total2(a * x - x + 1.5)


def scalar_times_array(x: f64[:], c: float) -> float:
    return total(c * x + x * x * c)


def elementwise(x: f64[:]) -> float:
    return total(np.exp(x) + np.sin(x) * np.sqrt(x * x + 1.0) - np.tanh(x))


def where_select(x: f64[:], y: f64[:]) -> float:
    return total(np.where(x > 0.1, x * y, y * y))


def clipped(x: f64[:], y: f64[:]) -> float:
    return total(np.clip(x, -0.6, 0.7) * y)


def powers(x: f64[:], y: f64[:]) -> float:
    return total(x ** 3 + np.exp(x) ** y - x ** 2 / 2.0)


def division(x: f64[:], y: f64[:]) -> float:
    return total(x / (1.0 + y * y) - 1.0 / (2.0 + x * x))


def as_type(x: f64[:], w: f32[:]) -> float:
    return total(w.astype(np.float64) * x + x.astype(np.float64) * 2.0)


def in_place(x: f64[:], y: f64[:]) -> float:
    t = x * 1.0
    t += y * x
    t *= np.cos(y)
    x -= 0.5 * y
    return total(t) + total(x * x)


def stencil_steps(u: f64[:], steps: int) -> float:
    for _ in range(steps):
        u[1:-1] = 0.25 * (u[:-2] + u[2:]) + 0.5 * u[1:-1] * u[1:-1]
    return total(u)


def jacobi(u: f64[:, :], steps: int) -> float:
    for _ in range(steps):
        u[1:-1, 1:-1] = 0.25 * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:])
    return total2(u * u)


def overlap(a: f64[:], x: float) -> float:
    a[1:] = a[:-1] * x
    a[:-1] = a[1:] + np.sin(a[:-1])
    return total(a)


def mixed(x: f64[:], y: f64[:]) -> float:
    r = np.zeros_like(x)
    for i in range(len(x)):
        r[i] = x[i] * (i + 1)
    s = 0.0
    k = 0
    while k < 3:
        r[:] = r * 0.5 + np.sin(y) * x
        r[0] = r[0] + s
        s += total(r)
        k += 1
    out = r + 0.0
    out[::2] = out[::2] * y[::2]
    return s + total(out)


def loss(w: f64[:], X: f64[:, :], y: f64[:], lam: float) -> float:
    p = np.zeros_like(y)
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            p[i] += X[i, j] * w[j]
    r = p - y
    rr = r * r
    aw = np.abs(w)
    s, t = 0.0, 0.0
    for i in range(len(rr)):
        s += rr[i]
    for j in range(len(aw)):
        t += aw[j]
    return 0.5 * s / y.size + lam * t


def outer_axes(x: f64[:], y: f64[:]) -> float:
    return total2(np.sin(x[:, None] * y[None, :]) + x[:, np.newaxis] - y)


def new_axis_elements(x: f64[:]) -> float:
    v = x[None, :]
    w = x[1:, None]
    return v[0, 1] * w[2, 0] + v.shape[1] * w[0, 0] + total2(w * v)


@kernel
def wsum2(a: f64[:, :]) -> float:
    s = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            s += np.sin(a[i, j]) * (i + 2 * j + 1)
    return s


def new_axis_views(x: f64[:]) -> float:
    v = x[:, None][:, 1:]
    return (wsum2(x[:, None][1:]) + wsum2(x[None][:, ::2]) + wsum2(x[:, None][::-1, :])
            + total(x[None, :][0]) + wsum2(x[None, 1:][None][0]) + total(x[None, None, :][0, 0])
            + wsum2(x[None, :] * 2.0) + v.shape[1])


def new_axis_store(x: f64[:], y: f64[:]) -> float:
    t = x * 1.0
    t[:, None][1:3] = y[1:3, None] * x[:2, None]
    return total(t * t)


CASES = [
    (broadcast_columns_rows, (A[:, :1].copy(), A[1:2, :].copy())),
    (broadcast_vector, (A.copy(), A[0].copy())),
    (scalar_times_array, (X.copy(), 1.3)),
    (elementwise, (X.copy(),)),
    (where_select, (X.copy(), Y.copy())),
    (clipped, (X.copy(), Y.copy())),
    (powers, (np.abs(X) + 0.5, Y.copy())),
    (division, (X.copy(), Y.copy())),
    (as_type, (X.copy(), Y.astype(np.float32))),
    (in_place, (X.copy(), Y.copy())),
    (stencil_steps, (X.copy(), 3)),
    (jacobi, (A.copy(), 3)),
    (overlap, (X.copy(), 0.7)),
    (mixed, (X.copy(), Y.copy())),
    (loss, (X[:5].copy(), A.copy(), Y[:4].copy(), 0.3)),
    (outer_axes, (X[:4].copy(), Y.copy())),
    (new_axis_elements, (X.copy(),)),
    (new_axis_views, (X.copy(),)),
    (new_axis_store, (X.copy(), Y.copy())),
]
IDS = [f.__name__ for f, _ in CASES]


def _wrt(f, args):
    return f.__code__.co_varnames[0]


@pytest.mark.parametrize(("f", "args"), CASES, ids=IDS)
def test_grad_matches_finite_differences(f, args):
    check_grad(f, *copy.deepcopy(args), wrt=_wrt(f, args))


@pytest.mark.parametrize(("f", "args"), CASES, ids=IDS)
def test_jvp_agrees_with_grad(f, args):
    k = kernel(f)
    wrt = _wrt(f, args)
    tangent = RNG.normal(size=np.shape(args[0]))
    value, tan = jvp(k, wrt=wrt)(*copy.deepcopy(args), tangents=(tangent,))
    np.testing.assert_allclose(value, k(*copy.deepcopy(args)), rtol=1e-12)
    g = grad(k, wrt=wrt)(*copy.deepcopy(args))
    np.testing.assert_allclose(tan, np.sum(np.asarray(g) * tangent), rtol=1e-9, atol=1e-12)


def test_every_argument_of_a_broadcast():
    check_grad(broadcast_columns_rows, A[:, :1].copy(), A[1:2, :].copy())
    check_grad(loss, X[:5].copy(), A.copy(), Y[:4].copy(), 0.3)


def test_vjp_of_an_array_expression_output():
    def into(x: f64[:], out: f64[:]) -> None:
        out[:] = np.sin(x) * x
        out[1:] += x[:-1]

    dout = RNG.normal(size=5)
    x = X[:5].copy()
    gx = vjp(kernel(into), wrt="x", outputs="out")(x.copy(), np.zeros(5), cotangents=(dout,))
    want = dout * (np.cos(x) * x + np.sin(x))
    want[:-1] += dout[1:]
    np.testing.assert_allclose(gx, want, rtol=1e-12)
    check_grad(into, x, np.zeros(5), wrt="x", outputs="out")


def test_returned_array_expression():
    def scaled(x: f64[:], c: float) -> float:
        r = np.exp(x * c)
        return total(r[::-1])

    check_grad(scaled, X.copy(), 0.4)


def test_new_axis_chosen_by_an_if_is_refused_in_reverse_mode():
    def picked(x: f64[:], flag: int) -> float:
        if flag > 0:  # noqa: SIM108 - an `if` statement picking the view is the case tested
            v = x[:, None]
        else:
            v = x[None, :]
        return wsum2(v)

    with pytest.raises(CompileError, match=r"memref\.(expand_shape|cast)") as info:
        grad(kernel(picked), wrt="x")(X.copy(), 1)
    assert "one chosen by an `if`" in str(info.value)
    tangent = RNG.normal(size=X.shape)  # forward mode has a rule for memref.expand_shape
    _, tan = jvp(kernel(picked), wrt="x")(X.copy(), 1, tangents=(tangent,))
    k = kernel(picked)
    fd = (k(X + 1e-6 * tangent, 1) - k(X - 1e-6 * tangent, 1)) / 2e-6
    np.testing.assert_allclose(tan, fd, rtol=1e-6)


def test_new_array_each_iteration_is_refused_in_reverse_mode():
    def carried(x: f64[:]) -> float:
        r = x * 1.0
        for _ in range(3):
            r = r * 0.5 + x
        return total(r)

    with pytest.raises(CompileError, match="new array in each iteration"):
        grad(kernel(carried))(X.copy())
