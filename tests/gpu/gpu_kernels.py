"""GPU kernels shared by the GPU tests and the AOT GPU build: one per kind of nest."""

import math

import numpy as np

from ember import f32, f64, i64, kernel, prange


@kernel(target="gpu")
def saxpy(a: f32, x: f32[:], y: f32[:]) -> None:
    for i in prange(x.shape[0]):
        y[i] += a * x[i]


@kernel(target="gpu")
def heat_step(u: f64[:, :], out: f64[:, :], k: float) -> None:
    for i in prange(1, u.shape[0] - 1):
        for j in prange(1, u.shape[1] - 1):
            out[i, j] = u[i, j] + k * (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1]
                                       - 4 * u[i, j])


@kernel(target="gpu")
def scale3(x: f32[:, :, :], out: f32[:, :, :], s: f32) -> None:
    for i in prange(x.shape[0]):
        for j in prange(x.shape[1]):
            for k in prange(x.shape[2]):
                out[i, j, k] = s * x[i, j, k] + f32(i - j + k)


@kernel(target="gpu")
def math64(x: f64[:], out: f64[:]) -> None:
    for i in prange(len(x)):
        v = x[i]
        out[i] = math.exp(v) * math.sin(v) + math.sqrt(abs(v)) + math.atan2(v, 2.0)


@kernel(target="gpu")
def math32(x: f32[:], out: f32[:]) -> None:
    for i in prange(len(x)):
        out[i] = math.tanh(x[i]) + math.log(f32(1.0) + x[i] * x[i]) * math.cos(x[i])


@kernel(target="gpu")
def total(x: f64[:]) -> float:
    s = 0.0
    for i in prange(x.shape[0]):
        s += x[i] * x[i]
    return s


@kernel(target="gpu")
def count_above(x: i64[:], limit: int) -> int:
    n = 0
    for i in prange(len(x)):
        if x[i] > limit:
            n += 1
    return n


@kernel(target="gpu")
def histogram(x: f64[:], bins: f64[:], sums: f64[:]) -> None:
    nb = bins.shape[0]
    for i in prange(x.shape[0]):
        b = int(x[i] * nb)
        if b >= nb:
            b = nb - 1
        bins[b] += 1.0
        sums[0] += x[i]


@kernel(target="gpu")
def row_sums(a: f64[:, :], out: f64[:]) -> None:
    for i in prange(a.shape[0]):
        for j in prange(a.shape[1]):
            out[i] += a[i, j]


@kernel(target="gpu")
def branchy(a: f64[:, :], out: f64[:]) -> None:
    for i in prange(a.shape[0]):
        acc = 0.0
        for k in range(a.shape[1]):
            if a[i, k] > 0.5:
                acc += a[i, k]
            else:
                acc -= 0.5 * a[i, k]
        out[i] = acc


@kernel(target="gpu")
def matmul(a: f32[:, :], b: f32[:, :], c: f32[:, :]) -> None:
    for i in prange(a.shape[0]):
        for j in prange(b.shape[1]):
            acc = f32(0.0)
            for k in range(a.shape[1]):
                acc += a[i, k] * b[k, j]
            c[i, j] = acc


@kernel(target="gpu")
def two_pass(x: f64[:], y: f64[:], step: int) -> float:
    s = 0.0
    for i in prange(0, len(x), step):
        y[i] = 2.0 * x[i]
    half = len(x) // 2
    for i in prange(half):
        s += y[i] + x[i + half]
    return s


@kernel(target="gpu")
def powers(x: i64[:], out: i64[:]) -> None:
    for i in prange(len(x)):
        out[i] = x[i] ** 3 + x[i] // 7 - x[i] % 5


@kernel(target="gpu")
def gradient_stats(u: f64[:, :], step: int) -> tuple[float, int]:
    e = 0.0
    n = 0
    for i in prange(1, u.shape[0] - 1):
        for j in prange(u.shape[1] - 1, 0, -step):
            d = u[i + 1, j] - u[i - 1, j]
            e += d * d
            if d > 0.0:
                n += 1
    return e, n


@kernel(target="gpu")
def masked_sums(x: f64[:, :], out: f64[:], limit: float) -> None:
    for i in prange(x.shape[0]):
        for j in prange(x.shape[1]):
            v = x[i, j]
            if v > limit:
                out[0] += v
            else:
                out[-1] -= 1.0


# --- array code (frontend/gpu_arrays.py): whole-array statements at the top level run one
# thread per element; inside prange loops views, array assignments, reductions and dot
# products run sequentially in each thread
@kernel(target="gpu")
def array_saxpy(a: f32, x: f32[:], y: f32[:], out: f32[:]) -> None:
    out[:] = a * x + y
    y += out


@kernel(target="gpu")
def array_broadcast(m: f64[:, :], w: f64[:], t: f64[:, :], out: f64[:, :, :]) -> None:
    t[...] = m * w - 1.0      # w broadcast over the rows
    m += t.T.T                # a view of another array
    out.fill(0.5)
    out[:] += np.sqrt(m)      # (rows, cols) broadcast over out's first axis


@kernel(target="gpu")
def array_rows(x: f64[:, :], out: f64[:, :]) -> None:
    for i in prange(x.shape[0]):
        row = x[i]
        out[i, 0] = np.sum(row * row)
        out[i, 1] = np.max(row[::-1][1:])
        out[i, 2] = np.dot(row, x[i, ::-1]) + np.argmax(row)
        out[i, 3] = np.mean(x[:, i % x.shape[1]])
        out[i, 4:] = 0.0
        out[i, 4::2] = 2.0 * row[:(out.shape[1] - 3) // 2] + 1.0


@kernel(target="gpu")
def array_tiles(a: f32[:, :, :], b: f32[:, :, :], out: f32[:]) -> None:
    for k in prange(a.shape[0]):
        tile = a[k].T
        tile[:, 0] = np.abs(b[k, 1])
        row = b[k, 0]
        b[k, 0, :] = row / np.sum(np.abs(row))  # in place through the same view: no copy
        out[k] = np.trace(a[k]) + np.vdot(tile[0], tile[0]) + np.var(tile[1:, 1:])


@kernel(target="gpu")
def array_sums(x: f64[:, :], w: f64[:], k: i64[:]) -> tuple[float, int]:
    s = np.sum(x * w)         # a parallel reduction over the broadcast shape (strided)
    x[:] = x - s / x.size
    return s, np.sum(k * k)


@kernel(target="gpu")
def array_4d(x: f32[:, :, :, :], out: f32[:, :, :, :]) -> None:
    out[...] = x * 2.0 + 1.0  # a 3-D grid, the last axis looped in each thread
    x *= 3.0


@kernel(target="gpu")
def array_reductions(x: f64[:, :], flags: i64[:], lo: f64[:]) -> float:
    s = 0.0
    for i in prange(x.shape[0]):
        s += np.sum(x[i, ::-2])  # a strided nest (a scalar reduction) with array code
        lo[i] = np.min(x[i]) + np.prod(x[i, :3])
        flags[i] = np.any(x[i] > 0.9) + 2 * np.all(x[i] > 0.01) + 4 * np.argmin(x[i])
    return s
