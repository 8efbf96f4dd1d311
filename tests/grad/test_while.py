"""Gradient tests through `while` loops whose trip count depends on the data: Newton iterations
run until convergence, adaptive step-size loops, while loops writing arrays, a while inside a
for. Finite differences may change the trip count; the tests pick converged or smooth cases,
where the result (and so its derivative) is continuous in the inputs."""

import math

import numpy as np

from ember import check_grad, f64, grad


def newton_sqrt(a: float) -> float:
    y = a
    while abs(y * y - a) > 1e-13 * a:
        y = 0.5 * (y + a / y)
    return y


def newton_cbrt_sum(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        y = 1.0
        while abs(y * y * y - x[i]) > 1e-12:
            y = y - (y * y * y - x[i]) / (3.0 * y * y)
        s += y
    return s


def kepler(m: float, e: float) -> float:
    # eccentric anomaly E with E - e sin E = M, by Newton until the step is tiny
    big_e = m
    step = 1.0
    while abs(step) > 1e-14:
        step = (big_e - e * math.sin(big_e) - m) / (1.0 - e * math.cos(big_e))
        big_e = big_e - step
    return big_e


def halving(x: float) -> float:
    # trip count depends on x; the result x * 2^-k is piecewise linear
    k = 0
    y = x
    while y > 1.0:
        y = y * 0.5
        k += 1
    return y * y


def adaptive_decay(k: float, t_end: float) -> float:
    # integrate y' = -k y with a step that grows until t_end; exact decay per step
    t = 0.0
    y = 1.0
    h = 0.01
    while t < t_end:
        dt = min(h, t_end - t)
        y = y * math.exp(-k * dt)
        t += dt
        h = h * 1.5
    return y


def while_writes_array(x: f64[:], c: float) -> float:
    i = 0
    while i < len(x):
        x[i] = x[i] * c + math.sin(x[i])
        i += 1
    s = 0.0
    for j in range(len(x)):
        s += x[j] * x[j]
    return s


def while_true_break(a: float) -> float:
    y = 1.0
    n = 0
    while True:
        y = y * a + 0.25
        n += 1
        if n >= 6:
            break
    return y


def fixed_point(c: float) -> float:
    # x = cos(c x) iterated until it stops moving
    x = 0.5
    delta = 1.0
    while delta > 1e-15:
        nx = math.cos(c * x)
        delta = abs(nx - x)
        x = nx
    return x


def test_newton_sqrt(): check_grad(newton_sqrt, 2.0)
def test_newton_sqrt_large(): check_grad(newton_sqrt, 37.5)
def test_newton_cbrt_while_in_for(): check_grad(newton_cbrt_sum, np.array([0.5, 2.0, 7.0]))
def test_kepler_both(): check_grad(kepler, 1.1, 0.3, wrt=("m", "e"))
def test_halving_trip_count(): check_grad(halving, 5.3)
def test_adaptive_steps(): check_grad(adaptive_decay, 0.8, 1.3, wrt=("k", "t_end"))
def test_while_writes_array(): check_grad(while_writes_array, np.array([0.3, -0.2, 1.1]), 0.9, wrt=("x", "c"))
def test_while_true_break(): check_grad(while_true_break, 0.8)
def test_fixed_point(): check_grad(fixed_point, 0.7)


def test_newton_sqrt_matches_derivative_of_sqrt():
    for a in (0.5, 2.0, 9.0):
        np.testing.assert_allclose(grad(newton_sqrt)(a), 0.5 / math.sqrt(a), rtol=1e-10)


def test_kepler_matches_implicit_function_theorem():
    m, e = 1.1, 0.3
    big_e = kepler(m, e)
    dm, de = grad(kepler, wrt=("m", "e"))(m, e)
    denom = 1.0 - e * math.cos(big_e)
    np.testing.assert_allclose([dm, de], [1.0 / denom, math.sin(big_e) / denom], rtol=1e-9)


def return_inside_while(x: f64[:], limit: float) -> float:
    s = 0.0
    i = 0
    while i < len(x):
        s += math.exp(x[i]) * limit
        if s > 2.0:
            return s * x[i]
        i += 1
    return s


def while_over_local_array(x: f64[:]) -> float:
    buf = np.zeros(len(x))
    for i in range(len(x)):
        buf[i] = x[i]
    total = 0.0
    while total < 5.0:
        for i in range(len(x)):
            buf[i] = buf[i] * 1.3 + 0.1
            total += buf[i] * buf[i]
    return total


def bounded_newton_in_place(x: f64[:]) -> float:
    # solve y^2 + y = x[i] in place, each with its own data-dependent iteration count
    for i in range(len(x)):
        c = x[i]
        y = c
        it = 0
        while it < 50 and abs(y * y + y - c) > 1e-14:
            y = y - (y * y + y - c) / (2.0 * y + 1.0)
            it += 1
        x[i] = y
    s = 0.0
    for i in range(len(x)):
        s += x[i] * (i + 1.0)
    return s


def test_return_inside_while(): check_grad(return_inside_while, np.array([0.1, 0.3, -0.2, 0.5]), 0.9, wrt=("x", "limit"))
def test_while_over_local_array(): check_grad(while_over_local_array, np.array([0.5, -0.4, 0.8]))
def test_newton_per_element_in_place(): check_grad(bounded_newton_in_place, np.array([0.5, 2.0, 6.0]))


def test_newton_per_element_hand_derived():
    x = np.array([0.5, 2.0, 6.0])
    y = (-1.0 + np.sqrt(1.0 + 4.0 * x)) / 2.0
    g = grad(bounded_newton_in_place)(x.copy())
    np.testing.assert_allclose(g, np.arange(1.0, 4.0) / (2.0 * y + 1.0), rtol=1e-10)
