"""Array creation and shape methods against NumPy (issue 13, "Creation"): np.zeros/ones/empty/
full with every shape and dtype form, the `*_like` forms, np.arange, np.linspace, np.eye,
np.identity, np.copy/.copy(), np.array/np.asarray of lists, .fill(), .reshape(), .ravel(),
.flatten(). Values, dtypes and shapes must match NumPy exactly (assert_same compares
bit for bit); views versus copies are checked through writes seen (or not) in the base."""

import numpy as np
import pytest
from e2e_support import assert_same_view
from helpers import assert_same

import ember
from ember import CompileError, boolean, f32, f64, i32, i64, kernel

A = np.arange(12.0).reshape(3, 4)


# --- zeros / ones / empty / full -------------------------------------------------------------
def zeros_int(n: int) -> f64[:]:
    return np.zeros(n)


def ones_tuple(n: int, m: int) -> f64[:, :]:
    return np.ones((n, m))


def full_shape_of(a: f64[:, :], v: float) -> f64[:, :]:
    return np.full(a.shape, v)


def zeros_mixed(a: f64[:, :], n: int) -> i64[:, :]:
    return np.zeros((n, a.shape[1]), dtype=np.int64)


def zeros_f32(n: int) -> f32[:]:
    return np.zeros(n, dtype=np.float32)


def zeros_ember_dtype(n: int) -> f32[:]:
    return np.ones(n, ember.f32)


def ones_float(n: int) -> f64[:]:
    return np.ones(n, dtype=float)


def ones_int(n: int) -> i64[:]:
    return np.ones(n, int)


def zeros_bool(n: int) -> boolean[:]:
    return np.zeros(n, dtype=bool)


def zeros_param_dtype(x: f32[:]) -> f32[:]:
    return np.zeros(len(x), x.dtype)


def zeros_dtype_variable(x: i32[:]) -> i32[:, :]:
    dt = x.dtype
    return np.zeros((2, len(x)), dt) + x


def full_dtype_variable(x: f32[:]) -> f32[:]:
    dt = np.float32
    return np.full(3, 1.5, dtype=dt) * x[0]


def empty_filled(n: int) -> f64[:]:
    a = np.empty(n)
    a.fill(3.25)
    return a


def empty_zero() -> f64[:]:
    return np.empty(0)


def like_forms(a: f32[:, :]) -> f32[:, :]:
    z = np.zeros_like(a)
    o = np.ones_like(a)
    f = np.full_like(a, 2.5)
    e = np.empty_like(a)
    e.fill(1.0)
    return z + o + f + e


def like_dtype(a: f32[:, :]) -> f64[:, :]:
    return np.full_like(a, 0.1, dtype=np.float64) + np.zeros_like(a, float)


def _case_id(value):
    """Test ids that do not depend on addresses (pytest-xdist compares them across workers)."""
    return getattr(value, "__name__", None) or str(value)


