"""Build input of the AOT raising tests (test_aot_raise.py): kernels that raise, assert and
check bounds, a derivative of one, and a kernel that cannot raise (keeps the plain C API)."""

import math

import numpy as np

from ember import f64, grad, kernel


@kernel
def checked_sum(x: f64[:], limit: float) -> float:
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > limit:
            raise ValueError(f"x[{i}] = {x[i]} exceeds {limit}")
        s += math.sin(x[i])
    return s


@kernel
def ones(n: int) -> f64[:]:
    assert n > 0, f"n must be positive, got {n}"
    out = np.ones(n)
    return out


@kernel(boundscheck=True)
def pick(x: f64[:], k: int) -> float:
    return x[k]


@kernel
def halve(x: f64[:]) -> None:
    for i in range(x.shape[0]):
        x[i] = x[i] / 2.0


dsum = grad(checked_sum, wrt="x")
