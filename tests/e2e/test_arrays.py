"""Differential tests: array loads and stores (1-D, 2-D, 3-D), negative-index wrap-around,
shape/len/size/ndim, empty arrays and in-place mutation of arguments."""

import numpy as np
import pytest
from helpers import assert_same

from ember import f32, f64, i32, i64


def total(a: f64[:]) -> float:
    s = 0.0
    for i in range(len(a)):
        s += a[i]
    return s


@pytest.mark.parametrize("n", [0, 1, 7, 100])
def test_sum_1d(n):
    assert_same(total, np.linspace(-1.0, 2.0, n))


def dot(a: f64[:], b: f64[:]) -> float:
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * b[i]
    return s


@pytest.mark.parametrize("n", [0, 3, 33])
def test_dot(n):
    rng = np.random.default_rng(n)
    assert_same(dot, rng.standard_normal(n), rng.standard_normal(n))


def negative_constant_indices(a: f64[:]) -> float:
    return a[-1] * 100.0 + a[-2] * 10.0 + a[-len(a)]


@pytest.mark.parametrize("n", [2, 5])
def test_negative_constant_indices(n):
    assert_same(negative_constant_indices, np.arange(n) + 1.0)


def rotate_left(a: i64[:], out: i64[:]) -> None:
    n = len(a)
    for i in range(n):
        out[i - 1] = a[i]


@pytest.mark.parametrize("n", [1, 2, 6])
def test_runtime_negative_index_store(n):
    assert_same(rotate_left, np.arange(n, dtype=np.int64) * 3, np.zeros(n, dtype=np.int64))


def read_backwards(a: f64[:], out: f64[:]) -> None:
    for i in range(1, len(a) + 1):
        out[i - 1] = a[-i]


@pytest.mark.parametrize("n", [0, 1, 5])
def test_runtime_negative_index_load(n):
    assert_same(read_backwards, np.arange(n) * 1.5, np.zeros(n))


def neg_index_2d(m: f64[:, :], out: f64[:, :]) -> None:
    r = m.shape[0]
    c = m.shape[1]
    for i in range(r):
        for j in range(c):
            out[-1 - i, j - c] = m[i, -1 - j]
    out[-1, -1] += 1000.0


def test_negative_indices_2d():
    m = np.arange(12.0).reshape(3, 4)
    assert_same(neg_index_2d, m, np.zeros((3, 4)))


def attributes(a: f64[:, :], b: i64[:, :, :], c: f32[:]) -> int:
    return (
        a.shape[0] * 1000
        + a.shape[1] * 100
        + len(a) * 10
        + a.ndim
        + b.size * 10000
        + b.ndim * 1000000
        + b.shape[2] * 10000000
        + c.size * 100000000
        + len(c) * 1000000000
    )


@pytest.mark.parametrize("shape", [(3, 4), (0, 5), (2, 0), (1, 1)])
def test_shape_len_size_ndim(shape):
    a = np.zeros(shape)
    b = np.zeros((2, 3, 4), dtype=np.int64)
    c = np.zeros(shape[0], dtype=np.float32)
    assert_same(attributes, a, b, c)


def last_axis(a: f64[:, :, :]) -> int:
    return a.shape[-1] * 100 + a.shape[-3]


def test_shape_negative_axis():
    assert_same(last_axis, np.zeros((2, 3, 5)))


def scale_2d(m: f64[:, :], s: float) -> None:
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            m[i, j] *= s
            m[i, j] += i - j


@pytest.mark.parametrize("shape", [(3, 4), (0, 3), (3, 0), (1, 7)])
def test_inplace_2d(shape):
    assert_same(scale_2d, np.ones(shape) * 1.25, 2.0)


def fill_3d(c: i64[:, :, :]) -> int:
    s = 0
    for i in range(c.shape[0]):
        for j in range(c.shape[1]):
            for k in range(c.shape[2]):
                c[i, j, k] = i * 100 + j * 10 + k
                s += c[i, j, k]
    return s


