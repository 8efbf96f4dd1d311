"""Differential tests: numpy functions and conversions on scalars (np.sin(x), np.float32(x), ...).
Unlike math.*, np.* keeps f32 for f32 inputs and np.floor/ceil/trunc return floats."""

import numpy as np
import pytest
from helpers import assert_same

from ember import f32, f64, i64

RTOL = 1e-12
RTOL32 = 1e-6


def np_unary_f64(x: float) -> float:
    return (
        np.sin(x)
        + np.cos(x) * 2.0
        + np.tan(x / 4.0)
        + np.exp(x / 3.0)
        + np.log(x + 2.0)
        + np.sqrt(x + 1.5)
        + np.cbrt(x)
        + np.tanh(x)
        + np.sinh(x / 2.0)
        + np.cosh(x / 5.0)
    )


@pytest.mark.parametrize("x", [0.25, -1.2, 3.0])
def test_numpy_unary_functions_f64(x):
    assert_same(np_unary_f64, x, rtol=RTOL)


def np_more_f64(x: float, y: float) -> float:
    return (
        np.arctan2(y, x)
        + np.hypot(x, y)
        + np.log2(x * x + 1.0)
        + np.log10(y * y + 2.0)
        + np.expm1(x / 10.0)
        + np.log1p(y * y)
        + np.fabs(y)
        + np.copysign(x, y)
        + np.fmod(x, 0.75)
        + np.arcsin(x / 10.0)
        + np.arccos(y / 10.0)
        + np.arctan(x)
    )


@pytest.mark.parametrize("x, y", [(0.5, -2.0), (-3.0, 1.25), (2.0, 0.0)])
def test_numpy_binary_and_inverse_functions_f64(x, y):
    assert_same(np_more_f64, x, y, rtol=RTOL)


def np_v2_names(x: float) -> float:
    return np.asin(x) + np.acos(x) + np.atan(x) + np.atan2(x, 2.0) + np.pow(2.0, x)


@pytest.mark.parametrize("x", [0.5, -0.25])
def test_numpy2_function_aliases(x):
    assert_same(np_v2_names, x, rtol=RTOL)


def np_floor_family(x: float) -> float:
    return np.floor(x) * 100.0 + np.ceil(x) * 10.0 + np.trunc(x) + np.floor(x) / 4.0


@pytest.mark.parametrize("x", [2.5, -2.5, 7.0, -0.3])
def test_numpy_floor_ceil_trunc_return_float(x):
    assert_same(np_floor_family, x)


def np_predicates(x: float) -> int:
    return np.isnan(x) + 2 * np.isinf(x) + 4 * np.isfinite(x)


@pytest.mark.parametrize("x", [1.0, float("nan"), float("-inf")])
def test_numpy_isnan_isinf_isfinite(x):
    assert_same(np_predicates, x)


def np_constants(x: float) -> float:
    r = np.pi * x + np.e
    if x < np.inf and np.isnan(np.nan * x):
        r += 1.0
    return r


def test_numpy_constants():
    assert_same(np_constants, 0.5)


def to_f32(x: float) -> float:
    return np.float32(x) * 3.0


@pytest.mark.parametrize("x", [0.1, 1.0 / 3.0, 16777217.0, -2.5e-40, 1e39])
def test_np_float32_rounds(x):
    with np.errstate(over="ignore"):
        assert_same(to_f32, x)


def conversions(x: float, n: int) -> float:
    a = np.float64(n) / 3
    b = np.int64(x)
    c = np.int32(x) * 2
    return a + b * 10 + c


@pytest.mark.parametrize("x, n", [(2.7, 7), (-2.7, -1), (0.9, 0)])
def test_np_int_and_float64_conversions(x, n):
    assert_same(conversions, x, n)


def np_sqrt_f32(x: f32[:], out: f64[:]) -> None:
    for i in range(len(x)):
        out[i] = np.sqrt(x[i])


def test_np_sqrt_keeps_f32():
    # f32 sqrt is correctly rounded: storing it in an f64 array shows it was computed in f32
    x = np.array([2.0, 3.0, 0.1, 1e-30, 12345.67], dtype=np.float32)
    assert_same(np_sqrt_f32, x, np.zeros(5))


def np_unary_f32(x: f32[:], out: f32[:]) -> None:
    for i in range(len(x)):
        out[i] = np.sin(x[i]) + np.exp(x[i] * 0.5) + np.log(x[i] + 1.0) + np.tanh(x[i])


def test_numpy_functions_on_f32():
    x = np.linspace(0.0, 3.0, 7, dtype=np.float32)
    assert_same(np_unary_f32, x, np.zeros(7, dtype=np.float32), rtol=RTOL32)


def np_f32_result_precision(x: f32[:]) -> float:
    return np.sin(x[0]) * 1.0


def test_np_sin_of_f32_is_f32():
    # the product with a Python float stays f32; an f64 sin would differ at ~1e-8
    x = np.array([0.7], dtype=np.float32)
    got = assert_same(np_f32_result_precision, x, rtol=RTOL32)
    assert float(got) == float(np.float32(got))


def np_floor_f32(x: f32[:], out: f32[:]) -> None:
    for i in range(len(x)):
        out[i] = np.floor(x[i]) + np.ceil(x[i]) * 0.5 + np.fabs(x[i])


def test_np_floor_on_f32():
    x = np.array([1.5, -1.5, 0.3, -7.0], dtype=np.float32)
    assert_same(np_floor_f32, x, np.zeros(4, dtype=np.float32))


def np_on_ints(a: i64[:]) -> float:
    return np.sqrt(a[0]) + np.exp(a[1])


def test_numpy_functions_on_int_elements():
    assert_same(np_on_ints, np.array([9, 2], dtype=np.int64), rtol=RTOL)


def np_on_python_ints(n: int) -> float:
    return np.sqrt(n) * np.float64(1.5)


def test_numpy_functions_on_int_params():
    assert_same(np_on_python_ints, 7, rtol=RTOL)


def np_f64_array(a: f64[:]) -> float:
    s = 0.0
    for i in range(len(a)):
        s += np.fabs(a[i]) * 2.0 + np.copysign(1.0, a[i])
    return s


def test_np_fabs_copysign_on_elements():
    assert_same(np_f64_array, np.array([-1.5, 2.0, -0.0]))


def np_sized_int_casts(x: f64[:]) -> float:
    return np.int8(x[0]) + np.uint8(x[1]) + np.int16(x[2]) * 1.0 + np.float32(x[0]) * 0.1


def test_numpy_sized_int_casts_truncate():
    assert_same(np_sized_int_casts, np.array([-3.7, 200.9, 1000.2]))
