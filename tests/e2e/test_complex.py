"""Complex numbers in kernels (c64, c128, Python's complex) against CPython/cmath and NumPy on
the same inputs: literals, arithmetic with NumPy 2 promotion, comparisons, abs/.real/.imag/
.conjugate(), cmath and np functions on scalars and arrays, creation, reductions and products,
special values (division by zero gives inf/nan as in NumPy), and the call paths (ctypes entry
and the C dispatcher) for complex parameters and results."""

import cmath
import warnings

import numpy as np
import pytest

import ember
from ember import c64, c128, f32, f64


def scalar_mix(x: float, y: float, n: int) -> complex:
    z = complex(x, y)
    w = z * z + 1j / (z - 2) + z ** 2 - (1 + 2j) * n + z ** 0.5 - 3 / z
    e = cmath.exp(w / 10) + cmath.sqrt(z) - cmath.log(z) * cmath.sin(z) + cmath.cos(z)
    e += cmath.tan(z / 3) + cmath.sinh(z / 2) * cmath.cosh(z / 4) - cmath.tanh(z)
    e += cmath.log10(z) + cmath.rect(x, y) + complex(x) + complex(n) * 0.5j
    e -= z.conjugate() * (-z) + abs(z) + z.real - z.imag
    r, phi = cmath.polar(z)
    e += r + phi + cmath.phase(-z) + x.real + x.imag
    if z == complex(x, y) == z and z != 0 and (z == z) and e:
        e += 1
    flags = cmath.isnan(z) or cmath.isinf(z) or not cmath.isfinite(z)
    return e + flags


@pytest.mark.parametrize("x, y, n", [(0.3, -0.7, 2), (-1.5, 2.25, -1), (4.0, 0.5, 0)])
def test_scalar_expressions_match_cpython(x, y, n):
    k = ember.kernel(scalar_mix)
    want = scalar_mix(x, y, n)
    got = k(x, y, n)
    assert type(got) is complex
    np.testing.assert_allclose(got, want, rtol=1e-13)


def numpy_scalars(z: c128, w: c64, x: f32) -> tuple[c128, c64, c64, f64, f32, c128, c128]:
    a = np.exp(z) + np.log(z) * np.sqrt(z) - np.sin(z) * np.cos(z) + np.conj(z)
    a += np.tan(z) + np.sinh(z) - np.cosh(z) * np.tanh(z) + np.log10(z) + np.expm1(z)
    a += np.log1p(z) + np.isnan(z) + np.isinf(z) * 2 + np.isfinite(z) * 4
    b = np.exp(w) * np.conjugate(w) + np.sqrt(w) / w  # c64 stays c64
    c = x * 1j + w  # f32 and a Python complex: c64
    d = np.abs(z) + np.absolute(z) + np.angle(z) + np.real(z) + np.imag(z)
    e = np.abs(w) + np.angle(w)  # f32
    f = z ** 3 + z ** -2 + z ** w + np.power(z, 2)
    g = np.complex128(x) + np.complex64(z) + c128(3) + complex(2, -1)
    return a, b, c, d, e, f, g


def test_numpy_scalar_functions_and_precision():
    k = ember.kernel(numpy_scalars)
    z, w, x = 0.7 - 1.3j, np.complex64(-0.4 + 2.5j), np.float32(1.75)
    got = k(z, w, x)
    want = numpy_scalars(np.complex128(z), w, x)
    for g, v in zip(got, want, strict=True):
        v = np.asarray(v)
        rtol = 1e-5 if v.dtype in (np.complex64, np.float32) else 1e-13
        np.testing.assert_allclose(g, v, rtol=rtol)
    assert [type(g) for g in got] == [complex, complex, complex, float, float, complex, complex]


def arrays(a: c128[:], x: f64[:], s: f32[:]) -> tuple[c128[:], f64[:], f64[:], c128[:],
                                                        c128[:], c64[:], f64[:], c128[:, :]]:
    z = np.exp(1j * x) * a + 2
    r = np.abs(z) + z.real - a.imag
    ang = np.angle(a)
    c = np.conj(a) * np.sqrt(a) - np.log(a) / (a + 1) + a.conj() - np.sin(a) * np.cos(a)
    w = np.zeros(x.shape[0], dtype=np.complex128)
    w += a * 2j
    for i in range(x.shape[0]):
        w[i] = w[i] + a[i].conjugate() * x[i]
    f = s * 1j + s  # f32 array with a Python complex: c64
    e = np.empty_like(w)
    e[:] = np.ones(x.shape[0], dtype=complex) * 3
    m = np.zeros((2, x.shape[0]), dtype=np.complex128)
    m[0, :] = a
    m[1, :] = e
    return z, r, ang, c, w, f, np.real(c) + np.imag(c), m


def test_array_expressions_match_numpy():
    k = ember.kernel(arrays)
    a = np.array([1 + 1j, 2 - 3j, 0.5j, -1 - 0.25j, 3.0])
    x = np.linspace(-1, 2, 5)
    s = np.arange(5, dtype=np.float32)
    got = k(a, x, s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = arrays(a, x, s)
    for g, v in zip(got, want, strict=True):
        assert g.dtype == v.dtype and g.shape == v.shape
        np.testing.assert_allclose(g, v, rtol=1e-6 if v.dtype == np.complex64 else 1e-13)
    strided = a[::-2].copy(), x[::-2].copy(), s[::-2].copy()
    got = k(a[::-2], x[::-2], s[::-2])  # views: strides count 16-byte elements
    for g, v in zip(got, arrays(*strided), strict=True):
        np.testing.assert_allclose(g, v, rtol=1e-6 if v.dtype == np.complex64 else 1e-13)


def reductions(a: c128[:], b: c128[:], m: c128[:, :], v: c64[:]) -> tuple[
        c128, c128, c128, c128, c128, c128[:], c128[:], c128[:, :], c64, bool]:
    return (np.sum(a), np.prod(a), np.mean(a), np.dot(a, b), np.vdot(a, b), m @ b[:3],
            np.sum(m, axis=0), m @ m.T, np.sum(v * v), np.any(a))


def test_reductions_and_products_match_numpy():
    k = ember.kernel(reductions)
    a = np.array([1 + 1j, 2 - 3j, 0.5j, -1 - 0.25j])
    b = a[::-1] * (1.5 - 0.5j)
    m = np.arange(12).reshape(4, 3) * (1 + 0.5j) - 1j
    v = np.array([1 + 2j, -0.5j], dtype=np.complex64)
    got = k(a, b, m, v)
    want = reductions(a, b, m, v)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-6 if np.asarray(w).dtype == np.complex64
                                   else 1e-13)


