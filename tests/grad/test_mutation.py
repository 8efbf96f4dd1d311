"""Gradient tests through in-place mutation: a kernel overwriting its input (twice), values
read before being overwritten, in-place scans and swaps, local arrays from np.zeros / np.empty /
np.ones / np.full / np.zeros_like inside the kernel, and results written into output arrays
(checked through `vjp(..., outputs=...)`). Gradients are with respect to the values the
arguments had on entry."""

import math

import numpy as np

from ember import check_grad, f32, f64, grad, vjp

X = np.array([0.4, -0.7, 1.3, 0.9])
M = np.array([[0.2, -0.5, 1.1], [0.7, 0.3, -0.9]])


def overwrite_twice(x: f64[:]) -> float:
    for i in range(len(x)):
        x[i] = x[i] * x[i] + 0.5
    for i in range(len(x)):
        x[i] = math.sin(x[i]) * x[i]
    s = 0.0
    for i in range(len(x)):
        s += x[i]
    return s


def overwrite_after_read(x: f64[:]) -> float:
    t = x[0]
    x[0] = x[1] * t
    x[1] = x[0] + t * t
    x[0] = x[0] * x[1]
    return x[0] + x[1] * 2.0


def prefix_sum_in_place(x: f64[:]) -> float:
    for i in range(1, len(x)):
        x[i] = x[i] + x[i - 1] * 0.9
    s = 0.0
    for i in range(len(x)):
        s += x[i] * x[i]
    return s


def reverse_in_place(x: f64[:], w: f64[:]) -> float:
    n = len(x)
    for i in range(n // 2):
        t = x[i]
        x[i] = x[n - 1 - i]
        x[n - 1 - i] = t
    s = 0.0
    for i in range(n):
        s += w[i] * x[i] * x[i]
    return s


def relax_in_place(u: f64[:], k: float) -> float:
    for _ in range(5):
        for i in range(1, len(u) - 1):
            u[i] = u[i] + k * (u[i - 1] - 2.0 * u[i] + u[i + 1])
    return u[1] * u[2] + u[len(u) - 2]


def local_zeros(x: f64[:]) -> float:
    buf = np.zeros(len(x))
    for i in range(len(x)):
        buf[i] = math.exp(x[i]) * 0.5
    for i in range(1, len(x)):
        buf[i] += buf[i - 1]
    return buf[len(x) - 1] * buf[0]


def local_empty_2d(m: f64[:, :]) -> float:
    t = np.empty((m.shape[1], m.shape[0]))
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            t[j, i] = m[i, j] * m[i, j] + m[i, 0]
    s = 0.0
    for j in range(t.shape[0]):
        for i in range(t.shape[1]):
            s += t[j, i] * (j + 1.0)
    return s


def local_like_and_full(x: f64[:], c: float) -> float:
    a = np.zeros_like(x)
    b = np.full(len(x), c)
    o = np.ones(len(x))
    for i in range(len(x)):
        a[i] = x[i] * b[i] + o[i]
        b[i] = a[i] * a[i]
    s = 0.0
    for i in range(len(x)):
        s += b[i] - a[i]
    return s


def local_overwritten_buffer(x: f64[:]) -> float:
    buf = np.empty(len(x))
    for i in range(len(x)):
        buf[i] = x[i]
    for _ in range(3):
        for i in range(len(x)):
            buf[i] = math.tanh(buf[i] * 1.5)
    return buf[0] + buf[len(x) - 1] * 2.0


def scale_into(x: f64[:], a: float, out: f64[:]) -> None:
    for i in range(len(x)):
        out[i] = a * x[i] * x[i]


def accumulate_into(x: f64[:], out: f64[:, :]) -> None:
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] += x[i] * x[j] + math.cos(x[j])


def step_into(state: f64[:], params: f64[:], out: f64[:]) -> None:
    for i in range(len(state)):
        out[i] = state[i] + params[0] * math.sin(state[i]) + params[1] * state[i] * state[i]


def f32_overwrite(x: f32[:]) -> f32:
    for i in range(len(x)):
        x[i] = x[i] * np.float32(1.5) + np.sin(x[i])
    for i in range(len(x)):
        x[i] = x[i] * x[i]
    s = np.float32(0.0)
    for i in range(len(x)):
        s += x[i]
    return s


def test_overwrite_input_twice(): check_grad(overwrite_twice, X)
def test_overwrite_value_read_earlier(): check_grad(overwrite_after_read, X)
def test_prefix_sum_in_place(): check_grad(prefix_sum_in_place, X)
def test_reverse_in_place(): check_grad(reverse_in_place, X, X + 2.0, wrt=("x", "w"))
def test_relax_in_place(): check_grad(relax_in_place, np.array([1.0, 0.2, -0.3, 0.8, 0.0]), 0.2, wrt=("u", "k"))
def test_local_zeros(): check_grad(local_zeros, X)
def test_local_empty_2d(): check_grad(local_empty_2d, M)
def test_local_zeros_like_full_ones(): check_grad(local_like_and_full, X, 0.6, wrt=("x", "c"))
def test_local_buffer_overwritten(): check_grad(local_overwritten_buffer, X)
def test_output_array(): check_grad(scale_into, X, 1.7, np.zeros(4), wrt=("x", "a"), outputs="out")
def test_output_accumulated(): check_grad(accumulate_into, X[:3], np.ones((3, 3)), wrt="x", outputs="out")
def test_output_step_params(): check_grad(step_into, X, np.array([0.3, -0.2]), np.zeros(4), wrt=("state", "params"), outputs="out")
def test_f32_overwrite(): check_grad(f32_overwrite, X.astype(np.float32))


def test_overwrite_twice_exact():
    x = X.copy()
    g = grad(overwrite_twice)(x)
    u = X * X + 0.5
    np.testing.assert_allclose(g, (np.cos(u) * u + np.sin(u)) * 2 * X, rtol=1e-13)


def test_vjp_output_matches_hand_derivative():
    dout = np.array([1.0, -2.0, 0.5, 3.0])
    out = np.zeros(4)
    gx, ga = vjp(scale_into, wrt=("x", "a"), outputs="out")(X.copy(), 1.7, out, cotangents=(dout,))
    np.testing.assert_allclose(gx, dout * 2 * 1.7 * X, rtol=1e-14)
    np.testing.assert_allclose(ga, np.sum(dout * X * X), rtol=1e-14)
    np.testing.assert_allclose(out, 1.7 * X * X, rtol=1e-15)  # the vjp also writes out


def test_vjp_step_params_matches_hand_derivative():
    dout = np.array([0.5, 1.0, -1.0, 2.0])
    p = np.array([0.3, -0.2])
    g = vjp(step_into, wrt="params", outputs="out")(X.copy(), p, np.zeros(4), cotangents=(dout,))
    np.testing.assert_allclose(g, [np.sum(dout * np.sin(X)), np.sum(dout * X * X)], rtol=1e-14)
