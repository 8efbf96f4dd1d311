"""Differential tests: for/range in all its forms (negative and run-time steps, zero-trip
loops), while loops with data-dependent trip counts, continue, and loop-carried values."""

import numpy as np
import pytest
from helpers import assert_same

from ember import f64, i64


def sum_range(n: int) -> int:
    s = 0
    for i in range(n):
        s += i * i
    return s


@pytest.mark.parametrize("n", [0, 1, 5, 100, -3])
def test_range_stop(n):
    assert_same(sum_range, n)


def record_range2(start: int, stop: int, out: i64[:]) -> int:
    k = 0
    for i in range(start, stop):
        out[k] = i
        k += 1
    return k


@pytest.mark.parametrize("start, stop", [(2, 7), (7, 2), (-3, 3), (5, 5), (-10, -8)])
def test_range_start_stop(start, stop):
    assert_same(record_range2, start, stop, np.zeros(16, dtype=np.int64))


def constant_negative_steps(n: int, out: i64[:]) -> int:
    k = 0
    for i in range(n, -1, -1):
        out[k] = i
        k += 1
    for i in range(10, 0, -3):
        out[k] = i
        k += 1
    for i in range(n - 1, n - 5, -2):
        out[k] = i
        k += 1
    return k


@pytest.mark.parametrize("n", [4, 0, -1, -5])
def test_range_constant_negative_steps(n):
    assert_same(constant_negative_steps, n, np.zeros(32, dtype=np.int64))


def record_range3(start: int, stop: int, step: int, out: i64[:]) -> int:
    k = 0
    for i in range(start, stop, step):
        out[k] = i
        k += 1
    return k


RUNTIME_STEPS = [
    (0, 10, 3),
    (10, 0, -3),
    (0, 10, -1),
    (10, 0, 1),
    (-5, 5, 4),
    (5, -6, -5),
    (0, 1, 100),
    (3, 4, -1),
    (0, 10, 10),
    (0, 10, 11),
    (0, 10, 1),
    (9, -1, -1),
    (-1, -10, -2),
    (7, 7, -2),
]


@pytest.mark.parametrize("start, stop, step", RUNTIME_STEPS)
def test_range_runtime_step(start, stop, step):
    assert_same(record_range3, start, stop, step, np.zeros(32, dtype=np.int64))


def count_range(start: int, stop: int, step: int) -> int:
    c = 0
    for _ in range(start, stop, step):
        c += 1
        if c > 10:
            return -1
    return c


@pytest.mark.parametrize(
    "start, stop, step",
    [
        (0, 2**63 - 1, 2**62),
        (0, -(2**63), -(2**62)),
        (2**63 - 3, 2**63 - 1, 1),
        (-(2**63), -(2**63) + 2, 1),
        (-(2**63) + 5, -(2**63), -2),
    ],
)
def test_range_near_int64_limits(start, stop, step):
    # Python visits exactly the in-range values; the induction variable must not overflow.
    assert_same(count_range, start, stop, step)


def triangle(n: int) -> int:
    s = 0
    for i in range(n):
        for j in range(i + 1, n):
            s += i * 10 + j
    return s


@pytest.mark.parametrize("n", [0, 1, 2, 7])
def test_nested_triangular_loops(n):
    assert_same(triangle, n)


def loop_var_after_loop(n: int) -> int:
    for i in range(n):  # noqa: B007
        pass
    return i * 100


@pytest.mark.parametrize("n", [1, 5])
def test_loop_variable_keeps_last_value(n):
    assert_same(loop_var_after_loop, n)


def reassign_loop_var(n: int) -> int:
    acc = 0
    for i in range(n):
        i = i * 10
        acc += i
    return acc


@pytest.mark.parametrize("n", [0, 4])
def test_reassigning_loop_variable_does_not_change_iteration(n):
    assert_same(reassign_loop_var, n)


def bounds_evaluated_once(n: int) -> int:
    acc = 0
    for i in range(n):
        n = n - 1
        acc += i + n
    return acc * 1000 + n


@pytest.mark.parametrize("n", [0, 3, 6])
def test_range_bounds_evaluated_once(n):
    assert_same(bounds_evaluated_once, n)


def collatz_steps(n: int) -> int:
    steps = 0
    while n != 1:
        if n % 2 == 0:  # noqa: SIM108
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps


@pytest.mark.parametrize("n", [1, 6, 27, 97, 871])
def test_while_data_dependent_trip_count(n):
    assert_same(collatz_steps, n)


def gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


@pytest.mark.parametrize("a, b", [(48, 18), (17, 5), (0, 9), (9, 0), (-12, 18), (2**40, 2**35 * 3)])
def test_while_truthiness_and_swap(a, b):
    assert_same(gcd, a, b)


def isqrt(n: int) -> int:
    lo = 0
    hi = n + 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if mid * mid <= n:
            lo = mid
        else:
            hi = mid
    return lo


@pytest.mark.parametrize("n", [0, 1, 15, 16, 17, 10**6, 10**6 - 1])
def test_while_binary_search(n):
    assert_same(isqrt, n)


def while_zero_trip(n: int) -> int:
    k = 100
    while n > 0 and k < 0:
        k += 1
    while n < 0:
        n += 3
        k -= 1
    return k * 10 + n


@pytest.mark.parametrize("n", [5, 0, -7])
def test_while_zero_and_some_trips(n):
    assert_same(while_zero_trip, n)


def sum_skip(a: f64[:]) -> float:
    s = 0.0
    for i in range(len(a)):
        if a[i] < 0.0:
            continue
        if i % 3 == 2:
            continue
        s += a[i]
    return s


@pytest.mark.parametrize("n", [0, 1, 10])
def test_for_continue(n):
    a = np.sin(np.arange(n) * 1.7) * 3.0
    assert_same(sum_skip, a)


def while_continue(n: int) -> int:
    i = 0
    s = 0
    while i < n:
        i += 1
        if i % 2 == 1:
            continue
        s += i
    return s


@pytest.mark.parametrize("n", [0, 1, 10, 11])
def test_while_continue(n):
    assert_same(while_continue, n)


def nested_continue(n: int) -> int:
    s = 0
    for i in range(n):
        if i == 2:
            continue
        for j in range(n):
            if j == i:
                continue
            s += i * j
    return s


@pytest.mark.parametrize("n", [0, 3, 6])
def test_nested_continue(n):
    assert_same(nested_continue, n)


def while_search(a: f64[:], target: float) -> int:
    i = 0
    while i < len(a) and a[i] != target:
        i += 1
    return i


@pytest.mark.parametrize("target", [1.0, 4.0, 9.0])
def test_while_compound_condition(target):
    assert_same(while_search, np.array([3.0, 1.0, 4.0, 1.0, 5.0]), target)


def loop_carried_promotion(a: f64[:]) -> float:
    s = 0
    for i in range(len(a)):
        s += a[i]
    return s


@pytest.mark.parametrize("n", [0, 3])
def test_int_accumulator_promoted_by_float_elements(n):
    assert_same(loop_carried_promotion, np.arange(n) + 0.5)


def range_from_array(bounds: i64[:]) -> int:
    s = 0
    for i in range(bounds[0], bounds[1], bounds[2]):
        s = s * 3 + i
    return s


def test_range_bounds_from_int_array():
    assert_same(range_from_array, np.array([9, -3, -4], dtype=np.int64))


def fib_iter(n: int) -> int:
    a = 0
    b = 1
    for _ in range(n):
        a, b = b, a + b
    return a


@pytest.mark.parametrize("n", [0, 1, 2, 10, 90])
def test_loop_carried_tuple_assignment(n):
    assert_same(fib_iter, n)


def loop_var_zero_trip_keeps_old_value(n: int) -> int:
    i = -1
    for i in range(n):  # noqa: B007
        pass
    return i


@pytest.mark.parametrize("n", [0, 3])
def test_zero_trip_loop_keeps_previous_value_of_loop_variable(n):
    assert_same(loop_var_zero_trip_keeps_old_value, n)


def loop_var_after_break(n: int) -> int:
    for i in range(10):
        if i == n:
            break
    return i


@pytest.mark.parametrize("n", [4, 20])
def test_loop_variable_after_break(n):
    assert_same(loop_var_after_break, n)


def while_promotes_counter(n: int) -> float:
    x = 0
    while x < n:
        x = x + 0.75
    return x


@pytest.mark.parametrize("n", [0, 3])
def test_while_carried_variable_promoted_to_float(n):
    assert_same(while_promotes_counter, n)


def step_modified_in_body(n: int, step: int) -> int:
    s = 0
    for i in range(0, n, step):
        step = step + 1
        s = s * 10 + i
    return s * 100 + step


@pytest.mark.parametrize("n, step", [(10, 3), (0, 2)])
def test_range_step_evaluated_once(n, step):
    assert_same(step_modified_in_body, n, step)
