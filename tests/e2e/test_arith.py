"""Differential tests: scalar arithmetic (+ - * / ** unary, precedence) on Python scalars."""

import pytest
from helpers import assert_same

from ember import i32


def add_sub_mul(a: float, b: float) -> float:
    return a + b * 2.0 - a * b


@pytest.mark.parametrize("a, b", [(1.5, 2.25), (-3.0, 0.1), (0.0, -0.0), (1e300, 1e-300)])
def test_float_add_sub_mul(a, b):
    assert_same(add_sub_mul, a, b)


def int_add_sub_mul(a: int, b: int) -> int:
    return a * b + a - b * 3


@pytest.mark.parametrize("a, b", [(7, 2), (-7, 3), (0, 0), (123456789, -987654)])
def test_int_add_sub_mul(a, b):
    assert_same(int_add_sub_mul, a, b)


def true_div_ints(a: int, b: int) -> float:
    return a / b


@pytest.mark.parametrize("a, b", [(7, 2), (-7, 2), (1, 3), (0, 5), (10**15, 7), (-1, -3)])
def test_int_true_division_gives_float(a, b):
    assert_same(true_div_ints, a, b)


def float_div(a: float, b: float) -> float:
    return a / b + b / a


@pytest.mark.parametrize("a, b", [(1.0, 3.0), (-2.5, 0.1), (1e-300, 1e10)])
def test_float_division(a, b):
    assert_same(float_div, a, b)


def mixed_int_float(n: int, x: float) -> float:
    return n * x + n / 4 - x / n + (n - x)


@pytest.mark.parametrize("n, x", [(3, 0.5), (-4, 2.75), (1, -1e-3), (1000003, 0.1)])
def test_mixed_int_float(n, x):
    assert_same(mixed_int_float, n, x)


def unary_ops(x: float, n: int) -> float:
    return -x + (+x) * 0.5 - (-n) * 2 + -(-x)  # noqa: B002


@pytest.mark.parametrize("x, n", [(1.5, 2), (-0.25, -7), (0.0, 0)])
def test_unary_plus_minus(x, n):
    assert_same(unary_ops, x, n)


def precedence(a: int, b: int, c: int) -> int:
    return a + b * c - (a - b) * c + -(a**2) + 2**3**2 - b % c * a


@pytest.mark.parametrize("a, b, c", [(1, 2, 3), (-4, 5, -6), (0, 7, 1)])
def test_operator_precedence(a, b, c):
    assert_same(precedence, a, b, c)


def int_pow(a: int, e: int) -> int:
    return a**e


@pytest.mark.parametrize(
    "a, e", [(2, 10), (-3, 3), (7, 0), (0, 0), (-2, 21), (1, 100), (3, 39), (-1, 7), (10, 18)]
)
def test_int_power(a, e):
    assert_same(int_pow, a, e)


def float_pow(x: float, y: float) -> float:
    return x**y


@pytest.mark.parametrize(
    "x, y", [(2.0, 0.5), (2.0, -1.0), (10.0, 3.0), (0.0, 0.0), (1.5, 2.0), (-2.0, 3.0), (9.0, -0.5)]
)
def test_float_power(x, y):
    assert_same(float_pow, x, y, rtol=1e-15)


def pow_mixed(x: float, n: int) -> float:
    return x**n + (n * n) ** 0.5 + x**2 - x**-1


@pytest.mark.parametrize("x, n", [(2.0, 3), (0.5, -3), (-1.5, 4), (3.0, 0)])
def test_power_mixed_int_float_and_constant_exponents(x, n):
    assert_same(pow_mixed, x, n, rtol=1e-15)


def bool_arith(p: bool, q: bool) -> int:
    return p + q * 2 - p * q + (p - q)


@pytest.mark.parametrize("p", [False, True])
@pytest.mark.parametrize("q", [False, True])
def test_python_bools_take_part_in_arithmetic_as_ints(p, q):
    assert_same(bool_arith, p, q)


def compare_as_ints(a: float, b: float) -> int:
    return (a < b) + (a == b) * 2 + (a >= b) * 4


@pytest.mark.parametrize("a, b", [(1.0, 2.0), (2.0, 2.0), (3.0, 2.0), (float("nan"), 1.0)])
def test_comparison_results_in_arithmetic(a, b):
    assert_same(compare_as_ints, a, b)


def float_special_values(x: float) -> float:
    y = x * 0.0
    return y + x - x


@pytest.mark.parametrize("x", [1.0, float("inf"), float("-inf"), float("nan"), -0.0])
def test_inf_nan_propagate(x):
    assert_same(float_special_values, x)


def annotated_locals(n: int) -> float:
    x: int = 0
    y: float = 1
    k: i32 = 5
    b: bool = False
    for i in range(n):
        x += i
        k = k * 3
        b = not b
    return x + y / 2 + k + b


@pytest.mark.parametrize("n", [0, 3])
def test_annotated_locals(n):
    assert_same(annotated_locals, n)