def specials(a: c128[:], b: c128[:]) -> tuple[c128[:], f64[:], c128[:], c128[:], c128[:],
                                              c128[:]]:
    return a / b, np.abs(a), a ** b, np.sqrt(a), np.exp(a), np.log(a)


def test_special_values_follow_numpy():
    k = ember.kernel(specials)
    inf, nan = np.inf, np.nan
    a = np.array([1 + 1j, 0j, 1 + 0j, complex(inf, 0), complex(nan, 1), 1e300 + 1e300j,
                  complex(inf, nan), complex(-1, 0), complex(-inf, 1), -0.0 + 0j])
    b = np.array([0j, 0j, 0j, 1 + 1j, 1 + 0j, 1e-300 + 1e300j, 2j, 1j, 3, 1j])
    got = k(a, b)
    with np.errstate(all="ignore"):
        want = specials(a, b)
    np.testing.assert_array_equal(got[0], want[0])  # NumPy's own division algorithm
    np.testing.assert_allclose(got[1], want[1], rtol=1e-15)
    np.testing.assert_array_equal(got[2], want[2])  # NumPy's npy_cpow, glibc's cpow
    powers = np.array([1 + 2j, 1 + 2j, 1 + 2j, 0.5 - 1j, 0j, 0j, 3, 1 + 1j, -2 + 0.5j])
    exponents = np.array([2, 3, -2, 0.5 + 0.25j, 2, -1, 0, 99, 7])
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(k(powers, exponents)[2], powers ** exponents)
    for g, w in zip(got[3:], want[3:], strict=True):  # C99's special values, as NumPy
        np.testing.assert_allclose(g.real, w.real, rtol=1e-13)
        np.testing.assert_allclose(g.imag, w.imag, rtol=1e-13)


def passthrough(z: complex, w: c64, n: int) -> tuple[complex, c64, float]:
    return z * w + n, w, abs(z)


def test_call_paths_for_complex_parameters_and_results():
    k = ember.kernel(passthrough)
    for _ in range(3):  # the first call compiles; then the C dispatcher's fast path
        assert k(1 + 2j, 3 - 1j, 2) == (7 + 5j, 3 - 1j, abs(1 + 2j))
    assert k(1.5, 2, 0) == (3 + 0j, 2 + 0j, 1.5)  # real numbers convert (ctypes entry)
    assert k(np.complex128(1j), np.complex64(1j), 1) == (0j, 1j, 1.0)
    z = k(1 + 1j, 0.1 + 0.2j, 0)[1]
    assert z == complex(np.complex64(0.1 + 0.2j))  # rounded to c64
    with pytest.raises(TypeError, match="must be a number"):
        k("1j", 1j, 0)
    with pytest.raises(TypeError):
        k(1j, np.ones(2, complex), 0)


def array_results(a: c128[:], b: c64[:, :]) -> tuple[c128[:], c64[:, :], c128]:
    out = np.zeros(a.shape[0], dtype=np.complex128)
    for i in range(a.shape[0]):
        out[i] = a[i] * 2 - 1j
    return out, b[::-1, :], a[1]


def test_complex_arrays_in_and_out_and_dtype_checks():
    k = ember.kernel(array_results)
    a = np.array([1 + 1j, 2 - 3j, 0.5j])
    b = (np.arange(6).reshape(3, 2) * (1 - 1j)).astype(np.complex64)
    for _ in range(3):
        out, view, item = k(a, b)
        np.testing.assert_array_equal(out, a * 2 - 1j)
        assert view.dtype == np.complex64 and view.base is b
        np.testing.assert_array_equal(view, b[::-1, :])
        assert item == a[1]
    with pytest.raises(TypeError, match="complex128"):
        k(a.astype(np.complex64), b)
    with pytest.raises(TypeError):
        k(a.real.copy(), b)


def routines(a: c128[:], m: c128[:, :]) -> tuple[c128[:], c128[:], c128[:], c128[:], c128[:],
                                                c128[:], c128[:], c128[:, :], c128, c128[:],
                                                c128[:], c128[:, :], int, c128[:]]:
    return (np.diff(a), np.flip(a), np.roll(a, 1), np.convolve(a, a), np.tile(a, 2),
            np.repeat(a, 2), np.diag(m), np.triu(m), np.trapezoid(a), np.cross(a, a[::-1]),
            np.cumsum(a), np.stack((a, a)), np.count_nonzero(a), np.cumprod(a))


def test_prelude_routines_on_complex_arrays():
    k = ember.kernel(routines)
    a = np.array([1 + 2j, 3 - 1j, 0.5j])
    m = np.array([[2 + 1j, 1, 0], [0.5j, 3, 1], [1, 1j, 2]])
    for g, w in zip(k(a, m), routines(a, m), strict=True):
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_allclose(g, w, rtol=1e-13)
