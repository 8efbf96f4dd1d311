"""Linalg-level rewrites of array products (issue 13), each against NumPy on the same inputs
and, through `inspect("mlir")`, for the code shape that makes it a rewrite:

- transposed operands are read through their strides (`A.T @ B` allocates what `A @ B` does);
  `x @ x` and `np.dot(x, x)` are dot products and `np.sum(a * b)` one fused reduction (no
  array allocated at all);
- product chains `A @ B @ C (@ D)` choose their order at run time (ir/chains.py: an `scf.if`
  on the multiply-add counts), with NumPy's ValueError for mismatched sizes;
- `alpha * (A @ B) + beta * C`, `A @ B + bias_row`, `np.tanh(A @ B + C)`, `2.0 * A.T @ B`
  run as one product whose stores apply the expression (ir/epilogue.py), including the
  run-time fallback where another operand stretches a size-1 axis of the product;
- `C += A @ B`, `C -= A @ B`, `C[...] = A @ B`, `C[:, :] = alpha * (A @ B) + beta * D` write into C directly,
  and through the ordinary path (same values) when C is strided or overlaps an operand.
Timings (the cheap order taken for A(1000x1000) @ B @ x): benchmarks/bench_products.py.
Derivatives: tests/grad/test_product_rewrite_grads.py."""

import numpy as np
import pytest

from ember import f32, f64, i64, kernel

RNG = np.random.default_rng(1313)


def _close(got, want, rtol=1e-11):
    want = np.asarray(want)
    got = np.asarray(got)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 10)


# --- rewrites that held before: transposes, dots, fused sums ------------------------------------
@kernel
def plain(a: f64[:, :], b: f64[:, :]) -> f64[:, :]:
    return a @ b


@kernel
def a_t_b(a: f64[:, :], b: f64[:, :]) -> f64[:, :]:
    return a.T @ b


@kernel
def self_dots(x: f64[:], y: f64[:]) -> float:
    return x @ x + np.dot(y, y) + np.sum(x * y)


def test_transposes_dots_and_sums_make_no_temporary():
    a, b = RNG.standard_normal((37, 21)), RNG.standard_normal((37, 45))
    _close(a_t_b(a, b), a.T @ b)
    assert a_t_b.inspect("mlir").count("memref.alloc") == plain.inspect("mlir").count(
        "memref.alloc")  # no array for a.T: it is packed through its strides
    x, y = RNG.standard_normal(1001), RNG.standard_normal(1001)
    _close(self_dots(x, y), x @ x + np.dot(y, y) + np.sum(x * y))
    assert "memref.alloc" not in self_dots.inspect("mlir")


