"""Gradient tests of simulations stepped 1000 times in a loop: a damped spring (symplectic
Euler), an explicit Euler integrator of coupled oscillators with the state updated in place, a
Lotka-Volterra model, a pendulum with the step count decided by a while loop, and f32 variants.
The derivative of the final energy / position with respect to parameters and initial state is
checked against finite differences (and, for the spring, against the exact solution's
derivative, which the integrator approaches as the step shrinks)."""

import math

import numpy as np

from ember import check_grad, f32, f64, grad

STEPS = 1000


def spring_energy(k: float, c: float, x0: float, steps: int) -> float:
    x = x0
    v = 0.0
    dt = 0.005
    for _ in range(steps):
        v += dt * (-k * x - c * v)
        x += dt * v
    return 0.5 * v * v + 0.5 * k * x * x


def spring_position(k: float, c: float, steps: int) -> float:
    x = 1.0
    v = 0.0
    dt = 0.001
    for _ in range(steps):
        a = -k * x - c * v
        x += dt * v
        v += dt * a
    return x


def oscillators_in_place(state: f64[:], k: f64[:], dt: float, steps: int) -> float:
    # state = [x_0..x_{n-1}, v_0..v_{n-1}], neighbours coupled by springs k[i], updated in place
    n = len(k)
    for _ in range(steps):
        for i in range(n):
            f = -k[i] * state[i]
            if i > 0:
                f += 0.5 * (state[i - 1] - state[i])
            if i < n - 1:
                f += 0.5 * (state[i + 1] - state[i])
            state[n + i] += dt * f
        for i in range(n):
            state[i] += dt * state[n + i]
    e = 0.0
    for i in range(n):
        e += 0.5 * state[n + i] ** 2 + 0.5 * k[i] * state[i] ** 2
    return e


def lotka_volterra(p: f64[:], steps: int) -> float:
    prey = 1.0
    pred = 0.5
    dt = 0.002
    for _ in range(steps):
        dprey = p[0] * prey - p[1] * prey * pred
        dpred = p[2] * prey * pred - p[3] * pred
        prey += dt * dprey
        pred += dt * dpred
    return prey + 2.0 * pred


def pendulum_until(length: float, t_end: float) -> float:
    theta = 0.8
    omega = 0.0
    t = 0.0
    dt = 0.001
    while t < t_end:
        omega -= dt * 9.81 / length * math.sin(theta)
        theta += dt * omega
        t += dt
    return math.cos(theta) * length


def trajectory_out(k: float, out: f64[:]) -> None:
    x = 1.0
    v = 0.0
    for i in range(len(out)):
        v -= 0.01 * k * x
        x += 0.01 * v
        out[i] = x


def spring_f32(k: f32, c: f32, steps: int) -> f32:
    x = np.float32(1.0)
    v = np.float32(0.0)
    dt = np.float32(0.002)
    for _ in range(steps):
        v += dt * (-k * x - c * v)
        x += dt * v
    return np.float32(0.5) * v * v + np.float32(0.5) * k * x * x


def oscillators_f32(state: f32[:], k: f32[:], steps: int) -> f32:
    n = len(k)
    dt = np.float32(0.002)
    for _ in range(steps):
        for i in range(n):
            state[n + i] -= dt * k[i] * state[i]
        for i in range(n):
            state[i] += dt * state[n + i]
    e = np.float32(0.0)
    for i in range(n):
        e += state[n + i] * state[n + i] + k[i] * state[i] * state[i]
    return e


S0 = np.array([1.0, -0.5, 0.3, 0.0, 0.2, -0.1])
K = np.array([1.5, 0.8, 2.2])


def test_spring_energy_params(): check_grad(spring_energy, 4.0, 0.3, 1.0, STEPS, wrt=("k", "c", "x0"))
def test_spring_position(): check_grad(spring_position, 9.0, 0.5, STEPS, wrt=("k", "c"))
def test_oscillators_in_place(): check_grad(oscillators_in_place, S0, K, 0.005, STEPS, wrt=("state", "k", "dt"))
def test_lotka_volterra(): check_grad(lotka_volterra, np.array([1.1, 0.4, 0.1, 0.4]), STEPS)
def test_pendulum_while(): check_grad(pendulum_until, 1.3, 1.0005, wrt="length")
def test_trajectory_output(): check_grad(trajectory_out, 2.0, np.zeros(STEPS), outputs="out")
def test_spring_f32(): check_grad(spring_f32, np.float32(4.0), np.float32(0.3), STEPS, wrt=("k", "c"))
def test_oscillators_f32(): check_grad(oscillators_f32, S0.astype(np.float32), K.astype(np.float32), STEPS, wrt=("state", "k"))


def test_spring_position_approaches_exact_derivative():
    # undamped: x(T) = cos(sqrt(k) T), dx/dk = -sin(sqrt(k) T) T / (2 sqrt(k)); explicit Euler
    # with dt = 1e-3 is within about 1% of it at T = 1 (sqrt(k) T = 2, away from a zero of sin)
    k, t_end = 4.0, STEPS * 0.001
    want = -math.sin(math.sqrt(k) * t_end) * t_end / (2 * math.sqrt(k))
    got = grad(spring_position, wrt="k")(k, 0.0, STEPS)
    assert abs(got - want) < 1e-2 * abs(want)


def test_f32_simulation_agrees_with_f64():
    g64 = grad(spring_energy, wrt=("k", "c"))(4.0, 0.3, 1.0, STEPS // 2)
    g32 = grad(spring_f32, wrt=("k", "c"))(np.float32(4.0), np.float32(0.3), STEPS // 2)
    assert isinstance(g32[0], float | np.floating)
    # same model with dt 0.002 for 500 steps vs dt 0.005: compare f32 against f64 at equal dt
    g64 = grad(spring_f32_as_f64, wrt=("k", "c"))(4.0, 0.3, STEPS // 2)
    np.testing.assert_allclose(np.array(g32, dtype=np.float64), g64, rtol=1e-3, atol=1e-4)


def spring_f32_as_f64(k: float, c: float, steps: int) -> float:
    x = 1.0
    v = 0.0
    dt = 0.002
    for _ in range(steps):
        v += dt * (-k * x - c * v)
        x += dt * v
    return 0.5 * v * v + 0.5 * k * x * x
