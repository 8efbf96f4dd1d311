"""The loop kernels of `bench_core.py`, each written once as a plain annotated Python function.

Nothing here is decorated: the benchmark compiles every function with `ember.kernel(fn)` and
`numba.njit(fn)` and also runs it as it is in CPython, on the same inputs. Every kernel is
idempotent (its outputs are fully rewritten on each call), so repeated timing calls and the
three implementations see exactly the same work.

A `Case` pairs a kernel with an input generator and the sizes used for the compiled runs
(`big`, `quick`) and for the pure-Python comparison (`small`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ember import f64, i64, u8

# --- Kernels --------------------------------------------------------------------------------


def pairwise_energy(pos: f64[:, :], eps: float) -> float:
    """Softened gravitational potential energy of n bodies (all pairs, O(n^2))."""
    n = pos.shape[0]
    e = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            r2 = eps
            for d in range(pos.shape[1]):
                diff = pos[i, d] - pos[j, d]
                r2 += diff * diff
            e += 1.0 / math.sqrt(r2)
    return e


def heat_step(u: f64[:, :], out: f64[:, :], r: float) -> None:
    """One explicit step of the 2-D heat equation: 5-point stencil on the interior."""
    for i in range(1, u.shape[0] - 1):
        for j in range(1, u.shape[1] - 1):
            lap = u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1] - 4.0 * u[i, j]
            out[i, j] = u[i, j] + r * lap


def matvec(a: f64[:, :], x: f64[:], y: f64[:]) -> None:
    """Dense matrix-vector product y = a @ x (row-major traversal)."""
    for i in range(a.shape[0]):
        s = 0.0
        for j in range(a.shape[1]):
            s += a[i, j] * x[j]
        y[i] = s


def prefix_sum(x: f64[:], out: f64[:]) -> None:
    """Inclusive scan: out[i] = x[0] + ... + x[i] (a loop-carried dependence)."""
    acc = 0.0
    for i in range(len(x)):
        acc += x[i]
        out[i] = acc


def crc32(data: u8[:]) -> int:
    """CRC-32 (IEEE, as zlib.crc32), one bit at a time: shifts, xor and a branch per bit."""
    crc = 0xFFFFFFFF
    for i in range(len(data)):
        crc ^= int(data[i])
        for _ in range(8):
            if crc & 1:
                crc = (crc >> 1) ^ 0xEDB88320
            else:
                crc >>= 1
    return crc ^ 0xFFFFFFFF


def mandelbrot(out: i64[:, :], x0: float, y0: float, step: float, maxiter: int) -> None:
    """Escape counts of the Mandelbrot set on a grid (a data-dependent while loop)."""
    for i in range(out.shape[0]):
        ci = y0 + i * step
        for j in range(out.shape[1]):
            cr = x0 + j * step
            zr = 0.0
            zi = 0.0
            k = 0
            while k < maxiter and zr * zr + zi * zi <= 4.0:
                zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
                k += 1
            out[i, j] = k


def conv1d(x: f64[:], w: f64[:], out: f64[:]) -> None:
    """Valid 1-D convolution (correlation) with a short filter."""
    m = len(w)
    for i in range(len(x) - m + 1):
        s = 0.0
        for k in range(m):
            s += x[i + k] * w[k]
        out[i] = s


def dot(a: f64[:], b: f64[:]) -> float:
    """Dot product: a sequential floating-point reduction."""
    s = 0.0
    for i in range(len(a)):
        s += a[i] * b[i]
    return s


def histogram(x: f64[:], counts: i64[:], lo: float, hi: float) -> None:
    """Fixed-width histogram: float-to-int conversion, a range test and a scattered increment."""
    nbins = len(counts)
    for b in range(nbins):
        counts[b] = 0
    scale = nbins / (hi - lo)
    for i in range(len(x)):
        b = int((x[i] - lo) * scale)
        if 0 <= b < nbins:
            counts[b] += 1


# --- Inputs ---------------------------------------------------------------------------------


def _rng() -> np.random.Generator:
    return np.random.default_rng(20261121)


def _energy_args(n: int) -> tuple:
    return (_rng().random((n, 3)), 1e-3)


def _heat_args(n: int) -> tuple:
    u = _rng().random((n, n))
    return (u, u.copy(), 0.2)


def _matvec_args(n: int) -> tuple:
    rng = _rng()
    return (rng.random((n, n)), rng.random(n), np.zeros(n))


def _scan_args(n: int) -> tuple:
    return (_rng().random(n), np.zeros(n))


def _crc_args(n: int) -> tuple:
    return (_rng().integers(0, 256, n, dtype=np.uint8),)


def _mandel_args(n: int) -> tuple:
    # n rows x 1.5 n columns covering [-2, 1] x [-1, 1]
    return (np.zeros((n, n * 3 // 2), dtype=np.int64), -2.0, -1.0, 2.0 / n, 100)


def _conv_args(n: int) -> tuple:
    rng = _rng()
    return (rng.random(n), rng.random(16), np.zeros(n - 15))


def _dot_args(n: int) -> tuple:
    rng = _rng()
    return (rng.random(n), rng.random(n))


def _hist_args(n: int) -> tuple:
    return (_rng().normal(0.0, 1.0, n), np.zeros(64, dtype=np.int64), -4.0, 4.0)


@dataclass(frozen=True)
class Case:
    """One benchmark kernel with its inputs."""

    fn: Callable
    make: Callable[[int], tuple]
    """size -> fresh argument tuple (deterministic: same seed every time)."""
    big: int
    """Size for the steady-state Ember vs Numba comparison."""
    quick: int
    """Size used instead of `big` with --quick."""
    small: int
    """Size for the pure-Python comparison (Python and Ember both timed on it)."""
    outputs: tuple[int, ...] = ()
    """Indices of the arguments the kernel writes; compared along with the return value."""
    unit: str = "elements"

    @property
    def name(self) -> str:
        return self.fn.__name__


CASES: tuple[Case, ...] = (
    Case(pairwise_energy, _energy_args, big=2000, quick=600, small=120, unit="bodies"),
    Case(heat_step, _heat_args, big=1000, quick=300, small=100, outputs=(1,), unit="(n x n)"),
    Case(matvec, _matvec_args, big=2000, quick=600, small=150, outputs=(2,), unit="(n x n)"),
    Case(prefix_sum, _scan_args, big=4_000_000, quick=400_000, small=50_000, outputs=(1,)),
    Case(crc32, _crc_args, big=1_000_000, quick=100_000, small=4_000, unit="bytes"),
    Case(mandelbrot, _mandel_args, big=400, quick=120, small=40, outputs=(0,), unit="(n x 1.5n)"),
    Case(conv1d, _conv_args, big=1_000_000, quick=100_000, small=5_000, outputs=(2,)),
    Case(dot, _dot_args, big=4_000_000, quick=400_000, small=50_000),
    Case(histogram, _hist_args, big=4_000_000, quick=400_000, small=50_000, outputs=(1,)),
)


# --- Per-call overhead kernels --------------------------------------------------------------


def add1(x: float) -> float:
    return x + 1.0


def touch3(a: f64[:], b: f64[:], c: f64[:]) -> None:
    pass


def zeros_n(n: int) -> f64[:]:
    return np.zeros(n)


def zeros_pair(n: int) -> tuple[f64[:], f64[:]]:
    return np.zeros(n), np.ones(n)


def same(a: f64[:]) -> f64[:]:
    return a


def scaled(x: float, p: float = 2.0) -> float:
    return x * p


def square(x: float) -> float:
    return x * x


def first(x: f64[:]) -> float:
    return x[0]
