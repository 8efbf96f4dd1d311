"""AOT build input: kernels returning tuples of arrays and their own parameters."""

import numpy as np

from ember import f64, kernel


@kernel
def split(x: f64[:], cut: float) -> tuple[f64[:], f64[:], int]:
    above = np.zeros(x.shape[0])
    below = np.zeros(x.shape[0])
    n = 0
    m = 0
    for v in x:
        if v > cut:
            above[n] = v
            n += 1
        else:
            below[m] = v
            m += 1
    return above[:n], below[:m], n


@kernel
def scale_(x: f64[:], k: float) -> f64[:]:
    for i in range(x.shape[0]):
        x[i] *= k
    return x


@kernel
def tail_and_sum(x: f64[:]) -> tuple[f64[:], float]:
    return x[1:], np.sum(x)


COEFFS = np.array([0.5, -1.0, 2.0])  # frozen into the library when it is built


@kernel
def evens_below(n: int) -> f64[:]:
    out = []
    for k in range(n):
        if k % 2 == 0:
            out.append(k * COEFFS[k % 3])
    return out
