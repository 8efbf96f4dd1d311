"""Loop kernels that reduce an array to a scalar with distinct weights per element, so a
gradient test of an array-valued computation sees every element's derivative."""

from ember import f64, kernel


@kernel
def total(a: f64[:]) -> float:
    s = 0.0
    for i in range(len(a)):
        s += a[i] * (0.5 + 0.25 * i)
    return s


@kernel
def total2(a: f64[:, :]) -> float:
    s = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            s += a[i, j] * (1.0 + 0.1 * i - 0.2 * j)
    return s
