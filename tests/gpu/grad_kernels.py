"""GPU kernels whose derivatives (jvp, grad, vjp) the GPU tests and the check bundle run, and
their cases: `GRAD_CASES[name] = (kernel, transform, wrt, outputs, inputs, seeds, rtol)`
(`seeds`: the tangents of a jvp, the cotangents of a vjp, else None). Elementwise code with
branches and math, a 2-D stencil, reductions into an active scalar, a shared read-only
vector (atomic shadow adds), several nests with host scalars between them, a fixed-element
sum, whole-array statements, an inner sequential loop and f32."""

import math

import numpy as np

from ember import f32, f64, kernel, prange


@kernel(target="gpu")
def wave(x: f64[:], out: f64[:]) -> None:
    for i in prange(len(x)):
        v = x[i]
        if v > 0.5:
            out[i] = math.exp(v) * math.sin(v) + math.sqrt(1.0 + v * v)
        else:
            out[i] = math.cos(3.0 * v) / (1.0 + v * v)


@kernel(target="gpu")
def heat(u: f64[:, :], out: f64[:, :], k: float) -> None:
    for i in prange(1, u.shape[0] - 1):
        for j in prange(1, u.shape[1] - 1):
            out[i, j] = u[i, j] + k * (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1]
                                       - 4 * u[i, j]) * u[i, j]


@kernel(target="gpu")
def energy(x: f64[:], w: f64[:], a: float) -> float:
    s = 0.0
    for i in prange(x.shape[0]):
        s += w[i] * math.sin(a * x[i]) * x[i]
    return s / x.shape[0] + a * a


@kernel(target="gpu")
def matvec(m: f64[:, :], x: f64[:], y: f64[:]) -> None:
    for i in prange(m.shape[0]):
        acc = 0.0
        for j in range(m.shape[1]):
            acc += m[i, j] * x[j]
        y[i] = math.tanh(acc)


@kernel(target="gpu")
def soft32(a: f32, x: f32[:], out: f32[:]) -> None:
    for i in prange(len(x)):
        out[i] = a * math.tanh(x[i]) + x[i] * x[i]


@kernel(target="gpu")
def two_stage(x: f64[:], y: f64[:], c: float) -> float:
    for i in prange(len(x)):
        y[i] = math.sin(x[i]) * c
    s = 0.0
    for i in prange(len(y)):
        s += y[i] * y[i] * x[i]
    t = s * c
    return t * t + s


@kernel(target="gpu")
def weighted(x: f64[:], w: f64[:], total: f64[:]) -> None:
    for i in prange(len(x)):
        total[0] += w[i] * x[i] * x[i]


def weighted_serial(x: f64[:], w: f64[:], total: f64[:]) -> None:
    """`weighted` with a serial loop: the CPU reference of its derivatives (on the CPU a
    prange loop whose iterations all update `total[0]` is refused: they would race; the GPU
    target makes the update atomic)."""
    for i in range(len(x)):
        total[0] += w[i] * x[i] * x[i]


@kernel(target="gpu")
def arrays(a: f64, x: f64[:], w: f64[:], out: f64[:]) -> float:
    out[:] = a * x * x + w
    return np.sum(out * x)


@kernel(target="gpu")
def rows(m: f64[:, :], out: f64[:]) -> None:
    for i in prange(m.shape[0]):
        row = m[i]
        out[i] = np.sqrt(np.sum(row * row)) + np.sum(row[::2])


@kernel(target="gpu")
def center(x: f64[:], y: f64[:]) -> float:
    s = 0.0
    for i in prange(len(x)):
        s += x[i]
    m = s / len(x)
    e = 0.0
    for i in prange(len(x)):
        y[i] = x[i] - m
        e += y[i] * y[i] * x[i]  # reads back what the iteration stored
    return e


@kernel(target="gpu")
def overwrite(x: f64[:], y: f64[:]) -> None:
    for i in prange(len(x)):
        y[i] = math.sin(x[i]) * x[i]
    for i in prange(len(x)):
        y[i] = math.cos(x[i])


@kernel(target="gpu")
def scaled(x: f64[:], out: f64[:], a: float, n: int) -> float:
    a = a * 2.0 + 1.0
    h = a / n
    s = 0.0
    for i in prange(len(x)):
        out[i] = h * x[i] * x[i]
        s += h * x[i] + a
    return s * a - h


@kernel(target="gpu")
def newton(x: f64[:], out: f64[:]) -> None:
    for i in prange(len(x)):
        v = x[i]
        r = 1.0
        k = 0
        while abs(r * r - v) > 1e-14 * v and k < 50:
            r = 0.5 * (r + v / r)
            k += 1
        out[i] = r * math.sin(v)


@kernel(target="gpu")
def relax(x: f64[:]) -> None:
    for i in prange(len(x)):
        x[i] = math.sin(x[i]) + 0.5 * x[i]


_rng = np.random.default_rng


def _vec(seed, n=300, dtype=np.float64):
    return (_rng(seed).random(n) * 2 - 0.5).astype(dtype)


