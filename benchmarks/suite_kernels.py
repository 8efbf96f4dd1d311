"""The kernels of `bench_suite.py`: PolyBench/NPBench-style loop code in Ember's subset.

Each kernel is a plain annotated Python function (nothing decorated): the benchmark compiles it
with `ember.kernel(fn)`, `ember.kernel(fn, fastmath=True)`, `numba.njit(fn)` and
`numba.njit(fn, fastmath=True)`, and runs the NumPy version (`np_<name>`, same signature, where a
natural vectorized version exists) and the C version (`benchmarks/c/<name>.c`, where one exists)
on the same inputs.

Every kernel is idempotent: it rewrites all of its outputs on each call, and kernels that work in
place (stencils, Cholesky, Floyd-Warshall, sorts) first copy their input (`*0` / `src`) into the
work array. The copy is O(size of the input) and is part of every implementation alike, so
repeated timing calls do identical work.

A `Case` pairs a kernel with its input generator, sizes, output arguments, references and C
entry. Correctness: the *reference* (NumPy, zlib, ...) gives the expected outputs on the timed
input; kernels without a practical NumPy reference (`seidel_2d`, `nussinov`, `lcs`) are checked
against CPython running the same function on a small input, and against Numba's output on the
timed input.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from suite_numpy import (
    np_arc_distance,
    np_atax,
    np_bicg,
    np_cholesky,
    np_durbin,
    np_floyd_warshall,
    np_gemm,
    np_gemv_f32,
    np_heat_3d,
    np_jacobi_1d,
    np_jacobi_2d,
    np_l2norm_f32,
    np_leapfrog,
    np_mvt,
    np_nbody_forces,
    np_popcount,
    np_softmax,
    np_softmax_f32,
    np_spmv_csr,
    np_syrk,
    np_variance,
    ref_crc32_table,
    ref_sort,
    ref_trisolv,
)

from ember import f32, f64, i64, u8, u32

# --- Stencils -------------------------------------------------------------------------------


def jacobi_1d(a0: f64[:], a: f64[:], b: f64[:], tsteps: int) -> None:
    """PolyBench jacobi-1d: 3-point averaging, `tsteps` double sweeps."""
    n = len(a0)
    for i in range(n):
        a[i] = a0[i]
        b[i] = a0[i]
    for _ in range(tsteps):
        for i in range(1, n - 1):
            b[i] = 0.33333 * (a[i - 1] + a[i] + a[i + 1])
        for i in range(1, n - 1):
            a[i] = 0.33333 * (b[i - 1] + b[i] + b[i + 1])


def jacobi_2d(a0: f64[:, :], a: f64[:, :], b: f64[:, :], tsteps: int) -> None:
    """PolyBench jacobi-2d: 5-point averaging, `tsteps` double sweeps."""
    n = a0.shape[0]
    for i in range(n):
        for j in range(n):
            a[i, j] = a0[i, j]
            b[i, j] = a0[i, j]
    for _ in range(tsteps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                b[i, j] = 0.2 * (a[i, j] + a[i, j - 1] + a[i, j + 1] + a[i + 1, j] + a[i - 1, j])
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                a[i, j] = 0.2 * (b[i, j] + b[i, j - 1] + b[i, j + 1] + b[i + 1, j] + b[i - 1, j])


def heat_3d(a0: f64[:, :, :], a: f64[:, :, :], b: f64[:, :, :], tsteps: int) -> None:  # noqa: C901
    """PolyBench heat-3d: 7-point explicit heat equation, `tsteps` double sweeps (both sweeps
    inline, as in PolyBench: a helper would have to be a kernel for Ember and Numba alike)."""
    n = a0.shape[0]
    for i in range(n):
        for j in range(n):
            for k in range(n):
                a[i, j, k] = a0[i, j, k]
                b[i, j, k] = a0[i, j, k]
    for _ in range(tsteps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                for k in range(1, n - 1):
                    c = a[i, j, k]
                    b[i, j, k] = (
                        0.125 * (a[i + 1, j, k] - 2.0 * c + a[i - 1, j, k])
                        + 0.125 * (a[i, j + 1, k] - 2.0 * c + a[i, j - 1, k])
                        + 0.125 * (a[i, j, k + 1] - 2.0 * c + a[i, j, k - 1])
                        + c
                    )
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                for k in range(1, n - 1):
                    c = b[i, j, k]
                    a[i, j, k] = (
                        0.125 * (b[i + 1, j, k] - 2.0 * c + b[i - 1, j, k])
                        + 0.125 * (b[i, j + 1, k] - 2.0 * c + b[i, j - 1, k])
                        + 0.125 * (b[i, j, k + 1] - 2.0 * c + b[i, j, k - 1])
                        + c
                    )


def seidel_2d(a0: f64[:, :], a: f64[:, :], tsteps: int) -> None:
    """PolyBench seidel-2d: in-place 9-point Gauss-Seidel sweeps (dependences in i and j)."""
    n = a0.shape[0]
    for i in range(n):
        for j in range(n):
            a[i, j] = a0[i, j]
    for _ in range(tsteps):
        for i in range(1, n - 1):
            for j in range(1, n - 1):
                a[i, j] = (
                    a[i - 1, j - 1]
                    + a[i - 1, j]
                    + a[i - 1, j + 1]
                    + a[i, j - 1]
                    + a[i, j]
                    + a[i, j + 1]
                    + a[i + 1, j - 1]
                    + a[i + 1, j]
                    + a[i + 1, j + 1]
                ) / 9.0


# --- Linear algebra written as loops -----------------------------------------------------------


def gemm(
    alpha: float, beta: float, c0: f64[:, :], c: f64[:, :], a: f64[:, :], b: f64[:, :]
) -> None:
    """PolyBench gemm: c = alpha * a @ b + beta * c0 (i-k-j loop order, as PolyBench)."""
    for i in range(c.shape[0]):
        for j in range(c.shape[1]):
            c[i, j] = beta * c0[i, j]
        for k in range(a.shape[1]):
            for j in range(c.shape[1]):
                c[i, j] += alpha * a[i, k] * b[k, j]


def gemv_f32(a: f32[:, :], x: f32[:], y: f32[:]) -> None:
    """Matrix-vector product in float32 with a float32 accumulator."""
    for i in range(a.shape[0]):
        s = np.float32(0.0)
        for j in range(a.shape[1]):
            s += a[i, j] * x[j]
        y[i] = s


def syrk(alpha: float, beta: float, c0: f64[:, :], c: f64[:, :], a: f64[:, :]) -> None:
    """PolyBench syrk: lower triangle of c = alpha * a @ a.T + beta * c0."""
    n = c.shape[0]
    for i in range(n):
        for j in range(i + 1):
            c[i, j] = beta * c0[i, j]
        for k in range(a.shape[1]):
            for j in range(i + 1):
                c[i, j] += alpha * a[i, k] * a[j, k]


def atax(a: f64[:, :], x: f64[:], y: f64[:], tmp: f64[:]) -> None:
    """PolyBench atax: y = a.T @ (a @ x), one pass over a."""
    for j in range(a.shape[1]):
        y[j] = 0.0
    for i in range(a.shape[0]):
        t = 0.0
        for j in range(a.shape[1]):
            t += a[i, j] * x[j]
        tmp[i] = t
        for j in range(a.shape[1]):
            y[j] += a[i, j] * t


def bicg(a: f64[:, :], p: f64[:], r: f64[:], s: f64[:], q: f64[:]) -> None:
    """PolyBench bicg: s = a.T @ r and q = a @ p in one pass over a."""
    for j in range(a.shape[1]):
        s[j] = 0.0
    for i in range(a.shape[0]):
        t = 0.0
        for j in range(a.shape[1]):
            s[j] += r[i] * a[i, j]
            t += a[i, j] * p[j]
        q[i] = t


def mvt(
    a: f64[:, :], y1: f64[:], y2: f64[:], x1_0: f64[:], x2_0: f64[:], x1: f64[:], x2: f64[:]
) -> None:
    """PolyBench mvt: x1 = x1_0 + a @ y1 and x2 = x2_0 + a.T @ y2 (column walk, as PolyBench)."""
    n = a.shape[0]
    for i in range(n):
        s = x1_0[i]
        for j in range(n):
            s += a[i, j] * y1[j]
        x1[i] = s
    for i in range(n):
        s = x2_0[i]
        for j in range(n):
            s += a[j, i] * y2[j]
        x2[i] = s


def trisolv(lo: f64[:, :], b: f64[:], x: f64[:]) -> None:
    """PolyBench trisolv: forward substitution, lo @ x = b with lo lower triangular."""
    for i in range(len(b)):
        s = b[i]
        for j in range(i):
            s -= lo[i, j] * x[j]
        x[i] = s / lo[i, i]


def cholesky(a0: f64[:, :], a: f64[:, :]) -> None:
    """PolyBench cholesky: in-place lower factor of the SPD matrix a0 (upper part keeps a0)."""
    n = a0.shape[0]
    for i in range(n):
        for j in range(n):
            a[i, j] = a0[i, j]
    for i in range(n):
        for j in range(i):
            for k in range(j):
                a[i, j] -= a[i, k] * a[j, k]
            a[i, j] /= a[j, j]
        for k in range(i):
            a[i, i] -= a[i, k] * a[i, k]
        a[i, i] = math.sqrt(a[i, i])


def durbin(r: f64[:], y: f64[:], z: f64[:]) -> None:
    """PolyBench/NPBench durbin: Levinson-Durbin Toeplitz solve, inner loops reading `r` and `y`
    reversed (`r[k - i - 1]`, `y[k - i - 1]`)."""
    n = len(r)
    y[0] = -r[0]
    beta = 1.0
    alpha = -r[0]
    for k in range(1, n):
        beta = (1.0 - alpha * alpha) * beta
        s = 0.0
        for i in range(k):
            s += r[k - i - 1] * y[i]
        alpha = -(r[k] + s) / beta
        for i in range(k):
            z[i] = y[i] + alpha * y[k - i - 1]
        for i in range(k):
            y[i] = z[i]
        y[k] = alpha


# --- Dynamic programming -----------------------------------------------------------------------


def floyd_warshall(d0: i64[:, :], d: i64[:, :]) -> None:
    """PolyBench floyd-warshall: all-pairs shortest paths on integer weights."""
    n = d0.shape[0]
    for i in range(n):
        for j in range(n):
            d[i, j] = d0[i, j]
    for k in range(n):
        for i in range(n):
            for j in range(n):
                via = d[i, k] + d[k, j]
                if via < d[i, j]:
                    d[i, j] = via


def nussinov(seq: i64[:], table: i64[:, :]) -> None:
    """PolyBench nussinov: RNA folding, maximum number of matched base pairs (0-3 bases)."""
    n = len(seq)
    for i in range(n):
        for j in range(n):
            table[i, j] = 0
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, n):
            best = table[i, j]
            if j - 1 >= 0:
                best = max(best, table[i, j - 1])
            if i + 1 < n:
                best = max(best, table[i + 1, j])
            if j - 1 >= 0 and i + 1 < n:
                if i < j - 1:
                    pair = 1 if seq[i] + seq[j] == 3 else 0
                    best = max(best, table[i + 1, j - 1] + pair)
                else:
                    best = max(best, table[i + 1, j - 1])
            for k in range(i + 1, j):
                best = max(best, table[i, k] + table[k + 1, j])
            table[i, j] = best


def lcs(a: u8[:], b: u8[:], row: i64[:]) -> int:
    """Length of the longest common subsequence of two byte strings (one DP row)."""
    m = len(b)
    for j in range(m + 1):
        row[j] = 0
    for i in range(len(a)):
        diag = 0
        ai = a[i]
        for j in range(1, m + 1):
            up = row[j]
            if ai == b[j - 1]:
                row[j] = diag + 1
            else:
                row[j] = max(up, row[j - 1])
            diag = up
    return row[m]


# --- Reductions --------------------------------------------------------------------------------


def softmax(x: f64[:, :], out: f64[:, :]) -> None:
    """Row-wise softmax: max, sum of exp, divide (three passes per row)."""
    for i in range(x.shape[0]):
        m = x[i, 0]
        for j in range(1, x.shape[1]):
            m = max(m, x[i, j])
        s = 0.0
        for j in range(x.shape[1]):
            e = math.exp(x[i, j] - m)
            out[i, j] = e
            s += e
        for j in range(x.shape[1]):
            out[i, j] = out[i, j] / s


def softmax_f32(x: f32[:, :], out: f32[:, :]) -> None:
    """Row-wise softmax in float32 (NPBench softmax's data type): max scan, exp, divide. np.exp
    of a float32 is float32 in NumPy, Numba and Ember alike (math.exp returns a Python float)."""
    for i in range(x.shape[0]):
        m = x[i, 0]
        for j in range(1, x.shape[1]):
            m = max(m, x[i, j])
        s = np.float32(0.0)
        for j in range(x.shape[1]):
            e = np.exp(x[i, j] - m)
            out[i, j] = e
            s += e
        for j in range(x.shape[1]):
            out[i, j] = out[i, j] / s


def variance(x: f64[:]) -> float:
    """Two-pass population variance: a sum, then a sum of squared deviations."""
    n = len(x)
    s = 0.0
    for i in range(n):
        s += x[i]
    mean = s / n
    acc = 0.0
    for i in range(n):
        d = x[i] - mean
        acc += d * d
    return acc / n


def l2norm_f32(x: f32[:]) -> float:
    """Euclidean norm of a float32 vector, accumulated in float64."""
    s = 0.0
    for i in range(len(x)):
        v = float(x[i])
        s += v * v
    return math.sqrt(s)


# --- Physics -----------------------------------------------------------------------------------


def nbody_forces(pos: f64[:, :], mass: f64[:], acc: f64[:, :], eps: float) -> None:
    """Softened gravitational accelerations of n bodies (all pairs, a sqrt per pair)."""
    n = pos.shape[0]
    for i in range(n):
        xi = pos[i, 0]
        yi = pos[i, 1]
        zi = pos[i, 2]
        ax = 0.0
        ay = 0.0
        az = 0.0
        for j in range(n):
            dx = pos[j, 0] - xi
            dy = pos[j, 1] - yi
            dz = pos[j, 2] - zi
            r2 = dx * dx + dy * dy + dz * dz + eps
            f = mass[j] / (r2 * math.sqrt(r2))
            ax += f * dx
            ay += f * dy
            az += f * dz
        acc[i, 0] = ax
        acc[i, 1] = ay
        acc[i, 2] = az


def leapfrog(pos0: f64[:], vel0: f64[:], pos: f64[:], vel: f64[:], dt: float,
             steps: int) -> None:
    """Kick-drift steps of independent harmonic oscillators, one loop per update equation
    (the kick writes `vel`, the drift reads it: producer/consumer loops)."""
    n = len(pos0)
    for i in range(n):
        pos[i] = pos0[i]
        vel[i] = vel0[i]
    for _ in range(steps):
        for i in range(n):
            vel[i] -= dt * pos[i]
        for i in range(n):
            pos[i] += dt * vel[i]


def spmv_csr(indptr: i64[:], indices: i64[:], data: f64[:], x: f64[:], y: f64[:]) -> None:
    """Sparse matrix-vector product y = A @ x, A in CSR form (gathers through indices)."""
    for i in range(len(indptr) - 1):
        s = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            s += data[k] * x[indices[k]]
        y[i] = s


def arc_distance(theta_1: f64[:], phi_1: f64[:], theta_2: f64[:], phi_2: f64[:],
                 out: f64[:]) -> None:
    """NPBench arc_distance: great-circle distance per element (sin, cos, atan2, sqrt)."""
    for i in range(len(out)):
        a = math.sin((theta_2[i] - theta_1[i]) / 2.0)
        b = math.sin((phi_2[i] - phi_1[i]) / 2.0)
        t = a**2 + math.cos(theta_1[i]) * math.cos(theta_2[i]) * b**2
        out[i] = 2.0 * math.atan2(math.sqrt(t), math.sqrt(1.0 - t))


# --- String and bit work -----------------------------------------------------------------------


def crc32_table(data: u8[:], table: u32[:]) -> int:
    """CRC-32 (IEEE, as zlib.crc32), table-driven: one lookup per byte (a serial chain)."""
    crc = 0xFFFFFFFF
    for i in range(len(data)):
        crc = (crc >> 8) ^ int(table[(crc ^ int(data[i])) & 0xFF])
    return crc ^ 0xFFFFFFFF


def popcount(x: i64[:]) -> int:
    """Total number of set bits of non-negative 64-bit words (SWAR bit counting)."""
    c = 0
    for i in range(len(x)):
        v = x[i]
        v = v - ((v >> 1) & 0x5555555555555555)
        v = (v & 0x3333333333333333) + ((v >> 2) & 0x3333333333333333)
        v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0F
        v = v + (v >> 8)
        v = v + (v >> 16)
        v = v + (v >> 32)
        c += v & 0x7F
    return c


def insertion_sort(src: f64[:], a: f64[:]) -> None:
    """Insertion sort of a copy of src (O(n^2) data-dependent inner loop)."""
    for i in range(len(src)):
        a[i] = src[i]
    for i in range(1, len(a)):
        v = a[i]
        j = i - 1
        while j >= 0 and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


def bitonic_sort(src: f64[:], a: f64[:]) -> None:
    """Bitonic sorting network on a copy of src (length a power of two)."""
    n = len(src)
    for i in range(n):
        a[i] = src[i]
    k = 2
    while k <= n:
        j = k // 2
        while j > 0:
            for i in range(n):
                partner = i ^ j
                if partner > i:
                    up = (i & k) == 0
                    if (a[i] > a[partner]) == up:
                        t = a[i]
                        a[i] = a[partner]
                        a[partner] = t
            j //= 2
        k *= 2


# --- Inputs ------------------------------------------------------------------------------------


def _rng() -> np.random.Generator:
    return np.random.default_rng(20261122)


def _stencil_args(shape: tuple, tsteps: int) -> tuple:
    a0 = _rng().random(shape)
    return (a0, np.zeros(shape), np.zeros(shape), tsteps)


def _seidel_args(n: int) -> tuple:
    return _stencil_args((n, n), 10)[:2] + (10,)


def _gemm_args(n: int) -> tuple:
    rng = _rng()
    return (1.5, 1.2, rng.random((n, n)), np.zeros((n, n)), rng.random((n, n)), rng.random((n, n)))


def _gemv_args(n: int) -> tuple:
    rng = _rng()
    a = rng.random((n, n), dtype=np.float32)
    return (a, rng.random(n, dtype=np.float32), np.zeros(n, dtype=np.float32))


def _syrk_args(n: int) -> tuple:
    rng = _rng()
    return (1.5, 1.2, rng.random((n, n)), np.zeros((n, n)), rng.random((n, n)))


def _atax_args(n: int) -> tuple:
    rng = _rng()
    return (rng.random((n, n)), rng.random(n), np.zeros(n), np.zeros(n))


def _bicg_args(n: int) -> tuple:
    rng = _rng()
    return (rng.random((n, n)), rng.random(n), rng.random(n), np.zeros(n), np.zeros(n))


def _mvt_args(n: int) -> tuple:
    rng = _rng()
    vecs = [rng.random(n) for _ in range(4)]
    return (rng.random((n, n)), *vecs, np.zeros(n), np.zeros(n))


def _trisolv_args(n: int) -> tuple:
    rng = _rng()
    lo = np.tril(rng.random((n, n))) / n + np.eye(n)  # well conditioned
    return (lo, rng.random(n), np.zeros(n))


def _cholesky_args(n: int) -> tuple:
    m = _rng().random((n, n))
    return (m @ m.T / n + np.eye(n), np.zeros((n, n)))


def _floyd_args(n: int) -> tuple:
    d0 = _rng().integers(1, 1000, (n, n), dtype=np.int64)
    np.fill_diagonal(d0, 0)
    return (d0, np.zeros((n, n), dtype=np.int64))


def _nussinov_args(n: int) -> tuple:
    return (_rng().integers(0, 4, n, dtype=np.int64), np.zeros((n, n), dtype=np.int64))


def _lcs_args(n: int) -> tuple:
    rng = _rng()
    a, b = (rng.integers(0, 4, n, dtype=np.uint8) for _ in range(2))
    return (a, b, np.zeros(n + 1, dtype=np.int64))


def _softmax_args(n: int) -> tuple:
    x = _rng().normal(0.0, 3.0, (n, 1000))
    return (x, np.zeros_like(x))


def _durbin_args(n: int) -> tuple:
    r = _rng().uniform(-1.0, 1.0, n) / n  # |reflection coefficients| < 1: a stable recursion
    return (r, np.zeros(n), np.zeros(n))


def _softmax_f32_args(n: int) -> tuple:
    x = _rng().normal(0.0, 3.0, (n, 1000)).astype(np.float32)
    return (x, np.zeros_like(x))


def _arc_args(n: int) -> tuple:
    rng = _rng()
    return (*(rng.uniform(0.0, 2.0 * np.pi, n) for _ in range(4)), np.zeros(n))


def _leapfrog_args(n: int) -> tuple:
    r = _rng()
    return (r.normal(0.0, 1.0, n), r.normal(0.0, 1.0, n), np.zeros(n), np.zeros(n), 0.01, 10)


def _vector_args(n: int) -> tuple:
    return (_rng().normal(1.0, 2.0, n),)


def _norm_args(n: int) -> tuple:
    return (_rng().normal(0.0, 1.0, n).astype(np.float32),)


def _nbody_args(n: int) -> tuple:
    rng = _rng()
    return (rng.random((n, 3)), rng.random(n) + 0.5, np.zeros((n, 3)), 1e-3)


def _spmv_args(n: int, per_row: int = 10) -> tuple:
    rng = _rng()
    counts = rng.integers(1, 2 * per_row, n)  # at least one entry per row
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = rng.integers(0, n, indptr[-1], dtype=np.int64)
    return (indptr, indices, rng.random(indptr[-1]), rng.random(n), np.zeros(n))


def crc_table() -> np.ndarray:
    """The reflected CRC-32 table (polynomial 0xEDB88320), as zlib uses."""
    table = np.zeros(256, dtype=np.uint32)
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table[n] = c
    return table


def _crc_args(n: int) -> tuple:
    return (_rng().integers(0, 256, n, dtype=np.uint8), crc_table())


def _popcount_args(n: int) -> tuple:
    return (_rng().integers(0, 1 << 62, n, dtype=np.int64) * 2 + 1,)


def _sort_args(n: int) -> tuple:
    return (_rng().random(n), np.zeros(n))


@dataclass(frozen=True)
class Case:
    """One suite kernel with its inputs, references and C entry."""

    fn: Callable
    group: str
    make: Callable[[int], tuple]
    """size -> fresh argument tuple (deterministic: same seed every time)."""
    full: int
    """Size of the timed input."""
    quick: int
    """Size of the timed input with --quick."""
    small: int
    """Size for the first-call (compile time) runs and the CPython check."""
    outputs: tuple[int, ...] = ()
    """Indices of the arguments the kernel writes; compared along with the return value."""
    numpy: Callable | None = None
    """Natural vectorized NumPy version (same signature), timed; also the default reference."""
    reference: Callable | None = None
    """args -> expected [return value, *outputs], when there is no timed NumPy version."""
    c_dims: Callable[[tuple], tuple[int, ...]] | None = None
    """args -> the int64 sizes appended to the C entry's arguments (None: no C version)."""
    rtol: float = 1e-9
    """Relative tolerance of the checks, scaled by each output's largest magnitude."""
    unit: str = "n"

    @property
    def name(self) -> str:
        return self.fn.__name__


def _stencil(shape: Callable[[int], tuple], tsteps: int) -> Callable[[int], tuple]:
    return lambda n: _stencil_args(shape(n), tsteps)


def _n0(args: tuple) -> tuple[int, ...]:
    """The C entry's sizes: the first dimension of the first array argument."""
    first = next(a for a in args if isinstance(a, np.ndarray))
    return (first.shape[0],)


def _len(*idx: int) -> Callable[[tuple], tuple[int, ...]]:
    return lambda args: tuple(len(args[i]) for i in idx)


# One row per kernel: function, group, inputs, sizes (timed, --quick, first call), outputs,
# NumPy version or reference, C sizes, tolerance, unit of the size. A table reads best as one.
# fmt: off
CASES: tuple[Case, ...] = (
    Case(jacobi_1d, "stencil", _stencil(lambda n: (n,), 100), 100_000, 10_000, 200, (1, 2),
         numpy=np_jacobi_1d, c_dims=_n0, unit="n, 100 steps"),
    Case(jacobi_2d, "stencil", _stencil(lambda n: (n, n), 20), 600, 150, 20, (1, 2),
         numpy=np_jacobi_2d, c_dims=_n0, unit="n x n, 20 steps"),
    Case(heat_3d, "stencil", _stencil(lambda n: (n, n, n), 10), 100, 30, 10, (1, 2),
         numpy=np_heat_3d, c_dims=_n0, unit="n^3, 10 steps"),
    Case(seidel_2d, "stencil", _seidel_args, 600, 150, 12, (1,),
         c_dims=_n0, unit="n x n, 10 steps"),
    Case(gemm, "linalg", _gemm_args, 384, 128, 16, (3,),
         numpy=np_gemm, c_dims=_n0, unit="n x n"),
    Case(gemv_f32, "linalg", _gemv_args, 3000, 800, 16, (2,),
         numpy=np_gemv_f32, c_dims=_n0, rtol=1e-5, unit="n x n"),
    Case(syrk, "linalg", _syrk_args, 320, 128, 16, (3,),
         numpy=np_syrk, c_dims=_n0, unit="n x n"),
    Case(atax, "linalg", _atax_args, 2500, 700, 16, (2, 3),
         numpy=np_atax, c_dims=_n0, unit="n x n"),
    Case(bicg, "linalg", _bicg_args, 2500, 700, 16, (3, 4),
         numpy=np_bicg, c_dims=_n0, unit="n x n"),
    Case(mvt, "linalg", _mvt_args, 2500, 700, 16, (5, 6),
         numpy=np_mvt, c_dims=_n0, unit="n x n"),
    Case(trisolv, "linalg", _trisolv_args, 2500, 700, 16, (2,),
         reference=ref_trisolv, c_dims=_n0, unit="n x n"),
    Case(cholesky, "linalg", _cholesky_args, 500, 150, 16, (1,),
         numpy=np_cholesky, c_dims=_n0, rtol=1e-8, unit="n x n"),
    Case(durbin, "linalg", _durbin_args, 4000, 1000, 16, (1,),
         numpy=np_durbin, c_dims=_len(0), rtol=1e-9, unit="n (Toeplitz)"),
    Case(floyd_warshall, "dynamic prog.", _floyd_args, 400, 120, 16, (1,),
         numpy=np_floyd_warshall, c_dims=_n0, unit="nodes"),
    Case(nussinov, "dynamic prog.", _nussinov_args, 400, 150, 30, (1,),
         c_dims=_n0, unit="bases"),
    Case(lcs, "dynamic prog.", _lcs_args, 3000, 800, 60, (),
         c_dims=_len(0, 1), unit="x n bytes"),
    Case(softmax, "reduction", _softmax_args, 1000, 200, 4, (1,),
         numpy=np_softmax, c_dims=lambda args: args[0].shape, rtol=1e-12, unit="rows x 1000"),
    Case(softmax_f32, "reduction", _softmax_f32_args, 1000, 200, 4, (1,),
         numpy=np_softmax_f32, c_dims=lambda args: args[0].shape, rtol=1e-5,
         unit="rows x 1000 (f32)"),
    Case(variance, "reduction", _vector_args, 4_000_000, 400_000, 1000, (),
         numpy=np_variance, c_dims=_len(0), unit="elements"),
    Case(l2norm_f32, "reduction", _norm_args, 8_000_000, 800_000, 1000, (),
         numpy=np_l2norm_f32, c_dims=_len(0), rtol=1e-6, unit="elements"),
    Case(nbody_forces, "physics", _nbody_args, 1500, 400, 20, (2,),
         numpy=np_nbody_forces, c_dims=_n0, unit="bodies"),
    Case(leapfrog, "physics", _leapfrog_args, 2_000_000, 200_000, 1000, (2, 3),
         numpy=np_leapfrog, c_dims=_len(0), unit="oscillators, 10 steps"),
    Case(spmv_csr, "physics", _spmv_args, 300_000, 50_000, 100, (4,),
         numpy=np_spmv_csr, c_dims=lambda args: (len(args[0]) - 1,), unit="rows, ~10 nnz/row"),
    Case(arc_distance, "physics", _arc_args, 500_000, 50_000, 100, (4,),
         numpy=np_arc_distance, c_dims=_len(0), unit="points"),
    Case(crc32_table, "string/bit", _crc_args, 4_000_000, 400_000, 1000, (),
         reference=ref_crc32_table, c_dims=_len(0), unit="bytes"),
    Case(popcount, "string/bit", _popcount_args, 4_000_000, 400_000, 1000, (),
         numpy=np_popcount, c_dims=_len(0), unit="words"),
    Case(insertion_sort, "string/bit", _sort_args, 6000, 1500, 50, (1,),
         reference=ref_sort, c_dims=_len(0), unit="elements"),
    Case(bitonic_sort, "string/bit", _sort_args, 1 << 16, 1 << 13, 64, (1,),
         reference=ref_sort, c_dims=_len(0), unit="elements"),
)
# fmt: on
"""The suite, in report order."""


# --- First-call baseline -----------------------------------------------------------------------


def add1(x: float) -> float:
    return x + 1.0
