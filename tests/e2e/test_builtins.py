"""Differential tests: the builtins abs, min, max, int, float, bool and round."""

import numpy as np
import pytest
from helpers import assert_same

from ember import f32, f64, i32, i64


def abs_int(n: int) -> int:
    return abs(n) * 3 + abs(-n)


@pytest.mark.parametrize("n", [5, -5, 0, -(2**60)])
def test_abs_int(n):
    assert_same(abs_int, n)


def abs_float(x: float) -> float:
    return abs(x) + abs(x - 10.0)


@pytest.mark.parametrize("x", [2.5, -2.5, -0.0, float("-inf"), float("nan")])
def test_abs_float(x):
    assert_same(abs_float, x)


def abs_elements(a: i32[:], b: f32[:], out: f64[:]) -> None:
    for i in range(len(a)):
        out[i] = abs(a[i]) + abs(b[i])


def test_abs_of_sized_elements():
    a = np.array([-3, 4, -(2**31) + 1], dtype=np.int32)
    b = np.array([-0.1, 2.5, -1e-3], dtype=np.float32)
    assert_same(abs_elements, a, b, np.zeros(3))


def min_max_int(a: int, b: int) -> int:
    return min(a, b) * 1000 + max(a, b)


@pytest.mark.parametrize("a, b", [(3, 7), (7, 3), (-2, -2), (-5, 4)])
def test_min_max_int(a, b):
    assert_same(min_max_int, a, b)


def min_max_float(x: float, y: float) -> float:
    return min(x, y) * 10.0 + max(x, y)


@pytest.mark.parametrize("x, y", [(1.5, -2.0), (-0.5, 0.25), (3.0, 3.0), (float("-inf"), 1.0)])
def test_min_max_float(x, y):
    assert_same(min_max_float, x, y)


def min_max_nan(x: float, y: float) -> float:
    return min(x, y) + max(x, y) * 10.0


@pytest.mark.parametrize("x, y", [(float("nan"), 1.0), (1.0, float("nan"))])
def test_min_max_nan_follow_python(x, y):
    # Python: max(a, b) is `b if b > a else a`, so a NaN in first position wins, not second
    assert_same(min_max_nan, x, y)


def min_max_mixed(n: int, x: float) -> float:
    return min(n, x) + max(n, x) * 2.0


@pytest.mark.parametrize("n, x", [(2, 2.5), (3, -1.0)])
def test_min_max_mixed_int_float(n, x):
    assert_same(min_max_mixed, n, x)


def min_max_three(a: int, b: int, c: int) -> int:
    return min(a, b, c) * 100 + max(c, b, a)


@pytest.mark.parametrize("a, b, c", [(1, 2, 3), (3, 1, 2), (2, 3, 1), (-1, -1, 0)])
def test_min_max_three_args(a, b, c):
    assert_same(min_max_three, a, b, c)


def running_max(a: f64[:]) -> float:
    m = -1e308
    for i in range(len(a)):
        m = max(m, a[i])
    return m


@pytest.mark.parametrize("vals", [[1.0, 5.0, -2.0, 4.0], [], [-7.0]])
def test_running_max(vals):
    assert_same(running_max, np.array(vals))


def to_int(x: float) -> int:
    return int(x) * 10 + int(-x)


@pytest.mark.parametrize("x", [2.7, -2.7, 0.5, -0.5, 1e15 + 0.5, 3.0])
def test_int_truncates_toward_zero(x):
    assert_same(to_int, x)


def int_of_bool_and_int(p: bool, n: int) -> int:
    return int(p) * 100 + int(n)


@pytest.mark.parametrize("p, n", [(True, 5), (False, -3)])
def test_int_of_bool_and_int(p, n):
    assert_same(int_of_bool_and_int, p, n)


def int_of_f32(x: f32[:]) -> int:
    return int(x[0]) + int(x[1]) * 1000


def test_int_of_f32_elements():
    assert_same(int_of_f32, np.array([16777217.0, -3.9], dtype=np.float32))


def to_float(n: int, p: bool) -> float:
    return float(n) / 4 + float(p)


@pytest.mark.parametrize("n, p", [(7, True), (-3, False), (2**53 + 1, False)])
def test_float_conversion(n, p):
    assert_same(to_float, n, p)


def to_bool(n: int, x: float) -> int:
    return bool(n) + 2 * bool(x) + 4 * (not bool(n - 1))


@pytest.mark.parametrize("n, x", [(0, 0.0), (1, -0.0), (-3, float("nan")), (2, 0.5)])
def test_bool_conversion(n, x):
    assert_same(to_bool, n, x)


def rounding(x: float) -> int:
    return round(x)


@pytest.mark.parametrize(
    "x", [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.675, 0.49999999999999994, 1e15 + 0.5, -7.0, 3.2]
)
def test_round_half_to_even(x):
    assert_same(rounding, x)


def round_is_int(a: f64[:], x: float) -> float:
    return a[round(x)]


@pytest.mark.parametrize("x", [0.5, 1.5, 2.4, -0.6])
def test_round_result_indexes(x):
    assert_same(round_is_int, np.arange(4.0) * 2.0, x)


def round_f32(x: f32[:]) -> int:
    return round(x[0]) * 100 + round(x[1])


def test_round_f32():
    assert_same(round_f32, np.array([2.5, -3.5], dtype=np.float32))


def builtins_on_i64_elements(a: i64[:]) -> int:
    return min(a[0], a[1]) + max(a[0], a[1]) * 10 + abs(a[0]) * 100


def test_builtins_on_i64_elements():
    assert_same(builtins_on_i64_elements, np.array([-4, 3], dtype=np.int64))


def cast_chain(x: float) -> int:
    return int(float(int(x) * 2) / 4) + bool(int(x)) * 1000


@pytest.mark.parametrize("x", [7.9, -0.5, -9.99])
def test_nested_casts(x):
    assert_same(cast_chain, x)
