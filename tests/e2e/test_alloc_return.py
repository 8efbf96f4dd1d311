"""Differential tests: local arrays (np.empty/zeros/ones/full with int or tuple shapes and
dtype=, np.empty_like/zeros_like) used as scratch space and returned to the caller."""

import numpy as np
import pytest
from helpers import assert_same

from ember import boolean, f32, f64, i32, i64


def zeros_1d(n: int) -> f64[:]:
    out = np.zeros(n)
    for i in range(n):
        out[i] = i * 0.5
    return out


@pytest.mark.parametrize("n", [0, 1, 6])
def test_return_zeros_1d(n):
    assert_same(zeros_1d, n)


def empty_filled(n: int) -> f64[:]:
    out = np.empty(n)
    for i in range(n):
        out[i] = 1.0 / (i + 1)
    return out


@pytest.mark.parametrize("n", [0, 5])
def test_return_empty_after_filling(n):
    assert_same(empty_filled, n)


def ones_f32(n: int) -> f32[:]:
    out = np.ones(n, dtype=np.float32)
    for i in range(n):
        out[i] = out[i] / 3.0 + i
    return out


@pytest.mark.parametrize("n", [0, 4])
def test_return_ones_f32(n):
    assert_same(ones_f32, n)


def zeros_2d_tuple_shape(n: int, m: int) -> i64[:, :]:
    out = np.zeros((n, m), dtype=np.int64)
    for i in range(n):
        for j in range(m):
            out[i, j] = i * m + j - 3
    return out


@pytest.mark.parametrize("n, m", [(2, 3), (0, 4), (3, 0), (1, 1)])
def test_return_int_2d_tuple_shape(n, m):
    assert_same(zeros_2d_tuple_shape, n, m)


def full_arrays(n: int) -> float:
    a = np.full(n, 2.5)
    b = np.full((2, n), -1, dtype=np.int64)
    c = np.full(n, 7, dtype=np.float32)
    s = 0.0
    for i in range(n):
        s += a[i] * b[1, i] + c[i] / 2
    return s


@pytest.mark.parametrize("n", [0, 3])
def test_full_with_and_without_dtype(n):
    assert_same(full_arrays, n)


def full_returned(n: int, v: float) -> f64[:, :]:
    return np.full((n, 2), v)


def test_return_full_directly():
    assert_same(full_returned, 3, -0.75)


def full_int_default_dtype(n: int) -> i64[:]:
    out = np.full(n, 3)
    out[0] = -out[0]
    return out


def test_full_with_int_fill_is_int64():
    assert_same(full_int_default_dtype, 4)


def scratch_3d(n: int) -> float:
    t = np.zeros((n, n, 2))
    for i in range(n):
        for j in range(n):
            t[i, j, 0] = i + j
            t[i, j, 1] = i * j
    s = 0.0
    for i in range(n):
        for j in range(n):
            s += t[i, j, 0] * t[j, i, 1]
    return s


@pytest.mark.parametrize("n", [0, 3])
def test_local_3d_scratch_array(n):
    assert_same(scratch_3d, n)


def like_arrays(a: f64[:, :]) -> f64[:, :]:
    out = np.empty_like(a)
    tmp = np.zeros_like(a)
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            tmp[i, j] = a[i, j] * 2.0
            out[i, j] = tmp[i, j] + tmp[i, 0]
    return out


@pytest.mark.parametrize("shape", [(2, 3), (0, 2)])
def test_empty_like_zeros_like(shape):
    assert_same(like_arrays, np.arange(float(np.prod(shape))).reshape(shape))


def like_keeps_dtype(a: i32[:]) -> i32[:]:
    out = np.zeros_like(a)
    for i in range(len(a)):
        out[i] = a[i] * 2
    return out


def test_zeros_like_keeps_dtype():
    assert_same(like_keeps_dtype, np.array([1, -2, 3], dtype=np.int32))


def shape_from_argument(a: f64[:, :]) -> f64[:, :]:
    out = np.empty((a.shape[1], a.shape[0]))
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[j, i] = a[i, j]
    return out


@pytest.mark.parametrize("shape", [(2, 3), (1, 4), (0, 3)])
def test_return_transposed_copy(shape):
    assert_same(shape_from_argument, np.arange(float(np.prod(shape))).reshape(shape))


def sieve(n: int) -> boolean[:]:
    is_p = np.ones(n + 1, dtype=np.bool_)
    is_p[0] = False
    if n >= 1:
        is_p[1] = False
    i = 2
    while i * i <= n:
        if is_p[i]:
            for j in range(i * i, n + 1, i):
                is_p[j] = False
        i += 1
    return is_p


@pytest.mark.parametrize("n", [0, 1, 2, 30])
def test_return_bool_array(n):
    assert_same(sieve, n)


def returns_int32(n: int) -> i32[:]:
    out = np.empty(n, dtype=np.int32)
    for i in range(n):
        out[i] = i - 2
    return out


def test_return_i32_array():
    assert_same(returns_int32, 5)


def alloc_in_loop(n: int) -> float:
    s = 0.0
    for k in range(n):
        tmp = np.zeros(k + 1)
        for i in range(k + 1):
            tmp[i] = i + k
        s += tmp[-1]
    return s


def test_allocate_inside_loop():
    assert_same(alloc_in_loop, 50)


def conditional_return_array(n: int, flag: bool) -> f64[:]:
    if flag:
        a = np.ones(n)
        return a
    b = np.zeros(n + 1)
    b[0] = 4.0
    return b


@pytest.mark.parametrize("flag", [True, False])
def test_return_one_of_two_arrays(flag):
    assert_same(conditional_return_array, 3, flag)


def cumsum_new(a: f64[:]) -> f64[:]:
    out = np.empty(len(a))
    s = 0.0
    for i in range(len(a)):
        s += a[i]
        out[i] = s
    return out


@pytest.mark.parametrize("n", [0, 7])
def test_return_result_array_from_input(n):
    assert_same(cumsum_new, np.linspace(-1.0, 1.0, n))


def returns_f32_2d(n: int) -> f32[:, :]:
    out = np.zeros((n, n), dtype=np.float32)
    for i in range(n):
        out[i, i] = 0.1 * (i + 1)
    return out


def test_return_f32_2d():
    assert_same(returns_f32_2d, 3)


def big_local(n: int) -> float:
    a = np.zeros(n)
    for i in range(n):
        a[i] = i * 0.5
    return a[n - 1]


def test_large_local_array_is_not_on_the_stack():
    assert_same(big_local, 3_000_000)


def many_allocations(k: int, n: int) -> float:
    s = 0.0
    for j in range(k):
        a = np.ones(n)
        s += a[j % n] + j
    return s


def test_local_arrays_allocated_in_a_loop_are_freed():
    # 300 x 8 MB: would need 2.4 GB if the loop leaked its temporaries
    assert_same(many_allocations, 300, 1_000_000)
