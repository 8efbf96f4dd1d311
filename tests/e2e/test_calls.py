"""Differential tests: calls from one @kernel to another, recursion, callees that mutate arrays
or return tuples, and evaluation order/count observed through such side effects.

The CPython reference is `pure(fn)`: the same code with every called kernel replaced by its
plain Python function, so no compiled code takes part in the expected result."""

import numpy as np
import pytest
from e2e_support import pure
from helpers import assert_same

import ember
from ember import f64, i64, kernel


@kernel
def square(x: float) -> float:
    return x * x


@kernel
def norm2(a: f64[:]) -> float:
    s = 0.0
    for i in range(len(a)):
        s += square(a[i])
    return s


def call_scalar(x: float, n: int) -> float:
    return square(x) + square(n) - square(x - 1.0)


@pytest.mark.parametrize("x, n", [(1.5, 3), (-2.0, 0)])
def test_call_scalar_kernel(x, n):
    assert_same(pure(call_scalar), x, n, kernel=ember.kernel(call_scalar))


def call_array_kernel(a: f64[:], b: f64[:]) -> float:
    return norm2(a) - norm2(b) * 0.5


@pytest.mark.parametrize("n", [0, 4])
def test_call_kernel_with_array_arguments(n):
    a, b = np.arange(n) * 0.5, np.arange(n) - 1.0
    assert_same(pure(call_array_kernel), a, b, kernel=ember.kernel(call_array_kernel))


@kernel
def axpy(a: float, x: f64[:], y: f64[:]) -> None:
    for i in range(len(x)):
        y[i] += a * x[i]


def call_mutating(x: f64[:], y: f64[:]) -> float:
    axpy(2.0, x, y)
    axpy(-0.5, y, x)
    return x[0] + y[-1]


def test_callee_mutates_caller_arrays():
    x, y = np.arange(5.0), np.ones(5)
    assert_same(pure(call_mutating), x, y, kernel=ember.kernel(call_mutating))


@kernel
def min_and_argmin(a: f64[:]) -> tuple[float, int]:
    best = a[0]
    k = 0
    for i in range(1, len(a)):
        if a[i] < best:
            best = a[i]
            k = i
    return best, k


def call_tuple(a: f64[:]) -> float:
    m, k = min_and_argmin(a)
    return m * 100.0 + k


@pytest.mark.parametrize("vals", [[3.0, -1.0, 2.0, -1.0], [5.0]])
def test_callee_returns_tuple(vals):
    assert_same(pure(call_tuple), np.array(vals), kernel=ember.kernel(call_tuple))


@kernel
def fib(n: int) -> int:
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


@pytest.mark.parametrize("n", [0, 1, 2, 10, 20])
def test_recursive_fib(n):
    assert_same(pure(fib), n, kernel=fib)


def test_recursive_fib_known_values():
    assert [fib(n) for n in (0, 1, 2, 3, 10, 25)] == [0, 1, 1, 2, 55, 75025]


@kernel
def is_even(n: int) -> bool:
    if n == 0:
        return True
    return is_odd(n - 1)


@kernel
def is_odd(n: int) -> bool:
    if n == 0:
        return False
    return is_even(n - 1)


@pytest.mark.parametrize("n", [0, 1, 10, 37])
def test_mutual_recursion(n):
    assert_same(pure(is_even), n, kernel=is_even)


@kernel
def gcd_rec(a: int, b: int) -> int:
    return a if b == 0 else gcd_rec(b, a % b)


@pytest.mark.parametrize("a, b", [(48, 18), (17, 5), (0, 3), (-12, 18)])
def test_recursion_in_conditional_expression(a, b):
    assert_same(pure(gcd_rec), a, b, kernel=gcd_rec)


@kernel
def bump(counter: i64[:], v: int) -> int:
    counter[0] += 1
    return v


def short_circuit_count(counter: i64[:], a: int, b: int) -> int:
    r = 0
    if bump(counter, a) > 0 and bump(counter, b) > 0:
        r += 1
    if bump(counter, a) > 0 or bump(counter, b) > 0:
        r += 2
    r += bump(counter, 5) if a > b else bump(counter, 7) * 2
    return r


@pytest.mark.parametrize("a, b", [(1, 1), (1, -1), (-1, 1), (-1, -1)])
def test_short_circuit_skips_calls(a, b):
    k = ember.kernel(short_circuit_count)
    assert_same(pure(short_circuit_count), np.zeros(1, dtype=np.int64), a, b, kernel=k)


