"""`A @ x` where A is column-contiguous (a transpose): ir/products.py runs it column by column
(unit-stride reads of A) instead of one strided dot per row; against NumPy for floats and ints,
slices of the transpose, and a row-contiguous A that keeps the row path."""

import numpy as np
import pytest

from ember import f32, f64, i64, kernel


@kernel
def at_x(a: f64[:, :], x: f64[:], y: f64[:], out: f64[:, :]) -> None:
    out[0] = a.T @ x
    out[1] = np.dot(a.T[:, 1:], x[1:])
    out[2] = a[::2].T @ y[::2]
    out[3] = 2.0 * (a.T @ x) + 1.0
    out[4] = a @ y[: a.shape[1]] if a.shape[0] == a.shape[1] else a.T @ x


@kernel
def at_x_f32(a: f32[:, :], x: f32[:]) -> f32[:]:
    return a.T @ x


@kernel
def at_x_int(a: i64[:, :], x: i64[:]) -> i64[:]:
    return a.T @ x


def test_transposed_matvec():
    rng = np.random.default_rng(21)
    a = rng.standard_normal((37, 29))
    x, y = rng.standard_normal(37), rng.standard_normal(37)
    out = np.zeros((5, 29))
    at_x(a, x, y, out)
    want = [a.T @ x, np.dot(a.T[:, 1:], x[1:]), a[::2].T @ y[::2], 2.0 * (a.T @ x) + 1.0,
            a.T @ x]
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
    sq = rng.standard_normal((29, 29))
    out = np.zeros((5, 29))
    at_x(sq, x[:29], y[:29], out)
    np.testing.assert_allclose(out[4], sq @ y[:29], rtol=1e-12, atol=1e-12)
    a32, x32 = a.astype(np.float32), x.astype(np.float32)
    got = at_x_f32(a32, x32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, a32.T @ x32, rtol=1e-5, atol=1e-5)
    ai, xi = rng.integers(-9, 9, (37, 29)), rng.integers(-9, 9, 37)
    np.testing.assert_array_equal(at_x_int(ai, xi), ai.T @ xi)


@kernel
def scaled_matvec(beta: float, a: f64[:, :], x: f64[:], out: f64[:, :]) -> None:
    out[0] = beta * a.T @ x
    out[1] = (a * beta + 1.0) @ x[: a.shape[1]] if a.shape[0] == a.shape[1] else beta * a.T @ x
    out[2] = np.sqrt(np.abs(a.T[:, ::-1])) @ x[::-1]
    out[3] = (beta * a[::2]).T @ x[::2]


@kernel
def scaled_matvec_int(a: i64[:, :], x: i64[:]) -> i64[:]:
    return (a.T * 2 - 1) @ x


def test_matvec_of_an_expression():
    """The matrix is an elementwise expression (read where the product reads it)."""
    rng = np.random.default_rng(22)
    a, x = rng.standard_normal((37, 29)), rng.standard_normal(37)
    out = np.zeros((4, 29))
    scaled_matvec(1.5, a, x, out)
    want = [1.5 * a.T @ x, 1.5 * a.T @ x, np.sqrt(np.abs(a.T[:, ::-1])) @ x[::-1],
            (1.5 * a[::2]).T @ x[::2]]
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)
    sq = rng.standard_normal((29, 29))
    out = np.zeros((4, 29))
    scaled_matvec(1.5, sq, x[:29], out)
    np.testing.assert_allclose(out[1], (sq * 1.5 + 1.0) @ x[:29], rtol=1e-12, atol=1e-12)
    ai, xi = rng.integers(-9, 9, (37, 29)), rng.integers(-9, 9, 37)
    np.testing.assert_array_equal(scaled_matvec_int(ai, xi), (ai.T * 2 - 1) @ xi)
    with pytest.raises(ValueError, match="not aligned|mismatch"):
        scaled_matvec_int(ai, xi[:5])
