"""Differential tests: corner cases of the numeric semantics (numpy integer shifts and wrap,
signed zeros, infinities in // and %, subnormals, mixed signed/unsigned comparisons, strong
bools, round with ndigits, shapes indexed at run time)."""

import math

import numpy as np
import pytest
from helpers import assert_same

from ember import boolean, f32, f64, i8, i16, i32, i64, u8, u64


def int64_min_mod_minus_one(a: i64[:]) -> int:
    return a[0] % a[1]


def test_int64_min_mod_minus_one_is_zero():
    # the result (0) is representable: a bare `srem` would trap on x86
    assert_same(int64_min_mod_minus_one, np.array([-(2**63), -1], dtype=np.int64))


def numpy_shifts(a: i64[:], s: i64[:]) -> int:
    return (a[0] << s[0]) + (a[1] >> s[1]) * 3


@pytest.mark.parametrize(
    "vals, counts", [([1, -8], [64, 70]), ([5, -8], [63, 3]), ([-1, 8], [100, 64])]
)
def test_numpy_int_shifts_by_64_or_more(vals, counts):
    # numpy defines int64 << 64 as 0 and >> 64 as 0 / -1
    a, s = np.array(vals, dtype=np.int64), np.array(counts, dtype=np.int64)
    with np.errstate(over="ignore"):
        assert_same(numpy_shifts, a, s)


def u64_wrap(b: u64[:]) -> int:
    x = b[0] - b[1]
    return x >> 60


def test_u64_subtraction_wraps_and_shifts_logically():
    with np.errstate(over="ignore"):
        assert_same(u64_wrap, np.array([1, 2], dtype=np.uint64))


def u8_invert(a: u8[:]) -> int:
    return ~a[0] + ~a[1]


def test_invert_unsigned():
    # ~5 + ~0 == 250 + 255 wraps to 249 in uint8
    with np.errstate(over="ignore"):
        assert_same(u8_invert, np.array([5, 0], dtype=np.uint8))


def inf_floordiv_mod(x: float, y: float) -> float:
    return x % y + (x // y) * 10.0


@pytest.mark.parametrize(
    "x, y", [(-5.0, math.inf), (5.0, -math.inf), (5.0, math.inf), (-5.0, -math.inf)]
)
def test_floordiv_mod_by_infinity(x, y):
    assert_same(inf_floordiv_mod, x, y)


def zero_signs(x: float) -> float:
    return (
        math.copysign(1.0, x + 0.0)
        + 10.0 * math.copysign(1.0, x - 0.0)
        + 100.0 * math.copysign(1.0, x * 0.0)
        + 1000.0 * math.copysign(1.0, -x)
    )


@pytest.mark.parametrize("x", [0.0, -0.0])
def test_signed_zero_arithmetic(x):
    assert_same(zero_signs, x)


def min_max_zero_signs(x: float, y: float) -> float:
    return (
        math.copysign(1.0, min(x, y))
        + 10.0 * math.copysign(1.0, max(x, y))
        + 100.0 * math.copysign(1.0, abs(x))
    )


@pytest.mark.parametrize("x, y", [(0.0, -0.0), (-0.0, 0.0)])
def test_min_max_abs_of_signed_zeros(x, y):
    # Python's min/max return the first argument on ties
    assert_same(min_max_zero_signs, x, y)


def subnormal(x: float) -> float:
    return x * 1e-300 * 1e-10 + 5e-324 * x


@pytest.mark.parametrize("x", [1e-8, 3.0])
def test_subnormals_not_flushed(x):
    assert_same(subnormal, x)


def small_int_true_div(a: i8[:], b: i16[:]) -> float:
    return a[0] / a[1] + b[0] * 0.5


def test_small_ints_divide_and_scale_to_f64():
    assert_same(small_int_true_div, np.array([3, 2], dtype=np.int8), np.array([3], np.int16))


def int_pow_elements(a: i64[:], b: i32[:], c: i8[:]) -> int:
    return a[0] ** a[1] + 2 ** b[0] + c[0] ** 2


def test_integer_power_of_elements_wraps():
    with np.errstate(over="ignore"):
        assert_same(
            int_pow_elements,
            np.array([3, 41], dtype=np.int64),
            np.array([10], dtype=np.int32),
            np.array([20], dtype=np.int8),
        )


def int_pow(a: int, e: int) -> int:
    return a**e


def test_power_reaching_int64_min():
    assert_same(int_pow, -2, 63)


def abs_i8_min(a: i8[:]) -> int:
    return abs(a[0])


def test_abs_of_int8_min_wraps():
    with np.errstate(over="ignore"):
        assert_same(abs_i8_min, np.array([-128], dtype=np.int8))


def i8_floordiv_mod(a: i8[:]) -> tuple[int, int]:
    return a[0] % a[1], a[0] // a[1]


@pytest.mark.parametrize("x, y", [(-7, 2), (7, -2), (-128, 3)])
def test_i8_floordiv_mod_signs(x, y):
    assert_same(i8_floordiv_mod, np.array([x, y], dtype=np.int8))


def f32_not(x: f32) -> bool:
    return not x


@pytest.mark.parametrize("x", [0.0, -0.0, 1e-45, float("nan")])
def test_not_f32(x):
    assert_same(f32_not, np.float32(x))


def big_exponents(x: float) -> float:
    return x**100 + x**-7


def test_large_constant_exponents():
    assert_same(big_exponents, 1.1, rtol=1e-15)


def signed_unsigned_compare(a: i64[:], b: u64[:]) -> int:
    return (a[0] == b[0]) + 2 * (a[0] < b[0]) + 4 * (a[1] < b[1])


def test_int64_uint64_comparison_is_exact():
    # numpy 2 compares mixed signed/unsigned integers exactly, not through float64
    a = np.array([2**62 + 1, -1], dtype=np.int64)
    b = np.array([2**62, 1], dtype=np.uint64)
    assert_same(signed_unsigned_compare, a, b)


def strong_bool_add(m: boolean[:]) -> int:
    return m[0] + m[1]


def test_numpy_bool_plus_bool_is_logical_or():
    # numpy: np.True_ + np.True_ is np.True_ (bool + bool stays bool); Python True + True is 2
    assert_same(strong_bool_add, np.array([True, True]))


def round_ndigits(x: float) -> float:
    return round(x, 2)


@pytest.mark.parametrize("x", [2.675, 1.005, 0.125, -0.375, 1234.5678, 0.285])
def test_round_with_ndigits(x):
    # Python rounds the exact binary value: round(2.675, 2) == 2.67
    assert_same(round_ndigits, x)


def shape_product(a: f64[:, :, :]) -> int:
    p = 1
    for d in range(a.ndim):
        p *= a.shape[d]
    return p


def test_shape_indexed_with_loop_variable():
    assert_same(shape_product, np.zeros((2, 3, 4)))