@pytest.mark.parametrize("fn, args", [
    (zeros_int, (4,)), (ones_tuple, (2, 3)), (full_shape_of, (A, 1.5)), (zeros_mixed, (A, 2)),
    (zeros_f32, (3,)), (ones_float, (2,)), (ones_int, (2,)),
    (zeros_bool, (3,)), (zeros_param_dtype, (np.ones(3, np.float32),)),
    (zeros_dtype_variable, (np.arange(3, dtype=np.int32),)),
    (full_dtype_variable, (np.array([2.0], np.float32),)), (empty_filled, (3,)),
    (empty_zero, ()), (like_forms, (np.ones((2, 3), np.float32),)),
    (like_dtype, (np.ones((2, 3), np.float32),)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_alloc_forms(fn, args):
    assert_same(fn, *args)


def test_ember_dtype():
    got = kernel(zeros_ember_dtype)(3)
    np.testing.assert_array_equal(got, np.ones(3, np.float32))
    assert got.dtype == np.float32


# --- arange / linspace / eye / identity -------------------------------------------------------
def arange_stop(n: int) -> i64[:]:
    return np.arange(n)


def arange_start_stop_step(a: int, b: int, c: int) -> i64[:]:
    return np.arange(a, b, c)


def arange_float(a: float, b: float, c: float) -> f64[:]:
    return np.arange(a, b, c)


def arange_mixed(n: int) -> f64[:]:
    return np.arange(0.5, n)


def arange_dtype(n: int) -> f32[:]:
    return np.arange(1, n, 2, dtype=np.float32)


@pytest.mark.parametrize("fn, args", [
    (arange_stop, (5,)), (arange_stop, (0,)), (arange_stop, (-3,)),
    (arange_start_stop_step, (2, 11, 3)), (arange_start_stop_step, (10, -4, -3)),
    (arange_start_stop_step, (3, 3, 1)), (arange_start_stop_step, (5, 1, 1)),
    (arange_float, (0.0, 1.0, 0.1)), (arange_float, (1.0, -2.0, -0.3)),
    (arange_float, (0.1, 0.35, 0.05)), (arange_mixed, (4,)), (arange_dtype, (9,)),
], ids=_case_id)
def test_arange(fn, args):
    assert_same(fn, *args)


def test_arange_zero_step():
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        kernel(arange_start_stop_step)(1, 5, 0)


def linspace3(a: float, b: float, n: int) -> f64[:]:
    return np.linspace(a, b, n)


def linspace_open(a: float, b: float, n: int) -> f64[:]:
    return np.linspace(a, b, n, endpoint=False)


def linspace_default(a: float, b: float) -> f64[:]:
    return np.linspace(a, b)


def linspace_int(a: float, b: float, n: int) -> i64[:]:
    return np.linspace(a, b, num=n, dtype=np.int64)


def linspace_f32(a: f32[:], n: int) -> f32[:]:
    return np.linspace(a[0], a[1], n)


@pytest.mark.parametrize("fn, args", [
    (linspace3, (0.0, 1.0, 7)), (linspace3, (-2.5, 3.1, 11)), (linspace3, (2.0, 2.0, 4)),
    (linspace3, (0.0, 1.0, 1)), (linspace3, (0.0, 1.0, 0)), (linspace3, (1.0, 0.0, 2)),
    (linspace_open, (0.0, 1.0, 5)), (linspace_open, (0.3, 0.7, 1)),
    (linspace_default, (0.1, 9.7)), (linspace_int, (-1.0, 10.0, 4)),
    (linspace_f32, (np.array([0.1, 0.9], np.float32), 6)),
], ids=_case_id)
def test_linspace(fn, args):
    assert_same(fn, *args)


def test_linspace_negative_num():
    with pytest.raises(ValueError, match=r"Number of samples, -1, must be non-negative."):
        kernel(linspace3)(0.0, 1.0, -1)


def eye_n(n: int) -> f64[:, :]:
    return np.eye(n)


def eye_nmk(n: int, m: int, k: int) -> f64[:, :]:
    return np.eye(n, m, k)


def eye_kw(n: int) -> i32[:, :]:
    return np.eye(n, k=-1, dtype=np.int32)


def eye_bool(n: int) -> boolean[:, :]:
    return np.eye(n, None, 1, bool)


def identity_f32(n: int) -> f32[:, :]:
    return np.identity(n, dtype=np.float32)


@pytest.mark.parametrize("fn, args", [
    (eye_n, (3,)), (eye_n, (0,)), (eye_nmk, (2, 4, 1)), (eye_nmk, (4, 2, -2)),
    (eye_nmk, (3, 3, 5)), (eye_kw, (3,)), (eye_bool, (3,)), (identity_f32, (3,)),
], ids=_case_id)
def test_eye(fn, args):
    assert_same(fn, *args)


def test_eye_negative():
    with pytest.raises(ValueError, match="negative dimensions are not allowed"):
        kernel(eye_n)(-1)


# --- copies and literals -----------------------------------------------------------------------
def copy_independent(a: f64[:, :]) -> f64[:, :]:
    b = np.copy(a)
    c = a.copy()
    b[0, 0] = -1.0
    c[1, 1] = -2.0
    return b + c


def copy_of_view(a: f64[:, :]) -> f64[:, :]:
    c = a.copy()
    c[0, 0] = 99.0
    return c


@pytest.mark.parametrize("view", [lambda b: b[:, ::2], lambda b: b.T, lambda b: b[::-1, 1:]],
                         ids=["step", "transpose", "reversed"])
def test_copy_of_view(view):
    got = assert_same_view(copy_of_view, view, A.copy())
    assert got.flags.c_contiguous


def test_copy_independent():
    assert_same(copy_independent, A)


def literal_1d(x: f64[:], a: float) -> f64[:]:
    return np.array([a, 2.0, x[0], -a])


def literal_2d(a: int, b: int) -> i64[:, :]:
    return np.array([[a, b, 1], [b, a, 2]])


def literal_promote(a: f32[:]) -> f64[:]:
    return np.array([a[0], 2])


def literal_bool(a: int) -> boolean[:]:
    return np.array([a > 0, True])


def literal_dtype(a: int) -> f32[:]:
    return np.asarray([a, 2, 3], dtype=np.float32)


def literal_empty() -> f64[:]:
    return np.array([])


def asarray_same(a: f64[:]) -> f64[:]:
    b = np.asarray(a)
    b[0] = 5.0
    return np.array(a)


@pytest.mark.parametrize("fn, args", [
    (literal_1d, (np.array([3.0]), 1.5)), (literal_2d, (4, -5)),
    (literal_promote, (np.array([1.5], np.float32),)), (literal_bool, (0,)),
    (literal_dtype, (7,)), (literal_empty, ()), (asarray_same, (np.ones(3),)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_array_literals(fn, args):
    assert_same(fn, *args)


# --- reshape / ravel / flatten / fill ---------------------------------------------------------
def reshape_view(a: f64[:], n: int) -> f64[:, :]:
    b = a.reshape(n, -1)
    b[0, 1] = 100.0
    return b.copy()


def reshape_tuple(a: f64[:, :]) -> f64[:]:
    b = a.reshape((a.shape[0] * a.shape[1],))
    return b * 2.0


def reshape_shape_of(a: f64[:, :], b: f64[:, :]) -> f64[:, :]:
    return b.reshape(a.shape) + a


def reshape_3d(a: f64[:, :]) -> f64[:, :, :]:
    return a.reshape(2, -1, 2) * 1.0


def ravel_write(a: f64[:, :]) -> f64[:]:
    r = a.ravel()
    r[1] = -7.0
    return r * 1.0


def flatten_copy(a: f64[:, :]) -> f64[:]:
    f = a.flatten()
    f[0] = -3.0
    return f


def new_reshaped(n: int) -> i64[:, :]:
    return np.arange(n * 3).reshape(3, n)


def new_reshaped_var(n: int) -> f64[:, :]:
    a = np.zeros(2 * n)
    b = a.reshape((2, n))
    b[1, 0] = 4.0
    return b


def fill_param(a: f64[:, :], v: int) -> None:
    a.fill(v)


def fill_view(a: i64[:, :]) -> None:
    a[1].fill(-2)


@pytest.mark.parametrize("fn, args", [
    (reshape_view, (np.arange(6.0), 2)), (reshape_view, (np.arange(6.0), 3)),
    (reshape_tuple, (A,)), (reshape_shape_of, (A, np.ones((4, 3)))), (reshape_3d, (A,)),
    (ravel_write, (A,)), (flatten_copy, (A,)), (new_reshaped, (2,)), (new_reshaped, (0,)),
    (new_reshaped_var, (3,)), (fill_param, (A, 3)), (fill_view, (np.zeros((3, 2), int),)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_shape_methods(fn, args):
    assert_same(fn, *args)


@pytest.mark.parametrize("view", [lambda b: b[:, ::2], lambda b: b.T, lambda b: b[::-1]],
                         ids=["step", "transpose", "reversed"])
def test_reshape_of_non_contiguous_copies(view):
    def k(a: f64[:, :]) -> f64[:]:
        r = a.ravel()
        r[0] = 50.0  # a copy: the base stays as it was (NumPy copies too)
        return r * 1.0

    assert_same_view(k, view, A.copy())
    assert_same_view(flatten_copy, view, A.copy())


def test_reshape_view_writes_reach_base():
    base = np.arange(6.0)
    kernel(reshape_view)(base, 3)
    assert base[1] == 100.0


@pytest.mark.parametrize("shape, message", [
    ((4,), r"cannot reshape array of size 6 into shape \(4,\)"),
    ((4, -1), r"cannot reshape array of size 6 into shape \(4,newaxis\)"),
    ((2, 2, 2), r"cannot reshape array of size 6 into shape \(2,2,2\)"),
])
def test_reshape_size_mismatch(shape, message):
    with pytest.raises(ValueError, match=message):
        np.arange(6.0).reshape(shape)
    fn = {1: lambda: bad1, 2: lambda: bad2, 3: lambda: bad3}[len(shape)]()
    with pytest.raises(ValueError, match=message):
        fn(np.arange(6.0), *shape)


@kernel
def bad1(a: f64[:], n: int) -> float:
    return a.reshape(n)[0]


@kernel
def bad2(a: f64[:], n: int, m: int) -> float:
    return a.reshape(n, -1)[0, 0]


@kernel
def bad3(a: f64[:], n: int, m: int, k: int) -> float:
    return a.reshape(n, m, k)[0, 0, 0]


# --- compile-time refusals ---------------------------------------------------------------------
def two_unknown(a: f64[:]) -> float:
    return a.reshape(-1, -1)[0, 0]


def ragged(a: float) -> f64[:]:
    return np.array([[a, a], [a]])


@pytest.mark.parametrize("fn, message", [
    (two_unknown, "can only specify one unknown dimension"),
    (ragged, "inhomogeneous shape"),
], ids=lambda v: getattr(v, "__name__", ""))
def test_refused(fn, message):
    with pytest.raises(CompileError, match=message):
        kernel(fn)(np.ones(4)) if fn is not ragged else kernel(fn)(1.0)


# --- more spellings ----------------------------------------------------------------------------
def zeros_shape_variable(x: f64[:, :]) -> f64[:, :]:
    s = x.shape
    return np.zeros(s) + 1.0


def iterate_created(n: int) -> float:
    t = 0.0
    for v in np.arange(n):
        t += v
    for w in np.linspace(0.0, 1.0, 3):
        t += w
    return t


def array_of_shape(x: f64[:, :]) -> i64[:]:
    return np.array(x.shape)


def array_of_tuple(x: f64[:]) -> f64[:]:
    return np.array((x[0], x[1] + 1.0))


def astype_reshape(x: f64[:, :]) -> f32[:, :]:
    return x.astype(np.float32).reshape(-1, 2)


def astype_param_dtype(x: f64[:], y: f32[:]) -> f32[:]:
    return x.astype(y.dtype)


def zeros_reshaped_3d(n: int) -> f64[:, :, :]:
    return np.zeros((n, 2, 3)).reshape(n, 3, 2)


def transposed_ravel(x: f64[:, :]) -> f64[:]:
    return x.T.ravel() * 1.0


@pytest.mark.parametrize("fn, args", [
    (zeros_shape_variable, (A,)), (iterate_created, (4,)), (array_of_shape, (A,)),
    (array_of_tuple, (np.ones(2),)), (astype_reshape, (A,)),
    (astype_param_dtype, (np.arange(3.0), np.ones(1, np.float32))),
    (zeros_reshaped_3d, (2,)), (transposed_ravel, (A,)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_more_spellings(fn, args):
    assert_same(fn, *args)


def np_reshape_functions(x: f64[:]) -> f64[:]:
    b = np.reshape(x, (2, -1))
    b[1, 0] = 9.0
    return np.ravel(b) * 2.0


def test_reshape_functions():
    assert_same(np_reshape_functions, np.arange(6.0))
