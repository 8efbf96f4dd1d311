"""Differential tests: if/elif/else, truthiness, comparison chains, and/or/not, conditional
expressions, pass, and variables assigned on every branch."""

import math

import numpy as np
import pytest
from helpers import assert_same

from ember import f32, f64, i8, i32, i64


def sign(x: float) -> int:
    if x > 0:
        return 1
    elif x < 0:
        return -1
    else:
        return 0


@pytest.mark.parametrize("x", [2.5, -0.1, 0.0, -0.0, float("nan"), float("-inf")])
def test_if_elif_else_returns(x):
    assert_same(sign, x)


def grade(score: int) -> int:
    g = 0
    if score >= 90:
        g = 4
    elif score >= 80:
        g = 3
    elif score >= 70:
        g = 2
    elif score >= 60:
        g = 1
    return g


@pytest.mark.parametrize("score", [95, 90, 85, 70, 61, 59, -3])
def test_elif_chain_assigns(score):
    assert_same(grade, score)


def nested_if(a: int, b: int) -> int:
    r = 0
    if a > 0:
        if b > 0:
            r = 1
        else:
            r = 2
            if b < -10:
                r = 3
    else:
        if b == 0:
            pass
        else:
            r = 4
    return r


@pytest.mark.parametrize("a, b", [(1, 1), (1, -1), (1, -11), (0, 0), (-1, 5)])
def test_nested_if_and_pass(a, b):
    assert_same(nested_if, a, b)


def both_branches_define(c: int) -> float:
    if c > 0:
        y = 1.5
        z = c
    else:
        y = -2.0
        z = c * c
    return y * z


@pytest.mark.parametrize("c", [3, 0, -4])
def test_variable_defined_on_every_branch(c):
    assert_same(both_branches_define, c)


def truthiness(n: int, x: float) -> int:
    r = 0
    if n:
        r += 1
    if x:
        r += 10
    if not n:
        r += 100
    if not x:
        r += 1000
    return r


@pytest.mark.parametrize("n, x", [(0, 0.0), (3, 0.0), (0, -0.0), (-1, 2.5), (0, float("nan"))])
def test_int_and_float_truthiness(n, x):
    assert_same(truthiness, n, x)


def chain(a: float, b: float, c: float) -> int:
    r = 0
    if a < b < c:
        r += 1
    if a <= b == c:
        r += 2
    if a < b > c:
        r += 4
    if a != b != c:
        r += 8
    if 0.0 <= a < b <= c < 100.0:
        r += 16
    return r


@pytest.mark.parametrize(
    "a, b, c",
    [
        (1.0, 2.0, 3.0),
        (1.0, 2.0, 2.0),
        (1.0, 3.0, 2.0),
        (1.0, 2.0, 1.0),
        (3.0, 2.0, 1.0),
        (2.0, 2.0, 2.0),
        (-1.0, 0.0, 1.0),
        (float("nan"), 1.0, 2.0),
    ],
)
def test_comparison_chains(a, b, c):
    assert_same(chain, a, b, c)


def mixed_compare(n: int, x: float) -> int:
    return (n < x) + 2 * (n == x) + 4 * (x >= n) + 8 * (n != x)


@pytest.mark.parametrize("n, x", [(1, 1.5), (2, 2.0), (3, -3.0), (0, -0.0)])
def test_int_float_comparisons(n, x):
    assert_same(mixed_compare, n, x)


def and_or_not(a: int, b: int, c: float) -> bool:
    return (a > 0 and b > 0) or (not c < 0.0 and a != b)


@pytest.mark.parametrize(
    "a, b, c", [(1, 1, -1.0), (1, -1, -1.0), (-1, 2, 0.5), (2, 2, 3.0), (0, 0, -0.0)]
)
def test_boolean_operators(a, b, c):
    assert_same(and_or_not, a, b, c)


def and_or_values(n: int, m: int) -> int:
    return (n or 7) + 10 * (n and m) + 100 * (m or n or 3)


@pytest.mark.parametrize("n, m", [(0, 0), (2, 0), (0, 5), (4, 9), (-1, 0)])
def test_and_or_return_operand_values(n, m):
    assert_same(and_or_values, n, m)


def and_or_float_values(x: float, y: float) -> float:
    return (x or y) * 2.0 + (x and y)


@pytest.mark.parametrize("x, y", [(0.0, 1.5), (2.0, 0.0), (0.5, -0.25), (0.0, 0.0)])
def test_and_or_on_floats(x, y):
    assert_same(and_or_float_values, x, y)


