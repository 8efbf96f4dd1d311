"""np.isclose/allclose, np.median/percentile/quantile and np.diag/triu/tril (prelude,
ember/prelude/numeric.py) against NumPy: values, dtypes, shapes, NaN/inf handling, errors.
Several calls share one kernel (results written into `out` arrays) to keep compiles few."""

import importlib.util

import numpy as np
import pytest

from ember import CompileError, f32, f64, i64, kernel
from ember.types import boolean

RNG = np.random.default_rng(21)


@kernel
def closeness(a: f64[:], b: f64[:], c: f32[:], t: float, out: boolean[:, :], flags: boolean[:]):
    out[0] = np.isclose(a, b)
    out[1] = np.isclose(a, b, equal_nan=True)
    out[2] = np.isclose(a, c, rtol=t, atol=0.0)
    out[3] = np.isclose(2.0, a)
    flags[0] = np.allclose(a, b)
    flags[1] = np.allclose(a, a, equal_nan=True)
    flags[2] = np.allclose(a[:2], b[:2])
    flags[3] = np.isclose(1.0, 1.0 + 1e-9)
    flags[4] = np.allclose(np.inf, np.inf) and not np.isclose(np.inf, -np.inf)


def test_isclose_allclose():
    a = np.array([1.0, np.inf, np.nan, 2.0, -np.inf, 0.0, 1e-9])
    b = np.array([1.0 + 1e-9, np.inf, np.nan, 2.1, np.inf, 1e-9, 0.0])
    c = (a * (1 + 1e-6)).astype(np.float32)
    t = 1e-6
    out, flags = np.zeros((4, a.size), bool), np.zeros(5, bool)
    closeness(a, b, c, t, out, flags)
    want = [np.isclose(a, b), np.isclose(a, b, equal_nan=True),
            np.isclose(a, c, rtol=t, atol=0.0), np.isclose(2.0, a)]
    np.testing.assert_array_equal(out, np.array(want))
    np.testing.assert_array_equal(flags, [np.allclose(a, b), np.allclose(a, a, equal_nan=True),
                                          np.allclose(a[:2], b[:2]), np.isclose(1.0, 1.0 + 1e-9),
                                          np.allclose(np.inf, np.inf)])


@kernel
def order_stats(m: f64[:, :], x: f64[:], q: float, out: f64[:], cols: f64[:], rows: f64[:]):
    out[0] = np.median(m)
    out[1] = np.median(x)
    out[2] = np.percentile(m, q)
    out[3] = np.quantile(x, q / 100)
    out[4] = np.percentile(x, q, axis=0)
    cols[:] = np.median(m, axis=0)
    rows[:] = np.median(m, axis=-1)


def _order_stats(m, x, q):
    return ([np.median(m), np.median(x), np.percentile(m, q), np.quantile(x, q / 100),
             np.percentile(x, q, axis=0)], np.median(m, axis=0), np.median(m, axis=-1))


@pytest.mark.parametrize("shape", [(3, 4), (4, 5), (1, 1)])
def test_median_percentile(shape):
    m, x = RNG.normal(size=shape), RNG.normal(size=shape[0] * 2 + 1)
    m[0, 0] = x[0] = np.inf
    for q in [0.0, 30.0, 50.0, 99.9, 100.0]:
        got = (np.zeros(5), np.zeros(shape[1]), np.zeros(shape[0]))
        order_stats(m, x, q, *got)
        with np.errstate(invalid="ignore"):  # NumPy's lerp next to inf: nan, as the kernel's
            want = _order_stats(m, x, q)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)


def test_median_percentile_nan():
    m, x = RNG.normal(size=(3, 4)), RNG.normal(size=6)
    m[1, 2] = x[3] = np.nan
    got = (np.zeros(5), np.zeros(4), np.zeros(3))
    order_stats(m, x, 40.0, *got)
    for g, w in zip(got, _order_stats(m, x, 40.0), strict=True):
        np.testing.assert_array_equal(g, w)


@kernel
def quantiles(m: f64[:, :], x: f32[:], q: f64[:]):
    return np.percentile(m, q) + np.quantile(x, q / 100.0)


@kernel
def quantiles32(x: f32[:], q: f32[:]):
    return np.quantile(x, q)


def test_quantiles_of_an_array_q():
    m, x = RNG.normal(size=(3, 4)), RNG.normal(size=12).astype(np.float32)
    q = np.array([0.0, 12.5, 50.0, 99.0, 100.0])
    got, want = quantiles(m, x, q), np.percentile(m, q) + np.quantile(x, q / 100.0)
    assert got.dtype == want.dtype == np.float64 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-6)
    q32 = (q / 100).astype(np.float32)
    got, want = quantiles32(x, q32), np.quantile(x, q32)
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6)
    with pytest.raises(ValueError, match=r"^Percentiles must be in the range \[0, 100\]$"):
        quantiles(m, x, np.array([5.0, 101.0]))
    with pytest.raises(IndexError, match="^index -1 is out of bounds"):
        quantiles(np.zeros((0, 3)), x, q)


