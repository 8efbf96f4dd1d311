"""fastmath=True: same results as CPython up to reassociation rounding."""

import math

import numpy as np
import pytest
from helpers import assert_same

import ember
from ember import f32, f64


def dot(a: f64[:], b: f64[:]) -> float:
    s = 0.0
    for i in range(len(a)):
        s += a[i] * b[i]
    return s


def sum_sin_sq(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        s += math.sin(x[i] * x[i])
    return s


def scale32(x: f32[:], k: f32) -> None:
    for i in range(len(x)):
        x[i] = x[i] * k + f32(1.0)


@pytest.mark.parametrize("fn, args", [
    (dot, (np.linspace(0, 1, 1001), np.linspace(1, 2, 1001))),
    (sum_sin_sq, (np.linspace(-2, 2, 777),)),
    (scale32, (np.linspace(0, 1, 100, dtype=np.float32), np.float32(3.0))),
])
def test_fastmath_matches_within_rounding(fn, args):
    assert_same(fn, *args, rtol=1e-5, kernel=ember.kernel(fn, fastmath=True))


def test_fastmath_is_part_of_the_cache_key():
    a, b = np.ones(10), np.ones(10)
    assert ember.kernel(dot, fastmath=True)(a, b) == ember.kernel(dot)(a, b) == 10.0
