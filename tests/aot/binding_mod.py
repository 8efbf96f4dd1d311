"""Kernels with defaults, keyword-only, Optional, tuple and NamedTuple parameters, built by
tests/aot/test_aot_binding.py."""

from typing import NamedTuple

import numpy as np

import ember
from ember import f64


class Box(NamedTuple):
    lo: f64[:]
    width: float


@ember.kernel
def weighted(x: f64[:], p: float = 2.0, w: f64[:] | None = None, *,
             shift: tuple[float, float] = (0.5, 1.5)) -> float:
    s = 0.0
    for i in range(x.shape[0]):
        v = x[i] ** p
        if w is not None:
            v = v * w[i]
        s += v
    return s + shift[0] * 10.0 + shift[1] * 100.0


@ember.kernel
def inside(b: Box, v: float) -> int:
    n = 0
    for i in range(b.lo.shape[0]):
        if b.lo[i] <= v < b.lo[i] + b.width:
            n += 1
    return n


def loss(x: f64[:], scale: float = 3.0) -> float:
    return scale * np.sum(x * x)


grad_loss = ember.grad(ember.kernel(loss))