GRAD_CASES = {
    "wave_jvp": (wave, "jvp", "x", "out", lambda: (_vec(1), np.zeros(300)), (_vec(2),), 1e-12),
    "wave_vjp": (wave, "vjp", "x", "out", lambda: (_vec(1), np.zeros(300)), (_vec(3),), 1e-12),
    "heat_jvp": (heat, "jvp", ("u", "k"), "out",
                 lambda: (_rng(4).random((13, 17)), np.zeros((13, 17)), 0.3),
                 (_rng(5).random((13, 17)), 0.7), 1e-12),
    "heat_vjp": (heat, "vjp", ("u", "k"), "out",
                 lambda: (_rng(4).random((13, 17)), np.zeros((13, 17)), 0.3),
                 (_rng(6).random((13, 17)),), 1e-12),
    "energy_jvp": (energy, "jvp", ("x", "a"), None, lambda: (_vec(7), _vec(8), 1.3),
                   (_vec(9), 0.4), 1e-12),
    "energy_grad": (energy, "value_and_grad", ("x", "a"), None,
                    lambda: (_vec(7), _vec(8), 1.3), None, 1e-12),
    "matvec_vjp": (matvec, "vjp", ("m", "x"), "y",
                   lambda: (_rng(10).random((40, 30)) - 0.5, _vec(11, 30), np.zeros(40)),
                   (_vec(12, 40),), 1e-12),
    "matvec_jvp": (matvec, "jvp", "x", "y",
                   lambda: (_rng(10).random((40, 30)) - 0.5, _vec(11, 30), np.zeros(40)),
                   (_vec(13, 30),), 1e-12),
    "soft32_grad": (soft32, "vjp", ("a", "x"), "out",
                    lambda: (np.float32(1.5), _vec(14, 256, np.float32),
                             np.zeros(256, np.float32)), (_vec(15, 256, np.float32),), 1e-5),
    "soft32_jvp": (soft32, "jvp", ("a", "x"), "out",
                   lambda: (np.float32(1.5), _vec(14, 256, np.float32),
                            np.zeros(256, np.float32)),
                   (0.25, _vec(16, 256, np.float32)), 1e-5),
    "two_stage_grad": (two_stage, "grad", ("x", "c"), None,
                       lambda: (_vec(17), np.zeros(300), 0.8), None, 1e-12),
    "two_stage_jvp": (two_stage, "jvp", ("x", "c"), None,
                      lambda: (_vec(17), np.zeros(300), 0.8), (_vec(18), -0.3), 1e-12),
    "weighted_vjp": (weighted, "vjp", ("x", "w"), "total",
                     lambda: (_vec(19), _vec(20), np.zeros(1)), (np.array([1.7]),), 1e-12),
    "arrays_jvp": (arrays, "jvp", ("a", "x"), None,
                   lambda: (0.6, _vec(21), _vec(22), np.zeros(300)), (0.3, _vec(27)), 1e-12),
    "arrays_grad": (arrays, "grad", ("a", "x", "w"), None,
                    lambda: (0.6, _vec(21), _vec(22), np.zeros(300)), None, 1e-12),
    "rows_vjp": (rows, "vjp", "m", "out", lambda: (_rng(23).random((20, 9)), np.zeros(20)),
                 (_vec(24, 20),), 1e-12),
    "center_grad": (center, "value_and_grad", "x", None, lambda: (_vec(28), np.zeros(300)),
                    None, 1e-12),
    "scaled_grad": (scaled, "value_and_grad", ("x", "a"), None,
                    lambda: (_vec(31), np.zeros(300), 0.4, 7), None, 1e-12),
    "scaled_jvp": (scaled, "jvp", ("a", "x"), ("return", "out"),
                   lambda: (_vec(31), np.zeros(300), 0.4, 7), (0.5, _vec(32)), 1e-12),
    "overwrite_vjp": (overwrite, "vjp", "x", "y", lambda: (_vec(33), np.zeros(300)),
                      (_vec(34),), 1e-12),
    "newton_jvp": (newton, "jvp", "x", "out", lambda: (_vec(29) + 1.0, np.zeros(300)),
                   (_vec(30),), 1e-12),
    "relax_jvp": (relax, "jvp", "x", "x", lambda: (_vec(25),), (_vec(26),), 1e-12),
}


CPU_REFERENCE = {"weighted": weighted_serial}
"""The CPU kernel whose derivatives a GPU kernel's are compared with, where not its own."""


def derivative(name, cpu=False):
    """The derivative of case `name`: of the GPU kernel, or (`cpu`) of its CPU build."""
    import ember

    k, kind, wrt, outputs, _, _, _ = GRAD_CASES[name]
    if cpu:
        k = ember.kernel(CPU_REFERENCE.get(k.__name__, k.py_func))
    extra = {"outputs": outputs} if kind in ("jvp", "vjp") and outputs else {}
    return getattr(ember, kind)(k, wrt=wrt, **extra)


def run(d, name):
    """(result, arguments after the call) of derivative `d` on case `name`'s inputs."""
    _, kind, _, _, make, seeds, _ = GRAD_CASES[name]
    args = make()
    extra = {"tangents": seeds} if kind == "jvp" else {"cotangents": seeds} if seeds else {}
    return d(*args, **extra), args
