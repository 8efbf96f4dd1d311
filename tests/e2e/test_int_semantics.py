"""Differential tests: Python integer semantics (floor division, modulo, shifts, bitwise ops),
float // and %, 64-bit wrap-around on numpy integers and NEP 50 promotion of sized ints."""

import numpy as np
import pytest
from helpers import assert_same

from ember import boolean, i8, i16, i32, i64, u8, u32, u64

SIGN_PAIRS = [
    (7, 2),
    (-7, 2),
    (7, -2),
    (-7, -2),
    (6, 3),
    (-6, 3),
    (0, -5),
    (1, 10**12),
    (-1, 10**12),
    (2**62, -3),
    (-(2**62), 7),
]


def int_floordiv(a: int, b: int) -> int:
    return a // b


def int_mod(a: int, b: int) -> int:
    return a % b


@pytest.mark.parametrize("a, b", SIGN_PAIRS)
def test_int_floordiv_python_signs(a, b):
    assert_same(int_floordiv, a, b)


@pytest.mark.parametrize("a, b", SIGN_PAIRS)
def test_int_mod_python_signs(a, b):
    assert_same(int_mod, a, b)


FLOAT_PAIRS = [
    (7.5, 2.0),
    (-7.5, 2.0),
    (7.5, -2.0),
    (-7.5, -2.0),
    (1.0, 0.1),
    (-5.0, 5.0),
    (5.0, -5.0),
    (-1e-300, 1e300),
    (0.3, 0.1),
    (-0.0, 3.0),
]


def float_floordiv(a: float, b: float) -> float:
    return a // b


def float_mod(a: float, b: float) -> float:
    return a % b


@pytest.mark.parametrize("a, b", FLOAT_PAIRS)
def test_float_floordiv(a, b):
    assert_same(float_floordiv, a, b)


@pytest.mark.parametrize("a, b", FLOAT_PAIRS)
def test_float_mod(a, b):
    assert_same(float_mod, a, b)


def mixed_floordiv_mod(n: int, x: float) -> float:
    return n // x + n % x * 10.0


@pytest.mark.parametrize("n, x", [(7, 2.5), (-7, 2.5), (7, -0.75), (-1, 3.0)])
def test_int_float_floordiv_mod(n, x):
    assert_same(mixed_floordiv_mod, n, x)


