"""Differential tests: return anywhere (inside nested loops, while loops, branches), break in
nested loops, while True with break, and early bare return from kernels returning None."""

import numpy as np
import pytest
from helpers import assert_same

from ember import f64, i64


def find_first(a: f64[:], target: float) -> int:
    for i in range(len(a)):
        if a[i] == target:
            return i
    return -1


@pytest.mark.parametrize("target", [3.0, 1.0, 5.0, 7.0])
def test_return_inside_loop(target):
    assert_same(find_first, np.array([3.0, 1.0, 4.0, 1.0, 5.0]), target)


def test_return_inside_loop_empty_array():
    assert_same(find_first, np.zeros(0), 1.0)


def find_pair(a: i64[:], target: int) -> int:
    n = len(a)
    for i in range(n):
        for j in range(i + 1, n):
            if a[i] + a[j] == target:
                return i * 1000 + j
    return -1


@pytest.mark.parametrize("target", [9, 5, 100, 2])
def test_return_inside_nested_loops(target):
    assert_same(find_pair, np.array([1, 4, 5, 2, 7], dtype=np.int64), target)


def find_in_cube(c: i64[:, :, :], v: int) -> int:
    for i in range(c.shape[0]):
        for j in range(c.shape[1]):
            for k in range(c.shape[2]):
                if c[i, j, k] == v:
                    return i * 100 + j * 10 + k
    return -1


@pytest.mark.parametrize("v", [0, 13, 23, 99])
def test_return_from_three_nested_loops(v):
    assert_same(find_in_cube, np.arange(24, dtype=np.int64).reshape(2, 3, 4), v)


def break_inner(a: f64[:]) -> int:
    count = 0
    n = len(a)
    for i in range(n):
        for j in range(i + 1, n):
            if a[j] > a[i]:
                break
            count += 1
    return count


@pytest.mark.parametrize("vals", [[5.0, 4.0, 3.0, 6.0, 1.0], [1.0, 2.0, 3.0], [], [2.0]])
def test_break_leaves_only_inner_loop(vals):
    assert_same(break_inner, np.array(vals, dtype=np.float64))


def break_outer_with_flag(m: f64[:, :], limit: float) -> float:
    s = 0.0
    done = False
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            s += m[i, j]
            if s > limit:
                done = True
                break
        if done:
            break
    return s


@pytest.mark.parametrize("limit", [0.5, 7.0, 1000.0])
def test_break_outer_loop_with_flag(limit):
    assert_same(break_outer_with_flag, np.arange(12.0).reshape(3, 4) * 0.5, limit)


def while_true(n: int) -> int:
    k = 0
    while True:
        k += 1
        if k * k > n:
            break
    return k


@pytest.mark.parametrize("n", [0, 1, 10, 99])
def test_while_true_break(n):
    assert_same(while_true, n)


def break_then_use_index(a: f64[:]) -> int:
    i = 0
    for j in range(len(a)):
        i = j
        if a[j] < 0.0:
            break
    return i


@pytest.mark.parametrize("vals", [[1.0, -1.0, 2.0], [1.0, 2.0], [-5.0]])
def test_break_then_use_value(vals):
    assert_same(break_then_use_index, np.array(vals))


def return_in_while_in_for(a: i64[:]) -> int:
    for i in range(len(a)):
        x = a[i]
        while x > 1:
            if x == 7:
                return i
            x = x // 2 if x % 2 == 0 else x - 1
    return -1


@pytest.mark.parametrize("vals", [[3, 8, 14, 5], [28, 1], [2, 4], []])
def test_return_inside_while_inside_for(vals):
    assert_same(return_in_while_in_for, np.array(vals, dtype=np.int64))


def fill_until_negative(a: f64[:], v: float) -> None:
    for i in range(len(a)):
        if a[i] < 0.0:
            return
        a[i] = v


@pytest.mark.parametrize("vals", [[1.0, 2.0, -1.0, 3.0], [1.0, 2.0], [-1.0, 5.0]])
def test_bare_return_in_none_kernel(vals):
    assert_same(fill_until_negative, np.array(vals), 9.5)


def is_prime(n: int) -> bool:
    if n < 2:
        return False
    d = 2
    while d * d <= n:
        if n % d == 0:
            return False
        d += 1
    return True


@pytest.mark.parametrize("n", [0, 1, 2, 9, 97, 7919, 7917])
def test_return_inside_while(n):
    assert_same(is_prime, n)


def break_and_continue(a: i64[:]) -> int:
    s = 0
    for i in range(len(a)):
        if a[i] == 0:
            continue
        if a[i] < 0:
            break
        s += a[i]
    return s


@pytest.mark.parametrize("vals", [[1, 0, 2, -1, 5], [0, 0], [3, 4], [-2, 9]])
def test_break_and_continue_in_same_loop(vals):
    assert_same(break_and_continue, np.array(vals, dtype=np.int64))


def return_in_else(a: f64[:]) -> float:
    s = 0.0
    for i in range(len(a)):
        if a[i] > 0.0:
            s += a[i]
        else:
            if s > 3.0:
                return s
            s = 0.0
    return -s


@pytest.mark.parametrize("vals", [[1.0, 2.5, -1.0, 9.0], [1.0, -1.0, 1.0], [5.0]])
def test_return_in_nested_else_inside_loop(vals):
    assert_same(return_in_else, np.array(vals))


def mutate_then_return_early(a: f64[:, :]) -> int:
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            a[i, j] = a[i, j] * 2.0
            if a[i, j] > 10.0:
                return i * 10 + j
    return -1


@pytest.mark.parametrize("scale", [1.0, 0.1])
def test_mutations_before_early_return_are_kept(scale):
    assert_same(mutate_then_return_early, np.arange(12.0).reshape(3, 4) * scale)


def break_in_while_nested(n: int) -> int:
    total = 0
    i = 0
    while i < n:
        j = 0
        while True:
            if j >= i:
                break
            total += j
            j += 1
        i += 1
    return total


@pytest.mark.parametrize("n", [0, 1, 6])
def test_break_in_nested_while(n):
    assert_same(break_in_while_nested, n)
