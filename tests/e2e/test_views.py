"""Differential tests: non-contiguous numpy views (steps, negative strides, transposes, columns,
Fortran order) passed to kernels and mutated in place, without copies.

assert_same deep-copies its arguments, which turns views into contiguous arrays, so these
tests use assert_same_view: the view is rebuilt from the copied base on each side."""

import numpy as np
import pytest
from e2e_support import assert_same_view

from ember import f32, f64, i64


def scale_1d(a: f64[:], s: float) -> float:
    t = 0.0
    for i in range(len(a)):
        a[i] = a[i] * s + i
        t += a[i]
    return t


@pytest.mark.parametrize(
    "view",
    [lambda b: b[::2], lambda b: b[::-1], lambda b: b[1::3], lambda b: b[-2::-2]],
    ids=["step2", "reversed", "offset_step3", "negative_step2"],
)
def test_strided_1d_view_mutated(view):
    assert_same_view(scale_1d, view, np.arange(10.0), 1.5)


def test_empty_strided_view():
    assert_same_view(scale_1d, lambda b: b[5::2], np.arange(5.0), 2.0, contiguous_ok=True)


def prefix_sum(a: f64[:]) -> None:
    for i in range(1, len(a)):
        a[i] += a[i - 1]


def test_prefix_sum_on_reversed_view():
    assert_same_view(prefix_sum, lambda b: b[::-1], np.arange(1.0, 8.0))


def fill_index(m: i64[:, :]) -> int:
    s = 0
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            m[i, j] = i * 10 + j + m[i, j] * 1000
            s += m[i, j] * (i + 1)
    return s


@pytest.mark.parametrize(
    "view",
    [lambda b: b.T, lambda b: b[1:, ::2], lambda b: b[::-1, 1:], lambda b: b[::2, ::-1].T],
    ids=["transpose", "rows_from_1_every_2nd_col", "flipped_rows", "flipped_cols_transposed"],
)
def test_2d_views_mutated(view):
    assert_same_view(fill_index, view, np.arange(20, dtype=np.int64).reshape(4, 5))


def test_fortran_order_array():
    base = np.asfortranarray(np.arange(12, dtype=np.int64).reshape(3, 4))
    assert_same_view(fill_index, lambda b: b[:, :], base)


def column_inplace(c: f64[:], v: float) -> None:
    for i in range(len(c)):
        c[i] = c[i] + v * i
    c[-1] = -1.0


def test_column_of_c_array():
    assert_same_view(column_inplace, lambda b: b[:, 2], np.arange(15.0).reshape(5, 3), 0.5)


def test_row_of_fortran_array():
    base = np.asfortranarray(np.arange(15.0).reshape(5, 3))
    assert_same_view(column_inplace, lambda b: b[1, :], base, 2.0)


def sum_3d(c: f64[:, :, :]) -> float:
    s = 0.0
    for i in range(c.shape[0]):
        for j in range(c.shape[1]):
            for k in range(c.shape[2]):
                s = s * 0.5 + c[i, j, k] * (i + 2 * j + 3 * k)
                c[i, j, k] = -c[i, j, k]
    return s


@pytest.mark.parametrize(
    "view",
    [lambda b: b.transpose(2, 0, 1), lambda b: b[:, ::-1, 1:], lambda b: b[::2, :, ::3]],
    ids=["transpose_201", "flip_middle", "step_outer_inner"],
)
def test_3d_views(view):
    assert_same_view(sum_3d, view, np.arange(60.0).reshape(3, 4, 5) * 0.25)


def scale_f32(x: f32[:], s: f32) -> None:
    for i in range(len(x)):
        x[i] = x[i] * s + 0.1


def test_f32_strided_view():
    base = np.linspace(0, 1, 11, dtype=np.float32)
    assert_same_view(scale_f32, lambda b: b[::3], base, np.float32(1.7))


def dot_views(a: f64[:], b: f64[:]) -> float:
    s = 0.0
    for i in range(len(a)):
        s += a[i] * b[i]
    return s


def test_reversed_row_view_read_only():
    base = np.arange(16.0).reshape(4, 4)
    assert_same_view(dot_views, lambda b: b[1, ::-1], base, np.linspace(-1.0, 1.0, 4))


def transpose_copy(m: f64[:, :], out: f64[:, :]) -> None:
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            out[j, i] = m[i, j]


def test_write_into_transposed_output():
    m = np.arange(6.0).reshape(2, 3)
    assert_same_view(transpose_copy, lambda b: b[:, :], m, np.zeros((2, 3)).T, contiguous_ok=True)


def weighted_sum_2d(m: f64[:, :]) -> float:
    s = 0.0
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            s += m[i, j] * (i + 1)
    return s


def test_broadcast_view_with_zero_stride_read_only():
    assert_same_view(weighted_sum_2d, lambda b: np.broadcast_to(b, (4, 3)), np.arange(3.0))
