"""Sorting, searching, boolean masks, counts and joins in kernels (issue 13, docs/numpy.md
"Sorting, searching, masks and joins"): each kernel is compared with the same Python function
run by NumPy on the same inputs (values, dtypes, shapes), over f64/f32/int/bool, NaNs, ties,
empty arrays, strided and negative-stride views; NumPy's run-time errors and the compile-time
refusals."""

import numpy as np
import pytest

from ember import CompileError, f32, f64, i32, i64, kernel
from ember.types import boolean

RNG = np.random.default_rng(1313)


def _same(k, *args):
    got = k(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    want = k.py_func(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_array_equal(got, want)


def sorts_f64(a: f64[:], m: f64[:, :], s: f64[:], i: i64[:], s2: f64[:, :], i2: i64[:, :],
              w: f64[:], flat: f64[:]) -> None:
    s[:] = np.sort(a)
    i[:] = np.argsort(a, kind="stable")
    s2[:, :] = np.sort(m, axis=-1)
    i2[:, :] = m.argsort(kind="mergesort")
    w[:] = a
    w.sort()
    flat[:] = np.sort(m, axis=None)
    m.sort(axis=0)  # columns, in place (a sort of the transpose)
    m[:, :] = m + np.argsort(m, axis=-2, kind="stable") * 1000 + np.sort(m, 0)


def sorts_i32(a: i32[:], m: i32[:, :], s: i32[:], i: i64[:], s2: i32[:, :], i2: i64[:, :],
              w: i32[:], flat: i32[:]) -> None:
    s[:] = np.sort(a)
    i[:] = np.argsort(a, kind="stable")  # ties: NumPy's default quicksort is not stable
    s2[:, :] = np.sort(m, axis=1)
    i2[:, :] = np.argsort(m, axis=-1, kind="stable")
    w[:] = a
    w.sort()
    flat[:] = np.sort(m, axis=None)


def sorts_f32(a: f32[:], m: f32[:, :], s: f32[:], i: i64[:], s2: f32[:, :], i2: i64[:, :],
              w: f32[:], flat: f32[:]) -> None:
    s[:] = np.sort(a)
    i[:] = a.argsort(kind="stable")
    s2[:, :] = np.sort(m)
    i2[:, :] = np.argsort(m, kind="stable")
    w[:] = a
    w.sort()
    flat[:] = np.sort(m, axis=None)


def _sort_outputs(a, m):
    return [np.empty_like(a), np.empty(a.shape, np.int64), np.empty_like(m),
            np.empty(m.shape, np.int64), np.empty_like(a), np.empty(m.size, m.dtype)]


def _check_sorts(k, a, base, view=(slice(None),)):
    mine, numpys = base.copy()[view], base.copy()[view]  # views stay views (strided)
    got, want = _sort_outputs(a, mine), _sort_outputs(a, mine)
    k(a, mine, *got)
    k.py_func(a, numpys, *want)
    for g, w in zip([mine, *got], [numpys, *want], strict=True):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize(("fn", "dtype"), [(sorts_f64, np.float64), (sorts_i32, np.int32),
                                           (sorts_f32, np.float32)])
def test_sort_argsort(fn, dtype):
    k = kernel(fn)
    if dtype == np.int32:
        a = RNG.integers(-3, 4, 37).astype(dtype)  # many ties: argsort is stable
        m = RNG.integers(-2, 3, (4, 9)).astype(dtype)
    else:
        a = np.round(RNG.normal(size=37), 1).astype(dtype)
        a[[3, 10, 20]] = [np.nan, np.inf, -np.inf]
        m = np.round(RNG.normal(size=(4, 9)), 1).astype(dtype)
        m[1, 2] = m[3, 0] = np.nan
    _check_sorts(k, a, m)
    _check_sorts(k, a[::-3], m, np.s_[::-1, ::2])  # negative and strided views
    _check_sorts(k, a[:0], m, np.s_[:0])  # empty
    _check_sorts(k, a[:1], m, np.s_[:, :1])


def searches(a: f64[:], v: f64[:], x: float, b: i32[:]) -> i64[:]:
    left = np.searchsorted(a, v)
    right = np.searchsorted(a, v, side="right")
    one = np.searchsorted(a, x, side="left") + 100 * np.searchsorted(a, x, "right")
    ints = np.searchsorted(b, v)
    return np.concatenate((left, right, np.full(1, one), ints))


def test_searchsorted():
    k = kernel(searches)
    a = np.sort(np.round(RNG.normal(size=20), 1))
    a[-2:] = np.nan
    v = np.concatenate((a[::3], [-9.0, 9.0, np.nan], np.round(RNG.normal(size=5), 1)))
    b = np.sort(RNG.integers(-3, 4, 11)).astype(np.int32)
    _same(k, a, v, float(a[4]), b)
    _same(k, a[:0], v, 0.5, b[::-1][:0])
    _same(k, a[::2], v[::-1], np.nan, b[:3])


def counts(a: f64[:], m: i32[:, :], t: boolean[:]) -> i64[:]:
    n = np.count_nonzero(a) + 10 * np.count_nonzero(m) + 100 * np.count_nonzero(t)
    return np.concatenate((np.flatnonzero(a), np.flatnonzero(m), np.nonzero(t)[0],
                           np.full(1, n)))


def test_nonzero_counts():
    k = kernel(counts)
    a = RNG.integers(-1, 2, 15).astype(np.float64)
    a[4] = np.nan
    m = RNG.integers(-1, 2, (3, 5)).astype(np.int32)
    t = RNG.random(7) < 0.5
    _same(k, a, m, t)
    _same(k, a[::-2], m[:, ::-2], t[:0])
    _same(k, a[:0], m[:0], t)


def selects(a: f64[:], m: f64[:, :], t: boolean[:]) -> f64[:]:
    positive = a[a > 0]
    nans = a[np.isnan(a)]
    rows = m[m > 0.5]
    picked = a[t]
    return np.concatenate((positive, nans, rows, picked, np.full(1, len(positive) * 1.0)))


def test_mask_select():
    k = kernel(selects)
    a = RNG.normal(size=12)
    a[[2, 7]] = np.nan
    m = RNG.random((3, 4))
    t = RNG.random(12) < 0.5
    _same(k, a, m, t)
    _same(k, a[::-2], m[::-1, 1:], t[::2])  # views (a mask of a view's own shape)
    _same(k, a[:0], m[:0], t[:0])


def mask_stores(a: f64[:], m: i32[:, :], v: f64[:], n: f32[:]) -> None:
    a[a < 0] = 0.0
    a[np.isnan(a)] = -1
    a[a > 1] = v[: len(a[a > 1])]
    a[(a > 0.5) & (a <= 1)] += 10.0
    m[m == 2] = np.array([7])
    m[m < 0] *= 3
    n[n > 0] = n[n > 0] * 2


def test_mask_stores():
    k = kernel(mask_stores)
    a = RNG.normal(size=14)
    a[[1, 5]] = np.nan
    m = RNG.integers(-2, 3, (3, 4)).astype(np.int32)
    v = RNG.normal(size=14)
    n = RNG.normal(size=9).astype(np.float32)
    for args in [(a, m, v, n), (a[::-1], m[:, ::2], v, n[1::2]), (a[:0], m[:0], v, n[:0])]:
        got = [x.copy() for x in args]
        want = [x.copy() for x in args]
        k(*got)
        k.py_func(*want)
        for g, w in zip(got, want, strict=True):
            assert g.dtype == w.dtype
            np.testing.assert_array_equal(g, w)


def gather_scatter(a: f64[:], idx: i64[:], j: i32[:], v: f64[:]) -> f64[:]:
    g = a[idx]
    h = a[j[::-1]]
    b = a.copy()
    b[j] = -1.0
    b[idx[:2]] = v[:2]
    b[j] += 100.0  # a repeated index is updated once (NumPy's buffered a[j] = a[j] + 100)
    b[idx] = v[:1]
    return np.concatenate((g, h, b))


def test_gather_scatter():
    k = kernel(gather_scatter)
    a = RNG.normal(size=7)
    idx = np.array([0, -1, 3, 3, -7, 6])
    j = np.array([1, 1, 2, -2], np.int32)
    v = RNG.normal(size=4)
    _same(k, a, idx, j, v)
    _same(k, a[::-1], idx[::2], j[:0], v)
    with pytest.raises(IndexError, match="^index 7 is out of bounds for axis 0 with size 7$"):
        k(a, np.array([7]), j, v)
    with pytest.raises(IndexError, match="^index -8 is out of bounds for axis 0 with size 7$"):
        k(a, idx, np.array([-8], np.int32), v)


def rows(a: f64[:, :], idx: i32[:], v: f64[:], w: f64[:, :]) -> f64[:, :]:
    g = a[idx]
    b = a * 1.0
    b[idx[:1]] = 5.0
    b[idx[1:]] = v[: a.shape[1]]
    b[idx[:2]] += w[:2] * 10.0
    b[idx] = w[:1, :1]
    return np.concatenate((g, b))


def test_gather_scatter_rows():
    k = kernel(rows)
    a = RNG.normal(size=(5, 3))
    idx = np.array([4, -5, 2, 2], np.int32)
    w = RNG.normal(size=(4, 3))
    _same(k, a, idx, RNG.normal(size=3), w)
    _same(k, a[::-1, ::2], idx[::-1], RNG.normal(size=3), w[:, :2])
    with pytest.raises(ValueError, match=r"^shape mismatch: value array of shape \(2,\) "
                       r"could not be broadcast to indexing result of shape \(3,3\)$"):
        k(a, idx, np.ones(2), w)
    with pytest.raises(IndexError, match="^index 5 is out of bounds for axis 0 with size 5$"):
        k(a, np.array([0, 5], np.int32), np.ones(3), w)


def scatter_mismatch(a: f64[:], idx: i64[:], v: f64[:]) -> None:
    a[idx] = v


def test_scatter_shape_mismatch():
    with pytest.raises(ValueError, match=r"^shape mismatch: value array of shape \(2,\) could "
                       r"not be broadcast to indexing result of shape \(3,\)$"):
        kernel(scatter_mismatch)(np.zeros(4), np.array([0, 1, 2]), np.ones(2))


def joins(a: f64[:, :], b: i32[:, :], x: f32[:], y: boolean[:]) -> f64[:]:
    c0 = np.concatenate((a, b, a), axis=0)
    c1 = np.concatenate([a, b], axis=-1)
    s0 = np.stack((a, b))
    s2 = np.stack((a, b, a), axis=2)
    h = np.hstack((x, y, x))
    v = np.vstack((x, y))
    flat = np.concatenate((a, b), axis=None)
    return np.concatenate((c0.flatten(), c1.flatten(), s0.flatten(), s2.flatten(), h, v.flatten(),
                           flat, np.full(1, c1.shape[1] + 10 * s2.shape[2] + 100 * v.shape[0])))


def test_joins():
    k = kernel(joins)
    a = RNG.normal(size=(2, 3))
    b = RNG.integers(-5, 5, (2, 3)).astype(np.int32)
    x = RNG.normal(size=4).astype(np.float32)
    y = RNG.random(4) < 0.5
    _same(k, a, b, x, y)
    _same(k, a[::-1, ::2], b[:, ::-2], x[::-1], y[::-1])
    _same(k, a[:0], b[:0], x[:0], y[:0])


def stack_f32(x: f32[:], y: f32[:]) -> f32[:, :]:
    return np.stack((x, y), axis=-1)


def test_join_dtype_and_errors():
    x = RNG.normal(size=3).astype(np.float32)
    _same(kernel(stack_f32), x, x[::-1])
    with pytest.raises(ValueError, match="^all input arrays must have the same shape$"):
        kernel(stack_f32)(x, x[:2])
    with pytest.raises(ValueError, match=r"^all the input array dimensions except for the "
                       r"concatenation axis must match exactly, but along dimension 1, the "
                       r"array at index 0 has size 3 and the array at index 1 has size 2$"):
        kernel(joins)(np.ones((2, 3)), np.ones((2, 3), np.int32)[:, :2], x, x > 0)


def test_mask_errors():
    k = kernel(selects)
    with pytest.raises(IndexError, match=r"^boolean index did not match indexed array along "
                       r"axis 0; size of axis is 3 but size of corresponding boolean axis "
                       r"is 4$"):
        k(np.ones(3), np.ones((2, 2)), np.ones(4, bool))
    with pytest.raises(ValueError, match=r"^NumPy boolean array indexing assignment cannot "
                       r"assign 2 input values to the 4 output values where the mask is "
                       r"true$"):
        kernel(mask_stores)(np.full(4, 2.0), np.ones((2, 2), np.int32), np.ones(2),
                            np.ones(1, np.float32))


def fancy_rows(a: f64[:, :, :], i: i64[:]) -> f64[:, :, :]:
    return a[i]


def float_index(a: f64[:], i: f64[:]) -> f64[:]:
    return a[i]


def bad_axis(a: f64[:, :]) -> f64[:, :]:
    return np.concatenate((a, a), axis=2)


def bad_kind(a: f64[:]) -> f64[:]:
    return np.sort(a, kind="bogo")


def bad_ndim(a: f64[:, :], b: f64[:]) -> f64[:, :]:
    return np.concatenate((a, b))


def bad_nonzero(a: f64[:]) -> i64[:]:
    return np.nonzero(a)


def bad_sort_axis(a: f64[:, :, :]) -> f64[:, :, :]:
    return np.sort(a, axis=0)


def row_mask(a: f64[:, :], m: boolean[:]) -> f64[:]:
    return a[m]


def bad_side(a: f64[:]) -> int:
    return np.searchsorted(a, 0.5, side="middle")


@pytest.mark.parametrize(("fn", "message"), [
    (fancy_rows, "indexing with an integer array (fancy indexing) is supported for a 1-D or "
                 "2-D array"),
    (float_index, "arrays used as indices must be of integer (or boolean) type"),
    (bad_axis, "axis 2 is out of bounds for array of dimension 2"),
    (bad_kind, "np.sort(kind=...) takes 'quicksort', 'mergesort', 'heapsort' or 'stable'"),
    (bad_ndim, "all the input arrays must have same number of dimensions, but the array at "
               "index 0 has 2 dimension(s) and the array at index 1 has 1 dimension(s)"),
    (bad_nonzero, "np.nonzero(a) returns a tuple of arrays"),
    (bad_sort_axis, "np.sort() supports 1-D and 2-D arrays in kernels, not 3-D"),
    (row_mask, "a boolean index must have the array's 2 dimension(s) in kernels, not 1"),
    (bad_side, "side must be 'left' or 'right', not 'middle'"),
])
def test_refusals(fn, message):
    with pytest.raises(CompileError) as err:
        kernel(fn).compile()
    assert message in str(err.value)
