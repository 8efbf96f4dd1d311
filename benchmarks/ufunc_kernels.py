"""Plain Python functions made into ufuncs by both Ember and Numba (`vectorize` on scalars,
`guvectorize` writing their last parameters): bench_ufunc.py times them, tests/ufunc checks
them against Numba and NumPy."""

import math


def fma1(x, y):
    return x * y + 1.0


def bump(x):
    return math.exp(-x * x) + math.sqrt(abs(x))


def dot(x, y, out):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * y[i]
    out[0] = s


def matmul(a, b, c):
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            s = 0.0
            for k in range(a.shape[1]):
                s += a[i, k] * b[k, j]
            c[i, j] = s