# --- chains -------------------------------------------------------------------------------------
@kernel
def chain3(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> f64[:, :]:
    return a @ b @ c


@kernel
def chain_vec(a: f64[:, :], b: f64[:, :], x: f64[:]) -> f64[:]:
    return a @ b @ x


@kernel
def vec_chain(x: f64[:], a: f64[:, :], b: f64[:, :], y: f64[:]) -> f64:
    return x @ a @ b @ y


@kernel
def chain_forms(a: f64[:, :], b: f64[:, :], c: f64[:, :], d: f64[:, :],
                x: f64[:]) -> f64[:, :]:
    """A right-nested chain, np.matmul, transposed operands, a 5-long chain, x @ A @ B @ C.T."""
    u = np.matmul(a, b @ c.T)
    v = a @ b @ c.T @ d @ d.T
    w = x @ a @ b @ c.T
    return u + v + w


@kernel
def int_chain(a: i64[:, :], b: i64[:, :], c: i64[:, :]) -> i64[:, :]:
    return a @ b @ c


@pytest.mark.parametrize("n, k, m, p", [
    (3, 50, 4, 60),    # (a @ b) @ c is cheaper
    (60, 3, 50, 2),    # a @ (b @ c) is cheaper
    (5, 5, 5, 5),      # a tie: the written order
    (0, 4, 7, 3),      # empty
])
def test_chain_values(n, k, m, p):
    a, b, c = (RNG.standard_normal(s) for s in [(n, k), (k, m), (m, p)])
    _close(chain3(a, b, c), a @ b @ c)
    x = RNG.standard_normal(m)
    _close(chain_vec(a, b, x), a @ b @ x)
    y, z = RNG.standard_normal(n), RNG.standard_normal(p)
    _close(vec_chain(y, a, b @ c, z), y @ a @ (b @ c) @ z)
    ia, ib, ic = (RNG.integers(-4, 5, s) for s in [(n, k), (k, m), (m, p)])
    np.testing.assert_array_equal(int_chain(ia, ib, ic), ia @ ib @ ic)


def test_chain_forms_and_strided_operands():
    a, b, c = RNG.standard_normal((8, 30)), RNG.standard_normal((30, 3)), RNG.standard_normal(
        (40, 3))
    d, x = RNG.standard_normal((40, 40)), RNG.standard_normal(8)
    a2 = np.asfortranarray(a)
    _close(chain_forms(a2, b, c, d, x), a @ (b @ c.T) + a @ b @ c.T @ d @ d.T + x @ a @ b @ c.T)
    assert "ember.chain_order" in chain3.inspect("mlir")  # the run-time choice


def test_chain_mismatch_raises_numpys_error():
    a, b, c = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 5)), RNG.standard_normal(
        (6, 2))
    for args in [(a, b, c), (a, c, b)]:
        with pytest.raises(ValueError) as want:
            args[0] @ args[1] @ args[2]
        with pytest.raises(ValueError, match="mismatch in its core dimension") as got:
            chain3(*args)
        assert str(got.value) == str(want.value)


# --- fused epilogues ----------------------------------------------------------------------------
@kernel
def gemm(alpha: float, a: f64[:, :], b: f64[:, :], beta: float, c: f64[:, :]) -> f64[:, :]:
    return alpha * (a @ b) + beta * c


@kernel
def dense(a: f64[:, :], w: f64[:, :], bias: f64[:]) -> f64[:, :]:
    return np.tanh(a @ w + bias)


@kernel
def scaled_t(a: f32[:, :], b: f32[:, :], c: f32[:, :]) -> f32[:, :]:
    return 2.0 * a.T @ b + c


@pytest.mark.parametrize("n, k, m", [
    (37, 300, 45),   # several blocks of k, edge columns, a partial row tile
    (6, 5, 64),      # whole tiles only
    (1, 3, 50), (64, 0, 33), (9, 130, 1),
])
def test_epilogue_values(n, k, m):
    a, b, c = RNG.standard_normal((n, k)), RNG.standard_normal((k, m)), RNG.standard_normal(
        (n, m))
    _close(gemm(1.5, a, b, -0.5, c), 1.5 * (a @ b) - 0.5 * c)
    v = RNG.standard_normal(m)
    _close(dense(a, b, v), np.tanh(a @ b + v))
    f = [x.astype(np.float32) for x in (a.T.copy(), b, c)]
    _close(scaled_t(*f), 2.0 * f[0].T @ f[1] + f[2], rtol=2e-5)


def test_epilogue_is_fused_and_broadcasting_still_holds():
    assert "ember.epilogue" in gemm.inspect("mlir")
    a, b = RNG.standard_normal((1, 7)), RNG.standard_normal((7, 40))
    c = RNG.standard_normal((5, 40))  # stretches the product's size-1 axis: not fused
    _close(gemm(2.0, a, b, 1.0, c), 2.0 * (a @ b) + c)
    with pytest.raises(ValueError) as want:
        2.0 * (a @ b) + c[:, :3]
    with pytest.raises(ValueError) as got:
        gemm(2.0, a, b, 1.0, c[:, :3])
    assert str(got.value).strip() == str(want.value).strip()


