"""Unroll-and-jam of row loops (frontend/opt/jam.py): bitwise the same results as CPython and as
opt_level=0, for every row count (remainders), aliasing arguments and strided views; and the
transformation applies exactly where rows are independent."""

import numpy as np
import pytest
from helpers import assert_same

import ember
from ember import f32, f64, i64
from ember.frontend import build_program


def gemv(a: f64[:, :], x: f64[:], y: f64[:]) -> None:
    for i in range(a.shape[0]):
        s = 0.0
        for j in range(a.shape[1]):
            s += a[i, j] * x[j]
        y[i] = s


def gemv_f32(a: f32[:, :], x: f32[:], y: f32[:]) -> None:
    for i in range(a.shape[0]):
        s = np.float32(0.0)
        for j in range(a.shape[1]):
            s += a[i, j] * x[j]
        y[i] = s


def atax(a: f64[:, :], x: f64[:], y: f64[:], tmp: f64[:]) -> None:
    for j in range(a.shape[1]):
        y[j] = 0.0
    for i in range(a.shape[0]):
        t = 0.0
        for j in range(a.shape[1]):
            t += a[i, j] * x[j]
        tmp[i] = t
        for j in range(a.shape[1]):
            y[j] += a[i, j] * t


def bicg(a: f64[:, :], p: f64[:], r: f64[:], s: f64[:], q: f64[:]) -> None:
    for j in range(a.shape[1]):
        s[j] = 0.0
    for i in range(a.shape[0]):
        t = 0.0
        for j in range(a.shape[1]):
            s[j] += r[i] * a[i, j]
            t += a[i, j] * p[j]
        q[i] = t


def column_sums(a: f64[:, :], out: f64[:]) -> None:
    for i in range(a.shape[1]):
        s = out[i]
        for j in range(a.shape[0]):
            s += a[j, i] * 0.5
        out[i] = s


def row_minmax(a: i64[:, :], lo: i64[:], hi: i64[:]) -> int:
    total = 0
    for i in range(2, a.shape[0]):
        m = a[i, 0]
        n = a[i, 0]
        for j in range(1, a.shape[1]):
            m = min(m, a[i, j])
            n = max(n, a[i, j] - m)
        lo[i] = m
        hi[i] = n
        total = m
    return total


def trisolv(lo: f64[:, :], b: f64[:], x: f64[:]) -> None:
    for i in range(len(b)):
        s = b[i]
        for j in range(i):
            s -= lo[i, j] * x[j]
        x[i] = s / lo[i, i]


def carried_across_rows(a: f64[:, :], out: f64[:]) -> float:
    s = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            s += a[i, j]
        out[i] = s
    return s


def shared_cell(a: f64[:, :], total: f64[:]) -> None:
    for i in range(a.shape[0]):
        t = 0.0
        for j in range(a.shape[1]):
            t += a[i, j]
            total[0] += a[i, j] * 1e-3
        total[1] += t


def reads_other_rows(a: f64[:, :], y: f64[:]) -> None:
    for i in range(1, a.shape[0]):
        s = y[i - 1]
        for j in range(a.shape[1]):
            s += a[i, j]
        y[i] = s


def bound_read_from_memory(a: f64[:, :], m: i64[:], y: f64[:]) -> None:
    for i in range(a.shape[0]):
        s = 0.0
        for j in range(m[0]):
            s += a[i, j]
        y[i] = s
        m[0] = m[0] - 1


RNG = np.random.default_rng(11)


def _mat(rows, cols, dtype=np.float64):
    return (RNG.standard_normal((rows, cols)) * 3).astype(dtype)


JAMMED = [gemv, gemv_f32, atax, bicg, column_sums, row_minmax]
NOT_JAMMED = [trisolv, carried_across_rows, shared_cell, reads_other_rows,
              bound_read_from_memory]


@pytest.mark.parametrize("fn", JAMMED + NOT_JAMMED, ids=lambda f: f.__name__)
def test_jammed_only_where_rows_are_independent(fn):
    program = build_program(fn, optimize=True)
    jammed = program.functions[program.entry].fast_body is not None
    assert jammed == (fn in JAMMED)


def _args(fn, rows, cols):
    a = _mat(rows, cols)
    return {
        gemv: lambda: (a, RNG.random(cols), np.zeros(rows)),
        gemv_f32: lambda: (a.astype(np.float32), RNG.random(cols).astype(np.float32),
                           np.zeros(rows, np.float32)),
        atax: lambda: (a, RNG.random(cols), np.zeros(cols), np.zeros(rows)),
        bicg: lambda: (a, RNG.random(cols), RNG.random(rows), np.zeros(cols), np.zeros(rows)),
        column_sums: lambda: (a.T.copy(), RNG.random(rows)),
        row_minmax: lambda: (RNG.integers(-50, 50, (rows, cols)), np.zeros(rows, np.int64),
                             np.zeros(rows, np.int64)),
        trisolv: lambda: (np.tril(a) + 8 * np.eye(rows, cols), RNG.random(rows),
                          np.zeros(rows)),
        carried_across_rows: lambda: (a, np.zeros(rows)),
        shared_cell: lambda: (a, np.zeros(2)),
        reads_other_rows: lambda: (a, RNG.random(rows)),
        bound_read_from_memory: lambda: (a, np.array([cols], np.int64), np.zeros(rows)),
    }[fn]()


@pytest.mark.parametrize("rows", [0, 1, 3, 4, 5, 8, 11])
@pytest.mark.parametrize("fn", JAMMED + NOT_JAMMED, ids=lambda f: f.__name__)
def test_every_row_count_matches_cpython(fn, rows):
    cols = 13 if fn is not trisolv else rows
    args = _args(fn, rows, cols)
    assert_same(fn, *args)
    assert_same(fn, *args, kernel=ember.kernel(fn, opt_level=0))


def test_strided_views_take_the_plain_loop_and_agree():
    a = _mat(9, 14)[::2, 1::3]
    assert_same(gemv, a, RNG.random(a.shape[1]), np.zeros(a.shape[0]))
    out = np.zeros(20)[::-2]
    assert_same(gemv, _mat(10, 6), RNG.random(6), out)


def _gemv_y_overlaps_x(kernel):
    buf = RNG.random(20)
    a = _mat(9, 9)
    kernel(a, buf[3:12], buf[0:9])  # y overlaps x (shifted): rows read what rows wrote
    return buf


def _gemv_y_is_a_row(kernel):
    a = _mat(9, 9)
    kernel(a, RNG.random(9), a[2])  # y is a row of a: later rows read earlier results
    return a


def _bicg_s_is_p(kernel):
    a, v = _mat(8, 8), RNG.random(8)
    kernel(a, v, RNG.random(8), v, np.zeros(8))
    return v


@pytest.mark.parametrize("case", [_gemv_y_overlaps_x, _gemv_y_is_a_row, _bicg_s_is_p],
                         ids=lambda c: c.__name__)
def test_overlapping_arguments_keep_python_semantics(case):
    fn = gemv if "gemv" in case.__name__ else bicg
    state = RNG.bit_generator.state
    want = case(fn)
    RNG.bit_generator.state = state
    got = case(ember.kernel(fn))
    np.testing.assert_array_equal(got, want)