def safe_ratio(a: f64[:], i: int) -> float:
    # short-circuit: a[i] is read only when i is in bounds, and the division only when nonzero
    if i < len(a) and a[i] != 0.0 and 1.0 / a[i] > 0.5:
        return 1.0 / a[i]
    if i >= len(a) or a[i] == 0.0:
        return -1.0
    return 0.0


@pytest.mark.parametrize("i", [0, 1, 2, 3, 100])
def test_short_circuit_guards(i):
    assert_same(safe_ratio, np.array([1.5, 0.0, 4.0, 0.25]), i)


def ternary(x: float, n: int) -> float:
    y = x if x > 0 else -x
    z = n if n % 2 == 0 else n * 3 + 1
    w = 1.0 if n > 10 else (2.0 if n > 5 else 3.0)
    return y + z + w


@pytest.mark.parametrize("x, n", [(1.5, 4), (-2.0, 7), (0.0, 11), (-0.5, -3)])
def test_conditional_expression(x, n):
    assert_same(ternary, x, n)


def ternary_mixed_types(n: int) -> float:
    return n / 2 if n % 2 else n // 2


@pytest.mark.parametrize("n", [4, 5, -3, 0])
def test_conditional_expression_promotes_branches(n):
    assert_same(ternary_mixed_types, n)


def ternary_guards_division(a: i64[:]) -> int:
    t = 0
    for i in range(len(a)):
        t += 100 // a[i] if a[i] != 0 else -1
    return t


def test_conditional_expression_evaluates_one_branch():
    assert_same(ternary_guards_division, np.array([3, 0, -7, 0, 1], dtype=np.int64))


def bool_param(flag: bool, x: float) -> float:
    if flag:
        return x * 2.0
    return x if not flag else 0.0


@pytest.mark.parametrize("flag", [True, False])
def test_bool_parameter(flag):
    assert_same(bool_param, flag, 1.25)


def nan_checks(x: float) -> int:
    r = 0
    if x == x:
        r += 1
    if x != x:
        r += 2
    if not (x < 1.0):
        r += 4
    if math.isnan(x) or x > 5.0:
        r += 8
    return r


@pytest.mark.parametrize("x", [0.0, float("nan"), 7.0, float("inf")])
def test_nan_comparisons(x):
    assert_same(nan_checks, x)


def returns_on_both_branches(c: int) -> int:
    if c > 0:
        return 1
    else:
        return 2


@pytest.mark.parametrize("c", [1, -1])
def test_no_return_after_if_else_that_both_return(c):
    assert_same(returns_on_both_branches, c)


def float_truthy_while(x: float) -> int:
    k = 0
    while x:
        x = x // 2.0 if x > 1.0 else 0.0
        k += 1
    return k


@pytest.mark.parametrize("x", [37.5, 0.0, -3.0])
def test_while_on_float_truthiness(x):
    assert_same(float_truthy_while, x)


def element_truthiness(a: f32[:], b: i8[:]) -> int:
    r = 0
    for i in range(len(a)):
        if a[i]:
            r += 1
        if not b[i]:
            r += 10
        r += 2 * (a[i] and b[i])  # a float32 or int8 value: r becomes float32
    return int(r)


def test_truthiness_of_f32_and_i8_elements():
    a = np.array([0.0, 1.5, -0.0, 2.0], dtype=np.float32)
    b = np.array([0, 3, 0, -2], dtype=np.int8)
    assert_same(element_truthiness, a, b)


def bool_vs_int(p: bool, n: int) -> int:
    return (p == n) + 2 * (p < n) + 4 * (p + 1 == n)


@pytest.mark.parametrize("p, n", [(True, 1), (False, 1), (True, 2), (False, 0)])
def test_compare_bool_with_int(p, n):
    assert_same(bool_vs_int, p, n)


def and_or_mixed_types(n: int, x: float) -> float:
    return (n or x) + (x and n) * 10.0


@pytest.mark.parametrize("n, x", [(0, 2.5), (3, 0.0), (3, 1.5)])
def test_and_or_mixed_int_float_operands(n, x):
    assert_same(and_or_mixed_types, n, x)


def chain_mixed_types(a: int, x: float, b: i32[:]) -> bool:
    return a < x <= b[0] != a


@pytest.mark.parametrize("a, x", [(1, 1.5), (2, 2.0), (0, 2.0)])
def test_chain_over_int_float_and_i32(a, x):
    assert_same(chain_mixed_types, a, x, np.array([2], dtype=np.int32))