@kernel
def median32(x: f32[:], q: float):
    return np.median(x) + np.percentile(x, q)


@kernel
def median_int(x: i64[:], q: float):
    return np.median(x) + np.quantile(x, q)


def test_order_stat_dtypes():
    x = RNG.normal(size=6).astype(np.float32)
    got, want = median32(x, 35.0), np.median(x) + np.percentile(x, 35.0)
    assert want.dtype == np.float32 and isinstance(got, float)  # scalars come back as floats
    np.testing.assert_allclose(got, want, rtol=1e-6)
    k = np.array([5, 1, 4, 2])
    got, want = median_int(k, 0.3), np.median(k) + np.quantile(k, 0.3)
    assert np.asarray(got).dtype == want.dtype == np.float64 and got == want


def test_order_stat_errors():
    with pytest.raises(IndexError, match=r"^index -1 is out of bounds for axis 0 with size 0$"):
        median32(np.zeros(0, np.float32), 50.0)
    with pytest.raises(ValueError, match=r"^Percentiles must be in the range \[0, 100\]$"):
        median32(np.zeros(3, np.float32), 101.0)
    with pytest.raises(ValueError, match=r"^Quantiles must be in the range \[0, 1\]$"):
        median_int(np.zeros(3, np.int64), -0.5)


@kernel
def empty_median(m: f64[:, :]) -> float:
    return np.median(m)


def test_median_of_empty_is_nan():
    assert np.isnan(empty_median(np.zeros((0, 3))))


@kernel
def triangles(a: f64[:, :], k: int):
    return np.triu(a, k) * 2.0 + np.tril(a, k=k) * 3.0 + np.tril(a)


@kernel
def diag_matrix(v: i64[:], k: int):
    return np.diag(v, k) + np.diag(v, k=k)


@kernel
def diag_of(a: f64[:, :], k: int):
    return np.diag(a, k)