@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 1, 1), (0, 2, 2), (3, 0, 1)])
def test_fill_and_read_3d(shape):
    assert_same(fill_3d, np.zeros(shape, dtype=np.int64))


def reverse_inplace(a: f64[:]) -> None:
    i = 0
    j = len(a) - 1
    while i < j:
        a[i], a[j] = a[j], a[i]
        i += 1
        j -= 1


@pytest.mark.parametrize("n", [0, 1, 2, 5, 8])
def test_swap_elements_reverse(n):
    assert_same(reverse_inplace, np.arange(n) * 1.0)


def bubble_sort(a: i64[:]) -> int:
    swaps = 0
    n = len(a)
    for i in range(n):
        for j in range(n - 1 - i):
            if a[j] > a[j + 1]:
                a[j], a[j + 1] = a[j + 1], a[j]
                swaps += 1
    return swaps


@pytest.mark.parametrize("vals", [[5, 1, 4, 2, 8, -3], [], [1], [3, 3, 1]])
def test_bubble_sort(vals):
    assert_same(bubble_sort, np.array(vals, dtype=np.int64))


def prefix_sum(a: f64[:]) -> None:
    for i in range(1, len(a)):
        a[i] += a[i - 1]


@pytest.mark.parametrize("n", [0, 1, 9])
def test_prefix_sum_inplace(n):
    assert_same(prefix_sum, np.linspace(0.1, 0.9, n))


def matmul(a: f64[:, :], b: f64[:, :], out: f64[:, :]) -> None:
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            s = 0.0
            for k in range(a.shape[1]):
                s += a[i, k] * b[k, j]
            out[i, j] = s


@pytest.mark.parametrize("n, k, m", [(3, 4, 2), (1, 1, 1), (2, 0, 3)])
def test_matmul(n, k, m):
    rng = np.random.default_rng(7)
    assert_same(matmul, rng.standard_normal((n, k)), rng.standard_normal((k, m)), np.zeros((n, m)))


def histogram(v: i64[:], counts: i64[:]) -> None:
    for i in range(len(v)):
        counts[v[i]] += 1


def test_index_with_array_element():
    v = np.array([0, 3, 3, 1, -1, 0, 3], dtype=np.int64)
    assert_same(histogram, v, np.zeros(4, dtype=np.int64))


def gather(a: f64[:], idx: i32[:], out: f64[:]) -> None:
    for i in range(len(idx)):
        out[i] = a[idx[i]]


def test_index_with_i32_values():
    idx = np.array([4, 0, -1, 2, -5], dtype=np.int32)
    assert_same(gather, np.arange(5) * 2.5, idx, np.zeros(5))


def int_to_float_store(a: f64[:], n: int) -> None:
    for i in range(len(a)):
        a[i] = i * n
    a[-1] = n // 2


def test_store_int_into_float_array():
    assert_same(int_to_float_store, np.zeros(4), -3)


def column_sums(m: f64[:, :], out: f64[:]) -> None:
    for j in range(m.shape[1]):
        out[j] = 0.0
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            out[j] += m[i, j]


@pytest.mark.parametrize("shape", [(4, 3), (0, 3)])
def test_column_sums(shape):
    m = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) * 0.1
    assert_same(column_sums, m, np.full(shape[1], 99.0))


def copy_i32_to_i64(a: i32[:], out: i64[:]) -> None:
    for i in range(len(a)):
        out[i] = a[i]


def test_store_widening_int():
    a = np.array([-(2**31), -1, 0, 2**31 - 1], dtype=np.int32)
    assert_same(copy_i32_to_i64, a, np.zeros(4, dtype=np.int64))


def stencil(u: f64[:], out: f64[:]) -> None:
    n = len(u)
    for i in range(n):
        out[i] = u[i - 1] - 2.0 * u[i] + u[(i + 1) % n]


@pytest.mark.parametrize("n", [1, 2, 8])
def test_periodic_stencil_with_wraparound(n):
    assert_same(stencil, np.cos(np.arange(n) * 0.7), np.zeros(n))