def array_floordiv_mod(a: i64[:], b: i32[:], out: i64[:]) -> None:
    for i in range(len(a)):
        out[i] = (a[i] // b[i]) * 1000 + a[i] % b[i]


def test_array_int_floordiv_mod_negative_operands():
    a = np.array([7, -7, 7, -7, 0, -1, 100], dtype=np.int64)
    b = np.array([2, 2, -2, -2, 3, 5, -7], dtype=np.int32)
    assert_same(array_floordiv_mod, a, b, np.zeros(7, dtype=np.int64))


def bit_ops(a: int, b: int) -> int:
    return (a & b) + 3 * (a | b) - 7 * (a ^ b) + ~a * 11


@pytest.mark.parametrize("a, b", [(12, 10), (-12, 10), (0, -1), (255, -256), (2**40 + 3, 2**33)])
def test_bitwise_and_or_xor_invert(a, b):
    assert_same(bit_ops, a, b)


def shifts(a: int, s: int) -> int:
    return (a << s) + (a >> s)


@pytest.mark.parametrize("a, s", [(1, 0), (1, 62), (5, 3), (-5, 3), (-1000, 40), (-1, 62), (7, 1)])
def test_shifts(a, s):
    assert_same(shifts, a, s)


def right_shift(a: int, s: int) -> int:
    return a >> s


@pytest.mark.parametrize("a, s", [(-5, 63), (5, 63), (-5, 64), (5, 100), (-(2**62), 200)])
def test_right_shift_by_64_or_more_is_sign_fill(a, s):
    # Python: a >> s for s >= 64 is 0 or -1; the result fits in 64 bits, so no wrap applies.
    assert_same(right_shift, a, s)


def bool_bitwise(p: bool, q: bool) -> bool:
    return (p & q) | (p ^ q)


@pytest.mark.parametrize("p, q", [(False, False), (True, False), (True, True)])
def test_bitwise_on_bools(p, q):
    assert_same(bool_bitwise, p, q)


def wrap_i64(a: i64[:]) -> i64:
    return a[0] * a[1] + a[2]


@pytest.mark.parametrize(
    "vals", [[2**62, 4, 5], [2**63 - 1, 1, 1], [3, -(2**62), -(2**63)], [10**10, 10**10, 0]]
)
def test_int64_array_arithmetic_wraps(vals):
    with np.errstate(over="ignore"):
        assert_same(wrap_i64, np.array(vals, dtype=np.int64))


def wrap_store(a: i64[:], out: i64[:]) -> None:
    for i in range(len(a)):
        out[i] = a[i] * a[i] - a[i]


def test_int64_store_wraps():
    a = np.array([3, 2**32, -(2**40), 2**62 + 1], dtype=np.int64)
    with np.errstate(over="ignore"):
        assert_same(wrap_store, a, np.zeros(4, dtype=np.int64))


def neg_abs_min(a: i64[:]) -> i64:
    return -a[0] + abs(a[0])


def test_negating_int64_min_wraps():
    with np.errstate(over="ignore"):
        assert_same(neg_abs_min, np.array([-(2**63)], dtype=np.int64))


def u8_add(a: u8[:], b: u8[:], out: u8[:]) -> None:
    for i in range(len(a)):
        out[i] = a[i] + b[i]


def test_u8_addition_wraps_mod_256():
    a = np.array([200, 1, 255, 0], dtype=np.uint8)
    b = np.array([100, 2, 1, 0], dtype=np.uint8)
    with np.errstate(over="ignore"):
        assert_same(u8_add, a, b, np.zeros(4, dtype=np.uint8))


def i8_sub(a: i8[:], b: i8[:]) -> i8:
    return a[0] - b[0]


def test_i8_subtraction_wraps():
    with np.errstate(over="ignore"):
        assert_same(i8_sub, np.array([-100], dtype=np.int8), np.array([100], dtype=np.int8))


def i32_times_weak_int(a: i32[:], out: i32[:]) -> None:
    for i in range(len(a)):
        out[i] = a[i] * 3 + 1


def test_i32_times_python_int_stays_i32_and_wraps():
    a = np.array([1, -5, 10**9, -(10**9), 2**31 - 1], dtype=np.int32)
    with np.errstate(over="ignore"):
        assert_same(i32_times_weak_int, a, np.zeros(5, dtype=np.int32))


def i32_overflow_visible(a: i32[:]) -> int:
    s = a[0] * 3
    return s // 2


def test_i32_product_wraps_before_widening():
    with np.errstate(over="ignore"):
        assert_same(i32_overflow_visible, np.array([10**9], dtype=np.int32))


def unsigned_compare_div(a: u8[:], b: u64[:]) -> int:
    r = 0
    if a[0] > a[1]:
        r += 1
    return r + b[0] // b[1] + b[0] % b[1]


def test_unsigned_compare_and_division():
    a = np.array([255, 1], dtype=np.uint8)
    b = np.array([2**63 + 5, 3], dtype=np.uint64)
    assert_same(unsigned_compare_div, a, b)


def i32_plus_u32(a: i32[:], b: u32[:]) -> i64:
    return a[0] + b[0]


def test_i32_plus_u32_promotes_to_i64():
    assert_same(i32_plus_u32, np.array([-5], dtype=np.int32), np.array([3_000_000_000], np.uint32))


def i64_plus_u64(a: i64[:], b: u64[:]) -> float:
    return a[0] + b[0]


def test_i64_plus_u64_promotes_to_f64():
    assert_same(i64_plus_u64, np.array([-1], dtype=np.int64), np.array([2**64 - 1], np.uint64))


def u8_plus_i8(a: u8[:], b: i8[:]) -> i16:
    return a[0] + b[0]


def test_u8_plus_i8_promotes_to_i16():
    assert_same(u8_plus_i8, np.array([200], dtype=np.uint8), np.array([-100], dtype=np.int8))


def i16_mul(a: i16[:]) -> int:
    return a[0] * a[1]


def test_i16_product_wraps_at_16_bits():
    with np.errstate(over="ignore"):
        assert_same(i16_mul, np.array([300, 300], dtype=np.int16))


def count_true(m: boolean[:]) -> int:
    c = 0
    for i in range(len(m)):
        if m[i]:
            c += 1
        c += m[i] * 10
    return c


@pytest.mark.parametrize("vals", [[True, False, True], [], [False]])
def test_bool_array_elements(vals):
    assert_same(count_true, np.array(vals, dtype=np.bool_))


def i32_floordiv_neg(a: i32[:]) -> int:
    return a[0] // a[1] + a[0] % a[1] * 100


@pytest.mark.parametrize("x, y", [(-7, 2), (7, -2), (-(2**31), 3), (5, 7)])
def test_i32_floordiv_mod_signs(x, y):
    assert_same(i32_floordiv_neg, np.array([x, y], dtype=np.int32))
