"""Differential tests: scalar builtins and constants vs CPython, math and NumPy: float('inf')
spellings, divmod, int.bit_length, math.factorial/comb/perm (values, CPython's ValueErrors, and
OverflowError where a 64-bit result would wrap), angle conversions, np.finfo/np.iinfo, the math
and NumPy constants, in float32 and float64; derivatives of the differentiable ones."""

import math

import numpy as np
import pytest
from helpers import assert_same

import ember
from ember import f32, f64


def special_floats(x: float) -> tuple[float, float, float, float, float, bool]:
    inf = float('inf')
    return (inf, float("-inf"), float("Infinity") - x, float(" -INF ") + x, float("1.5e3"),
            math.isnan(float('nan')))


def test_float_of_string():
    assert_same(special_floats, 2.0)


def divmods(a: int, b: int, x: float, y: float) -> tuple[int, int, float, float, int]:
    q, r = divmod(a, b)
    fq, fr = divmod(x, y)
    t = divmod(a, 7)
    return q, r, fq, fr, t[0] * 100 + t[1]


@pytest.mark.parametrize("a, b, x, y", [(17, 5, 7.5, 2.0), (-17, 5, -7.5, 2.0),
                                        (17, -5, 7.5, -2.0), (-17, -5, -0.0, 3.0),
                                        (0, 3, 1.0, 0.1)])
def test_divmod(a, b, x, y):
    assert_same(divmods, a, b, x, y)


def test_divmod_by_zero_raises_like_cpython():
    kernel = ember.kernel(divmods, error_model="python")
    for args, message in [((1, 0, 1.0, 2.0), "integer division or modulo by zero"),
                          ((1, 2, 1.0, 0.0), "float divmod()")]:
        with pytest.raises(ZeroDivisionError) as want:
            divmods(*args)
        assert str(want.value) == message
        with pytest.raises(ZeroDivisionError) as got:
            kernel(*args)
        assert str(got.value) == message


def bit_lengths(n: int, m: int) -> tuple[int, int, int, int]:
    k = 255
    return n.bit_length(), m.bit_length(), k.bit_length(), (n * 0).bit_length()


@pytest.mark.parametrize("n, m", [(1, -1), (-256, 2**62), (-2**63, 2**63 - 1), (12345, -3)])
def test_bit_length(n, m):
    assert_same(bit_lengths, n, m)


def combinatorics(n: int, k: int) -> tuple[int, int, int, int]:
    return math.factorial(n), math.comb(n, k), math.perm(n, k), math.perm(n)


@pytest.mark.parametrize("n, k", [(0, 0), (5, 2), (10, 3), (20, 7), (6, 9), (1, 1)])
def test_combinatorics(n, k):
    assert_same(combinatorics, n, k)


def comb_only(n: int, k: int) -> int:
    return math.comb(n, k) + math.perm(n // 2, 2)


def test_large_comb_and_errors():
    assert_same(comb_only, 66, 33)  # 7219428434016265740: fits, only through the gcd steps
    assert_same(comb_only, 1000, 2)
    kernel = ember.kernel(combinatorics)
    cases = [((-1, 2), ValueError, "factorial() not defined for negative values"),
             ((3, -1), ValueError, "k must be a non-negative integer")]
    for args, kind, message in cases:
        with pytest.raises(kind) as want:
            combinatorics(*args)
        assert str(want.value) == message
        with pytest.raises(kind) as got:
            kernel(*args)
        assert str(got.value) == message
    with pytest.raises(ValueError, match="^n must be a non-negative integer$"):
        ember.kernel(comb_only)(-3, 1)
    with pytest.raises(OverflowError, match=r"factorial\(21\) does not fit"):
        kernel(21, 1)  # CPython gives a big int; int64 would wrap around
    with pytest.raises(OverflowError, match=r"comb\(68, 34\) does not fit"):
        ember.kernel(comb_only)(68, 34)


def angles64(x: float) -> tuple[float, float, float, float, float, float]:
    return (math.radians(x), math.degrees(x), np.deg2rad(x), np.rad2deg(x), np.radians(x),
            np.degrees(x))


def angles32(x: f32) -> tuple[f32, f32, f32, f32]:
    return np.deg2rad(x), np.rad2deg(x), np.radians(x), np.degrees(x)


@pytest.mark.parametrize("x", [0.0, 1.0, -37.5, 180.0, 1e-3])
def test_angles(x):
    assert_same(angles64, x)
    assert_same(angles32, np.float32(x))


def type_info() -> tuple[f64, f64, f64, f64, f32, f32, f32, f32, int, int, int, int]:
    return (np.finfo(np.float64).eps, np.finfo(np.float64).max, np.finfo(np.float64).tiny,
            np.finfo(np.float64).min, np.finfo(np.float32).eps, np.finfo(np.float32).max,
            np.finfo(np.float32).tiny, np.finfo(np.float32).resolution,
            np.iinfo(np.int64).max, np.iinfo(np.int64).min, np.iinfo(np.int32).max,
            np.iinfo(np.uint8).max)


def test_type_info():
    got = assert_same(type_info)
    assert got[4] == np.finfo(np.float32).eps and got[4] != np.finfo(np.float64).eps


def constants(x: float) -> tuple[float, float, float, float, float, float, float, float, bool,
                                 bool, float]:
    a = np.zeros(3)
    return (math.pi * x, math.e, math.tau, math.inf, -np.inf, np.pi, np.e, float(np.inf),
            math.isnan(math.nan), math.isnan(np.nan), float(a[np.newaxis, :].shape[0]))


def test_constants():
    assert_same(constants, 2.0)


def angle_loss(x: float, y: float) -> float:
    return math.radians(x) * np.degrees(y) + np.deg2rad(x * y)


def remainder(x: float, y: float) -> float:
    q, r = divmod(x, y)
    return r * 3.0 + q


def test_derivatives():
    ember.check_grad(angle_loss, 0.7, -1.3)
    ember.check_grad(remainder, 7.3, 2.1)  # r = x - q*y: dr/dx = 1, dr/dy = -q
    gx, gy = ember.grad(remainder, wrt=("x", "y"))(7.3, 2.1)
    assert (gx, gy) == pytest.approx((3.0, -9.0))
