"""NumPy versions of the suite kernels (`np_<name>`) and references for the others.

Each `np_<name>` has the kernel's signature and writes the same outputs, written as natural
vectorized NumPy (whole-array operations, `@` with single-threaded BLAS); `bench_suite.py` times
it and uses its outputs as the reference. Kernels without a natural vectorized version have a
`ref_<name>` instead, which only gives the expected outputs ([return value, *outputs]).
"""

from __future__ import annotations

import zlib

import numpy as np

# --- Vectorized versions (timed) ---------------------------------------------------------------


def np_jacobi_1d(a0, a, b, tsteps):
    a[:] = a0
    b[:] = a0
    for _ in range(tsteps):
        b[1:-1] = 0.33333 * (a[:-2] + a[1:-1] + a[2:])
        a[1:-1] = 0.33333 * (b[:-2] + b[1:-1] + b[2:])


def np_jacobi_2d(a0, a, b, tsteps):
    a[:] = a0
    b[:] = a0
    for _ in range(tsteps):
        b[1:-1, 1:-1] = 0.2 * (
            a[1:-1, 1:-1] + a[1:-1, :-2] + a[1:-1, 2:] + a[2:, 1:-1] + a[:-2, 1:-1]
        )
        a[1:-1, 1:-1] = 0.2 * (
            b[1:-1, 1:-1] + b[1:-1, :-2] + b[1:-1, 2:] + b[2:, 1:-1] + b[:-2, 1:-1]
        )


def _heat_np(src, dst):
    c = src[1:-1, 1:-1, 1:-1]
    dst[1:-1, 1:-1, 1:-1] = (
        0.125 * (src[2:, 1:-1, 1:-1] - 2.0 * c + src[:-2, 1:-1, 1:-1])
        + 0.125 * (src[1:-1, 2:, 1:-1] - 2.0 * c + src[1:-1, :-2, 1:-1])
        + 0.125 * (src[1:-1, 1:-1, 2:] - 2.0 * c + src[1:-1, 1:-1, :-2])
        + c
    )


def np_heat_3d(a0, a, b, tsteps):
    a[:] = a0
    b[:] = a0
    for _ in range(tsteps):
        _heat_np(a, b)
        _heat_np(b, a)


def np_gemm(alpha, beta, c0, c, a, b):
    c[:] = alpha * (a @ b) + beta * c0


def np_gemv_f32(a, x, y):
    np.dot(a, x, out=y)


def np_syrk(alpha, beta, c0, c, a):
    c[:] = np.tril(alpha * (a @ a.T) + beta * c0)


def np_atax(a, x, y, tmp):
    np.dot(a, x, out=tmp)
    np.dot(tmp, a, out=y)


def np_bicg(a, p, r, s, q):
    np.dot(r, a, out=s)
    np.dot(a, p, out=q)


def np_mvt(a, y1, y2, x1_0, x2_0, x1, x2):
    np.add(x1_0, a @ y1, out=x1)
    np.add(x2_0, y2 @ a, out=x2)


def np_cholesky(a0, a):
    a[:] = np.linalg.cholesky(a0) + np.triu(a0, 1)


def np_durbin(r, y, z):
    """NPBench's NumPy durbin: a dot with the reversed prefix, a reversed axpy (z unused)."""
    y[0] = -r[0]
    alpha, beta = -r[0], 1.0
    for k in range(1, r.shape[0]):
        beta *= 1.0 - alpha * alpha
        alpha = -(r[k] + np.dot(np.flip(r[:k]), y[:k])) / beta
        y[:k] += alpha * np.flip(y[:k])
        y[k] = alpha


def np_floyd_warshall(d0, d):
    d[:] = d0
    for k in range(len(d)):
        np.minimum(d, d[:, k, None] + d[None, k, :], out=d)


def np_softmax(x, out):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.divide(e, e.sum(axis=1, keepdims=True), out=out)


def np_softmax_f32(x, out):
    np_softmax(x, out)  # float32 in, float32 out


def np_variance(x):
    return float(np.var(x))


def np_leapfrog(pos0, vel0, pos, vel, dt, steps):
    pos[:] = pos0
    vel[:] = vel0
    for _ in range(steps):
        vel -= dt * pos
        pos += dt * vel


def np_l2norm_f32(x):
    return float(np.linalg.norm(x.astype(np.float64)))  # float32 sums lose 1e-6 at 8M elements


def np_nbody_forces(pos, mass, acc, eps):
    d = pos[None, :, :] - pos[:, None, :]
    r2 = np.einsum("ijk,ijk->ij", d, d) + eps
    f = mass[None, :] / (r2 * np.sqrt(r2))
    np.einsum("ij,ijk->ik", f, d, out=acc)


def np_arc_distance(theta_1, phi_1, theta_2, phi_2, out):
    """NPBench's NumPy arc_distance."""
    temp = (np.sin((theta_2 - theta_1) / 2) ** 2
            + np.cos(theta_1) * np.cos(theta_2) * np.sin((phi_2 - phi_1) / 2) ** 2)
    out[:] = 2 * np.arctan2(np.sqrt(temp), np.sqrt(1 - temp))


def np_spmv_csr(indptr, indices, data, x, y):
    y[:] = np.add.reduceat(data * x[indices], indptr[:-1])  # every row has an entry


def np_popcount(x):
    return int(np.bitwise_count(x).sum())


# --- References for kernels without a timed NumPy version --------------------------------------


def ref_trisolv(lo, b, x):
    return [None, np.linalg.solve(lo, b)]


def ref_crc32_table(data, table):
    return [zlib.crc32(data.tobytes())]


def ref_sort(src, a):
    return [None, np.sort(src)]
