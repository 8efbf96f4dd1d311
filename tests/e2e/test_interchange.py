"""Loop interchange (frontend/opt/interchange.py): column-order nests over row-major arrays are
swapped only where iteration order cannot matter, with bitwise the same results as CPython
and opt_level=0, overlapping arguments included."""

import numpy as np
import pytest
from helpers import assert_same

import ember
from ember import f64, i64
from ember.frontend import build_program


def scale_cols(a: f64[:, :], b: f64[:, :]) -> None:
    for j in range(a.shape[1]):
        for i in range(a.shape[0]):
            b[i, j] = 2.0 * a[i, j] + 1.0


def update_cols(a: f64[:, :], b: f64[:, :]) -> None:
    for j in range(1, a.shape[1]):
        for i in range(a.shape[0] - 1):
            t = a[i + 1, j] * 0.5
            b[i, j] += t * t - a[i, j - 1]


def int_cols(a: i64[:, :], b: i64[:, :]) -> None:
    for j in range(a.shape[1]):
        for i in range(a.shape[0]):
            b[i, j] = a[i, j] * 3 - (a[i, j] >> 1)


def reduction(a: f64[:, :], out: f64[:]) -> None:
    s = 0.0
    for j in range(a.shape[1]):
        for i in range(a.shape[0]):
            s += a[i, j]
    out[0] = s


def carried_along_row(a: f64[:, :], b: f64[:, :]) -> None:
    for j in range(1, a.shape[1]):
        for i in range(a.shape[0]):
            b[i, j] = b[i, j - 1] + a[i, j]


def row_order_already(a: f64[:, :], b: f64[:, :]) -> None:
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            b[i, j] = a[i, j] * a[i, j]


def triangle(a: f64[:, :], b: f64[:, :]) -> None:
    for j in range(a.shape[1]):
        for i in range(min(j, a.shape[0])):
            b[i, j] = a[i, j]


SWAPPED = [scale_cols, update_cols, int_cols]
KEPT = [reduction, carried_along_row, row_order_already, triangle]
RNG = np.random.default_rng(8)


@pytest.mark.parametrize("fn", SWAPPED + KEPT, ids=lambda f: f.__name__)
def test_swapped_only_where_order_cannot_matter(fn):
    program = build_program(fn, optimize=True)
    assert (program.functions[program.entry].fast_body is not None) == (fn in SWAPPED)


def _args(fn, rows, cols):
    if fn is int_cols:
        return RNG.integers(-99, 99, (rows, cols)), np.zeros((rows, cols), np.int64)
    if fn is reduction:
        return RNG.standard_normal((rows, cols)), np.zeros(1)
    return RNG.standard_normal((rows, cols)), RNG.standard_normal((rows, cols))


@pytest.mark.parametrize("shape", [(0, 4), (1, 1), (3, 7), (17, 9), (40, 33)],
                         ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("fn", SWAPPED + KEPT, ids=lambda f: f.__name__)
def test_bitwise_equal_to_cpython_and_opt0(fn, shape):
    args = _args(fn, *shape)
    assert_same(fn, *args)
    assert_same(fn, *args, kernel=ember.kernel(fn, opt_level=0))


def test_overlapping_arguments_keep_python_semantics():
    def run(kernel):
        buf = np.arange(60.0).reshape(6, 10)
        kernel(buf[:, 1:], buf[:, :-1])  # b[i, j] is a[i, j - 1]: columns feed each other
        return buf

    np.testing.assert_array_equal(run(ember.kernel(scale_cols)), run(scale_cols))


def test_strided_views_agree():
    a = RNG.standard_normal((30, 40))[::3, ::2]
    assert_same(scale_cols, a, np.zeros((10, 20))[:, ::-1])