# --- assignments into a destination -------------------------------------------------------------
@kernel
def accumulate(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    c += a @ b


@kernel
def subtract(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    c -= a @ b


@kernel
def assign(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    c[...] = a @ b


@kernel
def gemm_into(alpha: float, a: f64[:, :], b: f64[:, :], beta: float, d: f64[:, :],
              c: f64[:, :]) -> None:
    c[:, :] = alpha * (a @ b) + beta * d


@pytest.mark.parametrize("n, k, m", [(37, 300, 45), (6, 5, 64), (64, 0, 33)])
def test_products_written_into_the_destination(n, k, m):
    a, b, c, d = (RNG.standard_normal(s) for s in [(n, k), (k, m), (n, m), (n, m)])
    out = c.copy()
    accumulate(a, b, out)
    _close(out, c + a @ b)
    subtract(a, b, out)
    _close(out, c)
    assign(a, b, out)
    _close(out, a @ b)
    out = c.copy()
    gemm_into(2.0, a, b, 0.5, d, out)
    _close(out, 2.0 * (a @ b) + 0.5 * d)
    wide = np.zeros((n, 2 * m + 3))  # a strided view: the ordinary path (no unit stride)
    wide[:, 1:2 * m + 1:2] = c
    accumulate(a, b, wide[:, 1:2 * m + 1:2])
    _close(wide[:, 1:2 * m + 1:2], c + a @ b)
    framed = np.zeros((n, m + 5))  # a view with a row stride: written in place
    framed[:, 2:m + 2] = c
    accumulate(a, b, framed[:, 2:m + 2])
    _close(framed[:, 2:m + 2], c + a @ b)
    assert not framed[:, :2].any() and not framed[:, m + 2:].any()
    assert all("ember.epilogue" in f.inspect("mlir") for f in (accumulate, subtract, gemm_into))


def test_destination_that_overlaps_an_operand_reads_the_old_values():
    s, t = RNG.standard_normal((20, 20)), RNG.standard_normal((20, 20))
    c = s.copy()
    accumulate(c, t, c)
    _close(c, s + s @ t)
    c = s.copy()
    subtract(t, c[::-1], c)
    _close(c, s - t @ s[::-1])
    c = s.copy()
    assign(t, c.T, c)
    _close(c, t @ s.T)
    c = s.copy()
    gemm_into(1.0, t, t, 1.0, c.T, c)
    _close(c, t @ t + s.T)
    with pytest.raises(ValueError, match=r"could not broadcast input array from shape \(2,7\) "
                       r"into shape \(5,7\)"):
        assign(np.ones((2, 3)), np.ones((3, 7)), np.zeros((5, 7)))


# --- symmetric products: x.T @ x computes half and mirrors (ir/products.py `_mirror`) ----------
@kernel
def covariance(data: f64[:, :]) -> f64[:, :]:
    n = data.shape[0]
    x = data - data.sum(axis=0) / n
    return x.T @ x / (n - 1)


@kernel
def gram32(x: f32[:, :]) -> f32[:, :]:
    return x.T @ x


@kernel
def gram_view(x: f64[:, :], d: f64[:, :]) -> f64[:, :]:
    return x[:, ::-2].T @ x[:, ::-2] + d  # another array operand: computed in full


@pytest.mark.parametrize("shape", [(7, 5), (40, 131), (9, 300), (2, 257), (0, 4), (5, 0)])
def test_symmetric_products(shape):
    data = RNG.standard_normal(shape)
    if shape[0] > 1:
        _close(covariance(data), np.cov(data, rowvar=False), rtol=1e-10)
    x32 = data.astype(np.float32)
    _close(gram32(x32), x32.T @ x32, rtol=1e-4)
    half = data[:, ::-2]
    d = RNG.standard_normal((half.shape[1], half.shape[1]))
    _close(gram_view(data, d), half.T @ half + d, rtol=1e-10)
