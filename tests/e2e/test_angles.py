"""math.radians/math.degrees and np.deg2rad/np.rad2deg (np.radians/np.degrees): bit for bit
against CPython (x * (pi/180), x * (180/pi) in f64) and NumPy (f32 stays f32, with NumPy's own
f32 constants), on many random values and the edge cases; ints promote to f64."""

import math

import numpy as np
import pytest
from helpers import assert_same

from ember import f32, f64, i64, kernel


def m_radians(x: float) -> float:
    return math.radians(x)


def m_degrees(x: float) -> float:
    return math.degrees(x)


def m_on_int(n: int) -> float:
    return math.radians(n) + math.degrees(n)


def np_on_i64(n: i64) -> f64:
    return np.deg2rad(n) * np.rad2deg(n)


@kernel
def all_spellings(x: f64[:], out: f64[:, :]) -> None:
    for i in range(len(x)):
        out[0, i] = math.radians(x[i])
        out[1, i] = math.degrees(x[i])
        out[2, i] = np.deg2rad(x[i])
        out[3, i] = np.rad2deg(x[i])
        out[4, i] = np.radians(x[i])
        out[5, i] = np.degrees(x[i])


@kernel
def all_spellings32(x: f32[:], out: f32[:, :], wide: f64[:, :]) -> None:
    for i in range(len(x)):
        out[0, i] = np.deg2rad(x[i])
        out[1, i] = np.rad2deg(x[i])
        out[2, i] = np.radians(x[i])
        out[3, i] = np.degrees(x[i])
        wide[0, i] = math.radians(x[i])  # math.* widens f32 to f64, as CPython does
        wide[1, i] = math.degrees(x[i])


EDGES = [0.0, -0.0, 1.0, -1.0, 90.0, 180.0, 360.0, -720.0, math.pi, 1e-310, 5e-324, 1e300,
         -1e308, 1.7976931348623157e308, math.inf, -math.inf, math.nan]


def _values(dtype) -> np.ndarray:
    rng = np.random.default_rng(12)
    info = np.finfo(dtype)
    parts = [rng.standard_normal(4000) * 1e3, rng.uniform(-1, 1, 2000) * float(info.max),
             rng.standard_normal(2000) * float(info.tiny), np.array(EDGES)]
    with np.errstate(over="ignore"):
        return np.concatenate(parts).astype(dtype)


def _same_bits(got, want):
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)  # NaN == NaN here; zeros compared with signs:
    assert np.array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("x", EDGES[:14] + [0.1, -33.3, 12345.678])
def test_scalar_matches_cpython(x):
    assert_same(m_radians, x)
    assert_same(m_degrees, x)


def test_math_on_nonfinite():
    r, d = kernel(m_radians), kernel(m_degrees)
    assert r(math.inf) == math.inf and d(-math.inf) == -math.inf
    assert math.isnan(r(math.nan)) and math.isnan(d(math.nan))


@pytest.mark.parametrize("n", [0, 1, -7, 180, 2**53 + 1, -(2**62)])
def test_ints_promote(n):
    got = assert_same(m_on_int, n)
    assert isinstance(got, float)
    assert_same(np_on_i64, np.int64(n))
    assert type(kernel(np_on_i64)(np.int64(n))) in (float, np.float64)


def test_f64_arrays_bit_for_bit():
    x = _values(np.float64)
    out = np.empty((6, len(x)))
    with np.errstate(over="ignore"):
        want = [np.array([math.radians(v) for v in x]), np.array([math.degrees(v) for v in x]),
                np.deg2rad(x), np.rad2deg(x), np.radians(x), np.degrees(x)]
    all_spellings(x, out)
    for row, w in zip(out, want, strict=True):
        _same_bits(row, w)


def test_f32_arrays_bit_for_bit():
    x = _values(np.float32)
    out, wide = np.empty((4, len(x)), np.float32), np.empty((2, len(x)))
    with np.errstate(over="ignore"):
        want = [np.deg2rad(x), np.rad2deg(x), np.radians(x), np.degrees(x)]
    all_spellings32(x, out, wide)
    for row, w in zip(out, want, strict=True):
        _same_bits(row, w)
    _same_bits(wide[0], np.array([math.radians(float(v)) for v in x]))
    _same_bits(wide[1], np.array([math.degrees(float(v)) for v in x]))
