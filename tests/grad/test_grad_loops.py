"""Gradient tests through `for` loops: nested loops, 2-D reductions, loop-carried values,
negative and run-time steps, loops over computed bounds. Each is checked against central
finite differences with `check_grad`."""

import math

import numpy as np

from ember import check_grad, f32, f64

RNG = np.random.default_rng(7)
A = RNG.standard_normal(5)
M = RNG.standard_normal((3, 4))


def sum_squares(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        s += x[i] * x[i]
    return s


def reduce_2d(m: f64[:, :]) -> float:
    s = 0.0
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            s += math.sin(m[i, j]) * (i + 1) - m[i, j] * m[i, j] * j
    return s


def frobenius_product(a: f64[:, :], b: f64[:, :]) -> float:
    s = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            s += a[i, j] * b[i, j]
    return math.sqrt(s * s + 1.0)


def triangular(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        for j in range(i + 1):
            s += x[i] * x[j] * 0.5
    return s


def three_deep(x: f64[:], w: f64[:, :]) -> float:
    s = 0.0
    for k in range(2):
        for i in range(w.shape[0]):
            for j in range(w.shape[1]):
                s += w[i, j] * x[j] ** (k + 1) * 0.3
    return s


def loop_carried_product(x: f64[:]) -> float:
    p = 1.0
    for i in range(len(x)):
        p = p * x[i] + 0.1
    return p


def loop_carried_two(x: f64[:], a: float) -> float:
    u = 1.0
    v = 0.0
    for i in range(len(x)):
        u, v = u * math.cos(a) - v * x[i], v + u * math.sin(a * x[i])
    return u + 2.0 * v


def horner(c: f64[:], x: float) -> float:
    r = 0.0
    for i in range(len(c)):
        r = r * x + c[i]
    return r


def negative_step(x: f64[:]) -> float:
    r = 0.0
    for i in range(len(x) - 1, -1, -1):
        r = r * 0.7 + math.exp(x[i] * 0.3) * (i + 1)
    return r


def runtime_step(x: f64[:], step: int) -> float:
    s = 0.0
    for i in range(0, len(x), step):
        s += x[i] * x[i] * x[i]
    return s


def runtime_negative_step(x: f64[:], step: int) -> float:
    s = 1.0
    for i in range(len(x) - 1, -1, step):
        s = s * 0.9 + math.tanh(x[i]) * s
    return s


def runtime_bounds(x: f64[:], lo: int, hi: int) -> float:
    s = 0.0
    for i in range(lo, hi):
        s += math.log(1.0 + x[i] * x[i])
    return s


def repeated_scalar(a: float, n: int) -> float:
    x = 0.5
    for _ in range(n):
        x = x + 0.1 * math.sin(a * x)
    return x


def logsumexp(x: f64[:]) -> float:
    m = x[0]
    for i in range(1, len(x)):
        m = max(m, x[i])
    s = 0.0
    for i in range(len(x)):
        s += math.exp(x[i] - m)
    return m + math.log(s)


def matvec_loss(w: f64[:, :], v: f64[:]) -> float:
    s = 0.0
    for i in range(w.shape[0]):
        t = 0.0
        for j in range(w.shape[1]):
            t += w[i, j] * v[j]
        s += math.tanh(t) ** 2
    return s


def strided_columns(m: f64[:, :]) -> float:
    s = 0.0
    for j in range(m.shape[1] - 1, -1, -2):
        for i in range(m.shape[0]):
            s += m[i, j] * m[i, j - 1] if j > 0 else m[i, j]
    return s


def f32_nested(m: f32[:, :]) -> f32:
    s = np.float32(0.0)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            s += np.sin(m[i, j]) * m[i, j]
    return s


def carried_from_argument(x0: float, n: int) -> float:
    # two loop-carried values, one starting from the differentiated argument
    x = x0
    v = 0.0
    for _ in range(n):
        v = v + x
        x = x * 0.5
    return v


def carried_from_argument_sum(x0: float, n: int) -> float:
    x = x0
    v = 0.0
    for _ in range(n):
        v = v + 2.0 * x
        x = x * 0.5
    return x + v


def test_sum_squares(): check_grad(sum_squares, A)
def test_reduce_2d(): check_grad(reduce_2d, M)
def test_frobenius_product_both(): check_grad(frobenius_product, M, M.T.copy().T * 2, wrt=("a", "b"))
def test_triangular(): check_grad(triangular, A)
def test_three_deep_loops(): check_grad(three_deep, A[:4], M, wrt=("x", "w"))
def test_loop_carried_product(): check_grad(loop_carried_product, A)
def test_loop_carried_pair(): check_grad(loop_carried_two, A, 0.8, wrt=("x", "a"))
def test_horner(): check_grad(horner, A, 0.9, wrt=("c", "x"))
def test_negative_step(): check_grad(negative_step, A)
def test_runtime_step(): check_grad(runtime_step, A, 2)
def test_runtime_negative_step(): check_grad(runtime_negative_step, A, -2)
def test_runtime_bounds(): check_grad(runtime_bounds, A, 1, 4)
def test_zero_trip_loop(): check_grad(runtime_bounds, A, 3, 3)
def test_repeated_scalar_map(): check_grad(repeated_scalar, 1.3, 25, wrt="a")
def test_logsumexp(): check_grad(logsumexp, A)
def test_matvec_tanh_loss(): check_grad(matvec_loss, M, A[:4], wrt=("w", "v"))
def test_strided_columns(): check_grad(strided_columns, M)
def test_f32_nested(): check_grad(f32_nested, M.astype(np.float32))


def test_runtime_step_gradient_skips_unvisited():
    from ember import grad

    g = grad(runtime_step)(A.copy(), 2)
    want = np.where(np.arange(5) % 2 == 0, 3 * A**2, 0.0)
    np.testing.assert_allclose(g, want, rtol=1e-13)


def test_carried_from_argument(): check_grad(carried_from_argument, 1.3, 3, wrt="x0")
def test_carried_from_argument_sum(): check_grad(carried_from_argument_sum, 0.7, 2, wrt="x0")


def test_carried_from_argument_exact():
    # v = x0 (1 + 1/2 + ... + 2^-(n-1)); with n = 0 the result is the constant 0.0
    from ember import grad

    for n, want in [(0, 0.0), (1, 1.0), (3, 1.75)]:
        assert grad(carried_from_argument)(1.0, n) == want