def chain_middle_once(counter: i64[:], v: int) -> int:
    if 0 < bump(counter, v) < 10:
        return 1
    return 0


@pytest.mark.parametrize("v", [5, 50, -5])
def test_chained_comparison_evaluates_middle_once(v):
    k = ember.kernel(chain_middle_once)
    assert_same(pure(chain_middle_once), np.zeros(1, dtype=np.int64), v, kernel=k)


def augassign_index_once(counter: i64[:], a: f64[:]) -> None:
    a[bump(counter, 2)] += 1.5
    a[bump(counter, -1)] *= 3.0


def test_augmented_subscript_evaluates_index_once():
    k = ember.kernel(augassign_index_once)
    assert_same(pure(augassign_index_once), np.zeros(1, dtype=np.int64), np.ones(4), kernel=k)


@kernel
def weak_param(x: float) -> float:
    return x / 3


def call_with_int_argument(n: int) -> float:
    return weak_param(n) + weak_param(2)


def test_int_argument_to_float_parameter():
    assert_same(pure(call_with_int_argument), 7, kernel=ember.kernel(call_with_int_argument))


@kernel
def level3(x: float) -> float:
    return x + 1.0


@kernel
def level2(x: float) -> float:
    return level3(x) * 2.0


def level1(a: f64[:]) -> float:
    s = 0.0
    for i in range(len(a)):
        s += level2(a[i])
    return s


def test_call_chain_three_deep():
    assert_same(pure(level1), np.arange(4.0), kernel=ember.kernel(level1))


@kernel
def early_none(a: f64[:]) -> None:
    if len(a) == 0:
        return
    a[0] = -a[0]


def call_none_kernel(a: f64[:]) -> float:
    early_none(a)
    early_none(a)
    early_none(a)
    return a[0] if len(a) > 0 else 0.0


@pytest.mark.parametrize("n", [0, 2])
def test_call_none_returning_kernel(n):
    assert_same(pure(call_none_kernel), np.arange(n) + 1.0, kernel=ember.kernel(call_none_kernel))


def test_compiled_callee_directly():
    assert_same(pure(norm2), np.arange(6.0), kernel=norm2)


@kernel
def make_ramp(n: int) -> f64[:]:
    out = np.zeros(n)
    for i in range(n):
        out[i] = i * 2.0
    return out


def use_returned_array(n: int) -> float:
    a = make_ramp(n)
    s = 0.0
    for i in range(len(a)):
        s += a[i] * (i + 1)
    return s


@pytest.mark.parametrize("n", [0, 5])
def test_callee_returns_allocated_array(n):
    k = ember.kernel(use_returned_array)
    assert_same(pure(use_returned_array), n, kernel=k)


@kernel
def lo_hi(a: f64[:]) -> tuple[float, float]:
    lo = a[0]
    hi = a[0]
    for i in range(len(a)):
        lo = min(lo, a[i])
        hi = max(hi, a[i])
    return lo, hi


def unpack_call_into_elements(a: f64[:], out: f64[:]) -> None:
    out[0], out[-1] = lo_hi(a)


def test_unpack_call_result_into_array_elements():
    k = ember.kernel(unpack_call_into_elements)
    assert_same(pure(unpack_call_into_elements), np.array([3.0, -1.0, 7.0]), np.zeros(3), kernel=k)


@kernel
def quicksort(a: f64[:], lo: int, hi: int) -> None:
    if lo >= hi:
        return
    p = a[(lo + hi) // 2]
    i = lo
    j = hi
    while i <= j:
        while a[i] < p:
            i += 1
        while a[j] > p:
            j -= 1
        if i <= j:
            a[i], a[j] = a[j], a[i]
            i += 1
            j -= 1
    quicksort(a, lo, j)
    quicksort(a, i, hi)


def sort_all(a: f64[:]) -> None:
    quicksort(a, 0, len(a) - 1)


@pytest.mark.parametrize("n", [0, 1, 2, 25])
def test_recursive_in_place_quicksort(n):
    a = np.random.default_rng(n).standard_normal(n)
    assert_same(pure(sort_all), a, kernel=ember.kernel(sort_all))


@kernel
def ackermann(m: int, n: int) -> int:
    if m == 0:
        return n + 1
    if n == 0:
        return ackermann(m - 1, 1)
    return ackermann(m - 1, ackermann(m, n - 1))


@pytest.mark.parametrize("m, n", [(0, 0), (1, 2), (2, 3), (3, 3)])
def test_nested_recursive_calls(m, n):
    assert_same(pure(ackermann), m, n, kernel=ackermann)
