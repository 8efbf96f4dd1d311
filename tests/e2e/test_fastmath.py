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


def math_map(x: f64[:], y: f64[:]) -> None:
    for i in range(len(x)):
        v = x[i]
        y[i] = (math.sin(v) + math.cos(v) * math.exp(-v) + math.log(v + 2.0)
                + math.tanh(v) - math.atan(v) + math.pow(v + 2.0, 0.75) + math.log2(v + 3.0))


def math_map32(x: f32[:], y: f32[:]) -> None:
    for i in range(len(x)):
        y[i] = np.float32(math.exp(x[i])) * np.float32(math.sin(x[i]))


@pytest.mark.parametrize("n", [0, 1, 3, 4, 7, 8, 33, 1000])
def test_vector_math_library_within_ulps(n):
    """Vectorized sin/cos/exp/log/... (glibc's libmvec: at most 4 ulp) on every remainder."""
    x = np.linspace(-1.5, 1.7, n)
    assert_same(math_map, x, np.zeros(n), rtol=1e-13,
                kernel=ember.kernel(math_map, fastmath=True))
    x32 = x.astype(np.float32)
    assert_same(math_map32, x32, np.zeros(n, np.float32), rtol=1e-5,
                kernel=ember.kernel(math_map32, fastmath=True))


def test_math_calls_use_vector_variants_only_with_fastmath():
    from ember.runtime import vecmath

    if vecmath.variant("sin", 2, 64) is None:
        pytest.skip("this machine's glibc has no libmvec")
    assert "_ZGV" in ember.kernel(sum_sin_sq, fastmath=True).inspect("asm")
    assert "_ZGV" not in ember.kernel(sum_sin_sq).inspect("asm")
