"""Differential tests: for loops over 1-D arrays, enumerate(...) and zip(...) (index loops after
frontend/iteration.py), with early exits, writes through the index, and nested forms."""

import numpy as np
import pytest
from helpers import assert_same

from ember import f64, i64

A = np.array([1.0, -2.5, 3.0, 4.25, 0.5])
B = np.array([7, -1, 2], dtype=np.int64)


def over_array(a: f64[:]) -> float:
    s = 0.0
    for v in a:
        s = s * 0.5 + v
    return s


def weighted(a: f64[:]) -> float:
    s = 0.0
    for i, v in enumerate(a):
        s += i * v
    return s


def weighted_from(a: f64[:], start: int) -> float:
    s = 0.0
    for i, v in enumerate(a, start):
        s += i * v
    return s


def dot_zip(a: f64[:], b: i64[:]) -> float:
    s = 0.0
    for x, y in zip(a, b, strict=False):
        s += x * y
    return s


def nested_forms(a: f64[:], b: i64[:], n: int) -> float:
    s = 0.0
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        s += i * x - y
    for k, (j, x) in enumerate(zip(range(n, 0, -2), a, strict=False), start=1):
        s += k * j * x
    for p in zip(a, b, strict=False):
        s += p[0] * p[1]
    return s


def first_above(a: f64[:], limit: float) -> int:
    for i, v in enumerate(a):
        if v > limit:
            return i
    return -1


def skip_and_stop(a: f64[:]) -> float:
    s = 0.0
    for v in a:
        if v < 0.0:
            continue
        if v > 3.5:
            break
        s += v
    return s


def scale_in_place(a: f64[:]) -> None:
    for i, v in enumerate(a):
        a[i] = v * 2.0 + i


def index_after_loop(a: f64[:]) -> int:
    i = -1
    for i, _v in enumerate(a):
        i = i * 2
    return i


def fresh_array(n: int) -> float:
    s = 0.0
    for v in np.full(n, 1.5):
        s += v
    return s


@pytest.mark.parametrize("a", [A, A[:0], A[::-2]])
def test_array_loops(a):
    assert_same(over_array, a)
    assert_same(weighted, a)
    assert_same(weighted_from, a, 3)


def test_zip_stops_at_the_shortest():
    assert_same(dot_zip, A, B)
    assert_same(dot_zip, A[:2], B)
    assert_same(nested_forms, A, B, 7)


@pytest.mark.parametrize("limit", [2.0, 10.0])
def test_exits_inside_element_loops(limit):
    assert_same(first_above, A, limit)
    assert_same(skip_and_stop, A)


def test_writes_and_loop_variable():
    assert_same(scale_in_place, A)
    assert_same(index_after_loop, A)
    assert_same(fresh_array, 4)
