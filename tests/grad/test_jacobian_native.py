"""The Jacobian's native loop (runtime/jacnative.py, api/jacfast.py): one native call per
Jacobian, bitwise equal to the row-by-row path, against finite differences; its shapes
(float, array and tuple outputs, out-parameters, float32), the shapes it learns per key, and
the cases the Python loop serves (non-contiguous arrays, keywords, mixed dtypes)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ember import f32, f64, jacfwd, jacrev


def outs(x: f64[:], n: int) -> f64[:]:
    out = np.zeros(n)
    for i in range(x.shape[0]):
        out[i % n] += math.sin(x[i]) * x[i]
    return out


def pair(x: f64[:], a: float, y: f64[:]) -> tuple[f64[:], float]:
    for i in range(y.shape[0]):
        y[i] = y[i] * a + x[i] ** 2
    return x * a, a * x[1] * y[0]


def single(x: f32[:], s: f32) -> f32[:]:
    return x * x * s


def mixed(x: f32[:], w: f64[:]) -> f64[:]:
    return w * x[0]


def newton(x: f64[:]) -> f64[:]:
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        r = x[i]
        k = 0
        while k < 3 + i:
            r = r - (r * r * r - x[i]) / (3.0 * r * r)
            k += 1
        out[i] = r
    return out


def checked(x: f64[:]) -> f64[:]:
    if x[0] < 0.0:
        raise ValueError("x[0] must be >= 0")
    return np.sqrt(x) * x[1]


def scalars(x: f64, y: f64) -> f64:
    return math.exp(x) * y + x * y * y


def _fd(f, args, k, h=1e-6):
    """Central differences of f's (flattened) result with respect to args[k]."""
    base = np.asarray(args[k], dtype=float)
    cols = []
    for e in range(base.size):
        hi, lo = base.copy().reshape(-1), base.copy().reshape(-1)
        hi[e] += h
        lo[e] -= h
        up = [hi.reshape(base.shape) if i == k else a for i, a in enumerate(args)]
        dn = [lo.reshape(base.shape) if i == k else a for i, a in enumerate(args)]
        cols.append((np.ravel(f(*up)) - np.ravel(f(*dn))) / (2 * h))
    return np.array(cols).T


@pytest.fixture(scope="module")
def outs_jacobians():
    return jacrev(outs, wrt="x"), jacfwd(outs, wrt="x")


def test_one_native_call_equals_the_rows_and_differences(outs_jacobians):
    x = np.linspace(0.1, 2.0, 8)
    for j in outs_jacobians:
        first, again = j(x, 3), j(x, 3)
        assert j._native is not None and len(j._native.shapes) == 1
        rows = j.rows(x, 3)
        assert first.shape == again.shape == (3, 8) and first.dtype == np.float64
        assert np.array_equal(first, rows) and np.array_equal(again, rows)
        np.testing.assert_allclose(again, _fd(outs, [x, 3], 0), rtol=1e-6, atol=1e-9)
        four = j(x, 4)  # another int value: another key, learned, other shapes
        assert four.shape == (4, 8) and np.array_equal(four, j.rows(x, 4))
        assert np.array_equal(j(x, 3), rows)  # the first key is still right
        y = np.linspace(0.1, 2.0, 16)  # another array shape
        assert np.array_equal(j(y, 3), j.rows(y, 3))


def test_slow_path_cases_give_the_same_values(outs_jacobians):
    x = np.linspace(0.1, 2.0, 16)
    for j in outs_jacobians:
        j(x[::2].copy(), 3)
        want = j.rows(x[::2].copy(), 3)
        assert np.array_equal(j(x[::2], 3), want)  # non-contiguous: the Python loop
        assert np.array_equal(j(x[::2].copy(), n=3), want)  # keywords
        with pytest.raises(TypeError):
            j(x[::2].astype(np.float32), 3)
        with pytest.raises(TypeError):
            j(x[::2].copy())


def test_tuple_result_out_parameter_and_scalar_wrt():
    x, y0 = np.array([0.5, 1.5, -0.7]), np.array([0.2, -1.0, 0.4])
    for make in (jacrev, jacfwd):
        j = make(pair, wrt=("x", "a"), outputs=("return", "y"))
        j(x, 0.8, y0.copy())  # learns the shapes
        want = y0 * 0.8 + x ** 2
        y = y0.copy()
        got = j(x, 0.8, y)
        np.testing.assert_array_equal(y, want)  # the kernel's side effects, once
        assert j._native is not None
        ref = j.rows(x, 0.8, y0.copy())
        flat = [got[0][0][0], got[0][0][1], got[0][1][0], got[0][1][1], got[1][0], got[1][1]]
        wflat = [ref[0][0][0], ref[0][0][1], ref[0][1][0], ref[0][1][1], ref[1][0], ref[1][1]]
        for g, w in zip(flat, wflat, strict=True):
            assert np.shape(g) == np.shape(w) and np.array_equal(g, w)
        assert got[0][0][0].shape == (3, 3) and got[0][0][1].shape == (3,)
        assert np.shape(got[0][1][0]) == (3,) and np.shape(got[0][1][1]) == ()
        assert got[1][0].shape == (3, 3) and got[1][1].shape == (3,)
        np.testing.assert_allclose(got[0][0][0], np.diag([0.8] * 3), rtol=1e-12)
        np.testing.assert_allclose(got[1][1], y0, rtol=1e-12)


