"""Kernels of bench_gpu.py, built ahead of time with `python bench_gpu.py --build DIR`."""

from ember import f32, f64, kernel, prange


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
def matmul(a: f32[:, :], b: f32[:, :], c: f32[:, :]) -> None:
    for i in prange(a.shape[0]):
        for j in prange(b.shape[1]):
            acc = f32(0.0)
            for k in range(a.shape[1]):
                acc += a[i, k] * b[k, j]
            c[i, j] = acc


@kernel(target="gpu")
def dot(x: f32[:], y: f32[:]) -> float:
    s = f32(0.0)
    for i in prange(x.shape[0]):
        s += x[i] * y[i]
    return s
