"""`a @ B.T` and its spellings (issue 13 speed): a b operand of unit stride along its first axis
(B.T of a row-contiguous B, B[::2].T, B[::-1].T) is packed from B's rows, no contiguous copy
(ir/products.py `_unit_inner`, ir/matmul.py `pack_b`); other strides keep the copy. Against
NumPy on the same inputs: f64 and f32, sizes that fill no whole register tile, k across
several depth blocks (not a multiple of one), empty sizes, the epilogue and accumulating forms
and a chain with transposes."""

import numpy as np
import pytest

from ember import f32, f64, kernel

RNG = np.random.default_rng(1331)


def _close(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape)
    rtol = 2e-5 if want.dtype == np.float32 else 1e-11
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 10)


@kernel
def spellings(a: f64[:, :], b: f64[:, :]) -> f64[:, :]:
    return (a @ b.T) + np.dot(a, b.T) + np.inner(a, b)


@kernel
def bt32(a: f32[:, :], b: f32[:, :]) -> f32[:, :]:
    return a @ b.T


@kernel
def epilogue(alpha: float, a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> f64[:, :]:
    return alpha * (a @ b.T) + c


@kernel
def accumulate(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    c += a @ b.T


@kernel
def chain(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> f64[:, :]:
    return a @ b.T @ c.T


SHAPES = [(67, 300, 93), (6, 128, 32), (1, 257, 7), (13, 5, 40), (0, 4, 5), (4, 0, 5),
          (4, 5, 0)]


@pytest.mark.parametrize("n, k, m", SHAPES)
def test_transposed_b_matches_numpy(n, k, m):
    a, b = RNG.standard_normal((n, k)), RNG.standard_normal((m, k))
    _close(spellings(a, b), 3 * (a @ b.T))
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    _close(bt32(a32, b32), a32 @ b32.T)
    c = RNG.standard_normal((n, m))
    _close(epilogue(1.5, a, b, c), 1.5 * (a @ b.T) + c)
    out = c.copy()
    accumulate(a, b, out)
    _close(out, c + a @ b.T)


def test_strided_transposed_b():
    a, big = RNG.standard_normal((35, 150)), RNG.standard_normal((90, 300))
    for b in (big[::2, :150], big[::-2, 1:151], big[:45, ::2], big[:40, 150:].T.copy().T):
        _close(spellings(a, b), 3 * (a @ b.T))  # rows path, negative rows, copy, F-order
    c = RNG.standard_normal((40, 45))
    _close(chain(a, big[::2, :150], c), a @ big[::2, :150].T @ c.T)
    _close(chain(a[:3], big[:45, :150], c[:7]), a[:3] @ big[:45, :150].T @ c[:7].T)
