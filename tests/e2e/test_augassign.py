"""Differential tests: augmented assignment with every operator, on scalars and on array
elements (1-D, 2-D, negative indices), with Python sign rules for //= and %=."""

import numpy as np
import pytest
from helpers import assert_same

from ember import f64, i64


def int_aug(a: int, b: int) -> int:
    x = a
    x += b
    x -= 3
    x *= b
    x //= 4
    x %= 1000
    x **= 2
    x &= 0xFFFF
    x |= 0x100
    x ^= b
    x <<= 3
    x >>= 1
    return x


@pytest.mark.parametrize("a, b", [(17, 5), (-17, 5), (3, -8), (0, 0), (123456, -99)])
def test_int_augmented_assignment_all_operators(a, b):
    assert_same(int_aug, a, b)


def float_aug(a: float, b: float) -> float:
    x = a
    x += b
    x -= 0.5
    x *= b
    x /= 3.0
    x //= 0.25
    x %= 7.5
    x **= 1.5
    return x


@pytest.mark.parametrize("a, b", [(2.5, 1.5), (-2.5, 1.5), (10.0, -0.5), (0.0, 2.0)])
def test_float_augmented_assignment_all_operators(a, b):
    assert_same(float_aug, a, b, rtol=1e-15)


def int_elem_aug(a: i64[:], k: int) -> None:
    a[0] += k
    a[1] -= k
    a[2] *= k
    a[3] //= k
    a[4] %= k
    a[5] **= 2
    a[6] &= k
    a[7] |= k
    a[8] ^= k
    a[9] <<= 2
    a[-1] >>= 1


@pytest.mark.parametrize("k", [3, -3, 7])
def test_int_array_element_augmented_assignment(k):
    a = np.array([5, 5, 5, -17, -17, -6, 12, 12, 12, -5, -99], dtype=np.int64)
    assert_same(int_elem_aug, a, k)


def float_elem_aug(a: f64[:], x: float) -> None:
    a[0] += x
    a[1] -= x
    a[2] *= x
    a[3] /= x
    a[4] //= x
    a[5] %= x
    a[-1] **= x


@pytest.mark.parametrize("x", [0.75, -0.75, 2.0])
def test_float_array_element_augmented_assignment(x):
    a = np.array([1.5, 1.5, 1.5, -7.25, -7.25, -7.25, 1.0, 2.5])
    assert_same(float_elem_aug, a, x, rtol=1e-15)


def aug_2d(m: f64[:, :]) -> None:
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            m[i, j] *= i + 1
            m[i, -1 - j] += j
            m[-1, j] -= 0.5


def test_2d_element_augmented_assignment():
    assert_same(aug_2d, np.arange(12.0).reshape(3, 4))


def aug_accumulate_types(a: i64[:]) -> float:
    s = 0
    for i in range(len(a)):
        s += a[i]
        s /= 2
    return s


@pytest.mark.parametrize("n", [0, 5])
def test_augmented_division_turns_accumulator_float(n):
    assert_same(aug_accumulate_types, np.arange(n, dtype=np.int64) - 2)


def aug_with_expression_index(a: i64[:], n: int) -> None:
    for i in range(n):
        a[i % len(a)] += i * i
        a[(i * 7) % len(a) - len(a)] -= 1


def test_augmented_assignment_computed_index():
    assert_same(aug_with_expression_index, np.zeros(5, dtype=np.int64), 12)
