"""Optimization never costs correctness: opt_level=0, the default and fastmath agree with
CPython on the same programs (fastmath within reassociation rounding)."""

import math

import numpy as np
import pytest
from helpers import assert_same

import ember
from ember import f64, i64


def stencil(u: f64[:], out: f64[:]) -> None:
    for i in range(1, len(u) - 1):
        out[i] = 0.25 * u[i - 1] + 0.5 * u[i] + 0.25 * u[i + 1]


def matmul(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    for i in range(a.shape[0]):
        for k in range(a.shape[1]):
            for j in range(b.shape[1]):
                c[i, j] += a[i, k] * b[k, j]


def collatz(n: int) -> int:
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def norm(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        s += x[i] * x[i]
    return math.sqrt(s)


def histogram(x: f64[:], counts: i64[:]) -> None:
    for i in range(len(x)):
        counts[int(x[i] * len(counts)) % len(counts)] += 1


RNG = np.random.default_rng(5)
CASES = [
    (stencil, (RNG.random(101), np.zeros(101))),
    (matmul, (RNG.random((7, 5)), RNG.random((5, 9)), np.zeros((7, 9)))),
    (collatz, (27,)),
    (norm, (RNG.random(999),)),
    (histogram, (RNG.random(500), np.zeros(16, dtype=np.int64))),
]


@pytest.mark.parametrize("level", [0, 1, 3])
@pytest.mark.parametrize("fn, args", CASES, ids=[c[0].__name__ for c in CASES])
def test_every_level_matches_cpython(fn, args, level):
    assert_same(fn, *args, kernel=ember.kernel(fn, opt_level=level))


@pytest.mark.parametrize("fn, args", CASES, ids=[c[0].__name__ for c in CASES])
def test_fastmath_matches_within_rounding(fn, args):
    assert_same(fn, *args, rtol=1e-9, kernel=ember.kernel(fn, fastmath=True))
