"""Differential tests: tuple returns (`-> tuple[float, int]`), tuple unpacking, swaps and
rotations, unpacking `a.shape`, and tuple-valued variables merged across branches."""

import numpy as np
import pytest
from helpers import assert_same

from ember import f32, f64, i64


def min_argmin(a: f64[:]) -> tuple[float, int]:
    best = a[0]
    k = 0
    for i in range(1, len(a)):
        if a[i] < best:
            best = a[i]
            k = i
    return best, k


@pytest.mark.parametrize("vals", [[3.0, -1.0, 2.0, -1.0], [5.0], [0.5, 0.25, 0.125]])
def test_return_float_int_tuple(vals):
    assert_same(min_argmin, np.array(vals))


def three_results(n: int) -> tuple[int, int, bool]:
    return n // 3, n % 3, n % 3 == 0


@pytest.mark.parametrize("n", [9, 10, -4, 0])
def test_return_three_tuple_with_bool(n):
    assert_same(three_results, n)


def divmod_float(a: float, b: float) -> tuple[float, float]:
    return a // b, a % b


@pytest.mark.parametrize("a, b", [(7.5, 2.0), (-7.5, 2.0), (1.0, 0.1)])
def test_return_float_pair(a, b):
    assert_same(divmod_float, a, b)


def swap(a: int, b: int) -> tuple[int, int]:
    a, b = b, a
    return a, b


def test_swap():
    assert_same(swap, 1, 2)


def rotate3(x: float, y: float, z: float) -> tuple[float, float, float]:
    x, y, z = z, x, y
    x, y = y, x + y
    return x, y, z


def test_rotate_three_and_simultaneous_update():
    assert_same(rotate3, 1.0, 2.0, 4.0)


def shape_unpack(m: f64[:, :]) -> int:
    n, k = m.shape
    return n * 100 + k


@pytest.mark.parametrize("shape", [(3, 4), (0, 2)])
def test_unpack_shape(shape):
    assert_same(shape_unpack, np.zeros(shape))


def early_tuple_return(a: i64[:], t: int) -> tuple[int, int]:
    for i in range(len(a)):
        for j in range(len(a)):
            if a[i] * a[j] == t:
                return i, j
    return -1, -1


@pytest.mark.parametrize("t", [6, 16, 7])
def test_tuple_return_from_nested_loop(t):
    assert_same(early_tuple_return, np.array([1, 2, 3, 4], dtype=np.int64), t)


def tuple_branches(n: int) -> tuple[int, float]:
    if n > 0:  # noqa: SIM108
        r = (n, 0.5)
    else:
        r = (-n, 2.0)
    a, b = r
    return a + 1, b * n


@pytest.mark.parametrize("n", [3, -3])
def test_tuple_variable_merged_across_branches(n):
    assert_same(tuple_branches, n)


def f32_in_tuple(x: f32[:]) -> tuple[f32, int]:
    s = x[0] * 0.1
    return s, len(x)


def test_tuple_with_f32_element():
    got = assert_same(f32_in_tuple, np.array([0.3, 1.0], dtype=np.float32))
    assert float(got[0]) == float(np.float32(0.3) * np.float32(0.1))


def stats(a: f64[:]) -> tuple[float, float, int]:
    s = 0.0
    ss = 0.0
    n = len(a)
    for i in range(n):
        s += a[i]
        ss += a[i] * a[i]
    if n == 0:
        return 0.0, 0.0, 0
    mean = s / n
    return mean, ss / n - mean * mean, n


@pytest.mark.parametrize("n", [0, 1, 8])
def test_mean_variance_count(n):
    assert_same(stats, np.linspace(-2.0, 5.0, n))


def loop_unpack(n: int) -> tuple[int, int]:
    a, b = 0, 1
    for _ in range(n):
        a, b = a + b, a
    return a, b


@pytest.mark.parametrize("n", [0, 1, 30])
def test_unpack_in_loop(n):
    assert_same(loop_unpack, n)


def unpack_mixed(a: i64[:], x: float) -> float:
    p, q, r = a[0], x, a[-1] * 2
    return p + q * r


def test_unpack_mixed_types():
    assert_same(unpack_mixed, np.array([3, 4, 5], dtype=np.int64), 0.5)