def test_float32_and_mixed_dtypes():
    x = np.array([0.5, 1.5, -0.7], dtype=np.float32)
    j = jacrev(single, wrt=("x", "s"))
    jx, js = j(x, np.float32(2.0))
    jx, js = j(x, 2.0)
    assert jx.dtype == js.dtype == np.float32 and jx.shape == (3, 3) and js.shape == (3,)
    np.testing.assert_allclose(jx, np.diag(4 * x), rtol=1e-6)
    np.testing.assert_allclose(js, x * x, rtol=1e-6)
    m = jacfwd(mixed, wrt="x")  # float64 blocks of a float32 input: the Python loop
    w = np.array([1.0, 2.0])
    got = m(x, w)
    assert m._native is None and got.dtype == np.float64 and got.shape == (2, 3)
    np.testing.assert_array_equal(got, np.array([[1.0, 0, 0], [2.0, 0, 0]]))


def test_while_loops_raises_and_float_outputs():
    x = np.array([0.5, 2.0, 3.0])
    j = jacrev(newton, wrt="x")
    got = j(x)
    assert j._native is not None and np.array_equal(j(x), j.rows(x))
    np.testing.assert_allclose(got, _fd(newton, [x], 0), rtol=1e-6, atol=1e-9)
    c = jacfwd(checked, wrt="x")
    np.testing.assert_allclose(c(x), _fd(checked, [x], 0), rtol=1e-6)
    with pytest.raises(ValueError, match=r"x\[0\] must be >= 0"):
        c(-x)
    s = jacrev(scalars, wrt=("x", "y"))
    for _ in range(2):
        dx, dy = s(0.3, 1.7)
        assert isinstance(dx, np.floating) and isinstance(dy, np.floating)
        assert dx == pytest.approx(math.exp(0.3) * 1.7 + 1.7 ** 2, rel=1e-14)
        assert dy == pytest.approx(math.exp(0.3) + 2 * 0.3 * 1.7, rel=1e-14)
    assert s._native is not None


def scratch_work(x: f64[:], tmp: f64[:], a: f64[:, :]) -> f64[:]:
    for i in range(tmp.shape[0]):
        tmp[i] = tmp[i] + x[i] * x[i]
    out = np.zeros(a.shape[0])
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i] += a[i, j] * tmp[j]
    return out


def into(x: f64[:], w: f64, out: f64[:]) -> None:
    for i in range(out.shape[0]):
        out[i] = w * x[i] * x[(i + 1) % x.shape[0]]


def test_written_arrays_matrices_and_out_parameters():
    x, a = np.array([0.3, -1.2, 2.0]), np.arange(6.0).reshape(2, 3) / 7
    tmp0 = np.array([1.0, 2.0, -0.5])
    for make in (jacrev, jacfwd):
        j = make(scratch_work, wrt=("x", "a"))
        j(x, tmp0.copy(), a)
        tmp = tmp0.copy()
        jx, ja = j(x, tmp, a)
        np.testing.assert_array_equal(tmp, tmp0 + x * x)  # written once, not per row
        rx, ra = j.rows(x, tmp0.copy(), a)
        assert j._native is not None and jx.shape == (2, 3) and ja.shape == (2, 2, 3)
        assert np.array_equal(jx, rx) and np.array_equal(ja, ra)
        np.testing.assert_allclose(jx, a * 2 * x, rtol=1e-12)
        np.testing.assert_allclose(ja[1, 1], tmp0 + x * x, rtol=1e-12)
        assert not ja[0, 1].any()
        k = make(into, wrt=("x", "w"), outputs="out")
        out = np.zeros(3)
        kx, kw = k(x, 1.5, out)
        kx, kw = k(x, 1.5, out)
        assert k._native is not None and kx.shape == (3, 3) and kw.shape == (3,)
        np.testing.assert_allclose(kw, x * np.roll(x, -1), rtol=1e-12)
        np.testing.assert_allclose(kx, _fd(lambda x: _into_py(x, 1.5), [x], 0), rtol=1e-6)


def _into_py(x, w):
    return w * x * np.roll(x, -1)


def grows(x: f64[:], a: float) -> f64[:]:
    out = np.zeros(int(a))
    for i in range(out.shape[0]):
        out[i] = x[i % x.shape[0]] * a
    return out


def test_result_shapes_that_depend_on_a_float_argument():
    j = jacrev(grows, wrt="x")
    x = np.array([1.0, 2.0])
    for a in (2.0, 3.0, 2.0, 5.0):
        got = j(x, a)
        want = np.zeros((int(a), 2))
        want[np.arange(int(a)), np.arange(int(a)) % 2] = a
        assert got.shape == want.shape and np.array_equal(got, want)
    assert j._native is not None and len(j._native.shapes) == 3


def positives(x: f64[:]) -> f64[:]:
    m = 0
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            m += 1
    out = np.empty(m)
    k = 0
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            out[k] = x[i] * x[i]
            k += 1
    return out


@pytest.mark.parametrize("transform", [jacrev, jacfwd])
def test_a_result_shape_from_array_contents_is_an_error_not_a_broadcast(transform):
    """The learned shape (3,) must not take a (1,) result by broadcasting: ValueError."""
    j = transform(positives)
    x = np.array([1.0, 2.0, -1.0, 3.0])
    np.testing.assert_allclose(j(x), np.diag(2 * x)[[0, 1, 3]], rtol=1e-12)
    with pytest.raises(ValueError, match=r"result has shape \(1,\) where an earlier call"):
        j(np.array([-1.0, -2.0, -1.0, 3.0]))