@pytest.mark.parametrize("shape", [(3, 4), (4, 2), (0, 3)])
def test_diag_triu_tril(shape):
    a = RNG.normal(size=shape)
    v = np.arange(1, shape[0] + 1)
    for k in [-5, -1, 0, 2, 7]:
        for got, want in [(triangles(a, k), np.triu(a, k) * 2.0 + np.tril(a, k) * 3.0
                           + np.tril(a)),
                          (diag_matrix(v, k), np.diag(v, k) * 2), (diag_of(a, k), np.diag(a, k))]:
            assert got.dtype == want.dtype and got.shape == want.shape, (k, got, want)
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("src, message", [
    ("np.median(m, axis=2)", "axis 2 is out of bounds for array of dimension 2"),
    ("np.percentile(m, 5.0, axis=0)", "np.percentile() of a 2-D array takes axis=None"),
    ("np.quantile(x, m)", "np.quantile() takes a number or a 1-D array q in kernels"),
    ("np.isclose(m, m, equal_nan=f)", "argument 'equal_nan' of np.isclose() must be a "
     "constant"),
    ("np.triu(x)", "np.triu()'s argument must be a 2-D array in kernels"),
    ("np.diag(m, 1.5)", "np.diag()'s k must be an integer in kernels"),
    ("np.unique(x, return_counts=True)", "np.unique(..., return_counts=...) is not supported"),
    ("np.bincount(x.astype(np.int64), x)", "np.bincount(..., weights=...) is not supported"),
    ("np.bincount(x)", "Cannot cast array data from dtype('float64') to dtype('int64')"),
    ("np.tile(x, (2, 2))", "np.tile()'s reps (one count) must be an integer"),
    ("np.repeat(m, 2, axis=1)", "np.repeat(..., axis=...) of a 2-D array is not supported"),
    ("np.cross(x > 0, x > 0)", "np.cross() of bool arrays is not supported"),
])
def test_compile_errors(tmp_path, src, message):
    path = tmp_path / "case.py"
    path.write_text("import numpy as np\nfrom ember import f64\n\n\n"
                    f"def k(m: f64[:, :], x: f64[:], f: bool):\n    return {src}\n")
    spec = importlib.util.spec_from_file_location("prelude_numeric_case", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(CompileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        kernel(module.k).compile()


@kernel
def integrals(y: f64[:], x: f64[:], y32: f32[:], k: i64[:], h: float, out: f64[:]):
    out[0] = np.trapezoid(y)
    out[1] = np.trapezoid(y, x)
    out[2] = np.trapezoid(y, dx=h)
    out[3] = np.trapezoid(k, dx=h)
    return np.trapezoid(y32, dx=0.5)


def test_trapezoid():
    for n in [5, 1, 0]:
        y, x, k = RNG.normal(size=n), np.sort(RNG.normal(size=n)), np.arange(n) ** 2
        y32, out = y.astype(np.float32), np.zeros(4)
        got32 = integrals(y, x, y32, k, 0.3, out)
        want = [np.trapezoid(y), np.trapezoid(y, x), np.trapezoid(y, dx=0.3),
                np.trapezoid(k, dx=0.3)]
        np.testing.assert_allclose(out, want, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(got32, np.trapezoid(y32, dx=0.5), rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match=r"^operands could not be broadcast together with "
                       r"shapes \(3,\) \(4,\) $"):
        integrals(np.ones(5), np.ones(4), np.ones(5, np.float32), np.ones(5, np.int64), 1.0,
                  np.zeros(4))


@kernel
def crossed(a: f64[:], b: i64[:], m: f64[:, :], n: f64[:, :]):
    return np.cross(m, n) + np.cross(a, b) + np.cross(m, a) + np.cross(a, n)


@kernel
def cross_ints(a: i64[:], b: i64[:]):
    return np.cross(a, b)


def test_cross():
    a, b = RNG.normal(size=3), np.array([2, -1, 5])
    for rows in [(4, 4), (1, 4), (4, 1)]:
        m, n = RNG.normal(size=(rows[0], 3)), RNG.normal(size=(rows[1], 3))
        got = crossed(a, b, m, n)
        want = np.cross(m, n) + np.cross(a, b) + np.cross(m, a) + np.cross(a, n)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-14)
    got = cross_ints(b, np.array([1, 2, 3]))
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.cross(b, [1, 2, 3]))
    with pytest.raises(ValueError, match="^shape mismatch: objects cannot be broadcast to a "
                       r"single shape.  Mismatch is between arg 0 with shape \(2,\) and arg 1 "
                       r"with shape \(3,\).$"):
        crossed(a, b, np.ones((2, 3)), np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"^incompatible dimensions for cross product\n"):
        cross_ints(np.ones(4, np.int64), b)


@kernel
def counted(x: i64[:], flags: boolean[:], n: int):
    return (np.bincount(x) + np.bincount(x, minlength=n)[:np.max(x) + 1]
            + np.bincount(flags, minlength=np.max(x) + 1))


@kernel
def counted_only(x: i64[:], n: int):
    return np.bincount(x, minlength=n)


def test_bincount():
    x = np.array([3, 0, 3, 5, 1, 3])
    flags = np.array([True, False, True, True])
    got = counted(x, flags, 2)
    want = np.bincount(x) + np.bincount(x, minlength=2)[:6] + np.bincount(flags, minlength=6)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    for arr, n in [(x, 9), (np.zeros(0, np.int64), 3), (np.zeros(0, np.int64), 0)]:
        got, want = counted_only(arr, n), np.bincount(arr, minlength=n)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="^'list' argument must have no negative elements$"):
        counted_only(np.array([1, -1]), 0)
    with pytest.raises(ValueError, match="^'minlength' must not be negative$"):
        counted_only(x, -1)


@kernel
def unique_ints(m: i64[:, :]):
    return np.unique(m)


@kernel
def unique_floats(a: f64[:]):
    return np.unique(a)


@kernel
def unique_nans(a: f64[:]):
    return np.unique(a, equal_nan=False)


def test_unique():
    a = np.array([3.0, np.nan, 1.0, 3.0, -np.inf, np.nan, 1.0])
    m = np.array([[4, 1, 4], [2, 2, 9]])
    got = unique_ints(m)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.unique(m))
    np.testing.assert_array_equal(unique_ints(np.zeros((0, 2), np.int64)), np.zeros(0))
    for arr in [a, a[:1], a[:0], np.full(3, np.nan)]:
        np.testing.assert_array_equal(unique_floats(arr), np.unique(arr))
        np.testing.assert_array_equal(unique_nans(arr), np.unique(arr, equal_nan=False))


@kernel
def repeated(a: f64[:], r: int):
    return np.repeat(a, r) + np.tile(a, r) + np.repeat(a, repeats=r, axis=0)


@kernel
def repeated_matrix(m: i64[:, :], r: int):
    return np.repeat(m, r)


def test_repeat_tile():
    a = RNG.normal(size=4)
    m = np.array([[1, 2], [3, 4], [5, 6]])
    for r in [0, 1, 3]:
        want = np.repeat(a, r) + np.tile(a, r) + np.repeat(a, r, axis=0)
        np.testing.assert_array_equal(repeated(a, r), want)
        got = repeated_matrix(m, r)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, np.repeat(m, r))
    with pytest.raises(ValueError, match="^negative dimensions are not allowed$"):
        repeated(a, -1)
