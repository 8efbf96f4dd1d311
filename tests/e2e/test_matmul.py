"""Matmul-class nests (frontend/opt/matmul.py -> ir/matmul.py): register-tiled code gives bitwise
the results of CPython and of opt_level=0 on every shape (edge rows and columns included),
for every recognized form; overlapping arguments and strided views keep Python semantics;
forms that are not products stay plain loops."""

import numpy as np
import pytest
from helpers import assert_same

import ember
from ember import f32, f64, i64
from ember.frontend import build_program, tir


def ikj(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    for i in range(a.shape[0]):
        for k in range(a.shape[1]):
            for j in range(b.shape[1]):
                c[i, j] += a[i, k] * b[k, j]


def ijk(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            for k in range(a.shape[1]):
                c[i, j] = c[i, j] + b[k, j] * a[i, k]


def ijk_local(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            s = 0.0
            for k in range(a.shape[1]):
                s += a[i, k] * b[k, j]
            c[i, j] = s


def ijk_from_c(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            s = c[i, j]
            for k in range(a.shape[1]):
                s += a[i, k] * b[k, j]
            c[i, j] = s


def a_bt(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    """c = a @ b.T, b read by rows (b[j, k])."""
    for i in range(a.shape[0]):
        for j in range(b.shape[0]):
            s = -1.25
            for k in range(a.shape[1]):
                s += a[i, k] * b[j, k]
            c[i, j] = s


def at_b(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    """c = a.T @ b: u = a[k, i]."""
    for i in range(a.shape[1]):
        for k in range(a.shape[0]):
            for j in range(b.shape[1]):
                c[i, j] += a[k, i] * b[k, j]


def gemm(alpha: float, beta: float, c0: f64[:, :], c: f64[:, :], a: f64[:, :],
         b: f64[:, :]) -> None:
    for i in range(c.shape[0]):
        for j in range(c.shape[1]):
            c[i, j] = beta * c0[i, j]
        for k in range(a.shape[1]):
            for j in range(c.shape[1]):
                c[i, j] += alpha * a[i, k] * b[k, j]


def sgemm(a: f32[:, :], b: f32[:, :], c: f32[:, :]) -> None:
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            s = np.float32(0.0)
            for k in range(a.shape[1]):
                s += a[i, k] * b[k, j]
            c[i, j] = s


def offset_ranges(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    for i in range(2, a.shape[0]):
        for k in range(1, a.shape[1] - 1):
            for j in range(3, b.shape[1]):
                c[i, j] += a[i, k] * b[k, j]


def batched(a: f64[:, :], b: f64[:, :], c: f64[:, :], times: int) -> None:
    for _ in range(times):
        for i in range(a.shape[0]):
            for k in range(a.shape[1]):
                for j in range(b.shape[1]):
                    c[i, j] += 0.5 * a[i, k] * b[k, j]


def batched3d(a: f64[:, :, :], b: f64[:, :, :], c: f64[:, :, :]) -> None:
    """c[n] = a[n] @ b[n] for every n (3-D arrays, the batch index fixed in each product)."""
    for n in range(c.shape[0]):
        for i in range(a.shape[1]):
            for j in range(b.shape[2]):
                s = 0.0
                for k in range(a.shape[2]):
                    s += a[n, i, k] * b[n, k, j]
                c[n, i, j] = s


def shared_b(a: f64[:, :, :], b: f64[:, :], c: f64[:, :, :]) -> None:
    for n in range(c.shape[0]):
        for i in range(a.shape[1]):
            for k in range(a.shape[2]):
                for j in range(b.shape[1]):
                    c[n, i, j] += a[n, i, k] * b[k, j]


# not products: must stay plain loops
def u_reads_j(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    for i in range(a.shape[0]):
        for k in range(a.shape[1]):
            for j in range(b.shape[1]):
                c[i, j] += a[i, k] * b[k, j] * b[k, j]


def triangular(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    for i in range(a.shape[0]):
        for k in range(a.shape[1]):
            for j in range(i):
                c[i, j] += a[i, k] * b[k, j]


def integers(a: i64[:, :], b: i64[:, :], c: i64[:, :]) -> None:
    for i in range(a.shape[0]):
        for k in range(a.shape[1]):
            for j in range(b.shape[1]):
                c[i, j] += a[i, k] * b[k, j]


def maybe_negative(a: f64[:, :], b: f64[:, :], c: f64[:, :], lo: int) -> None:
    """i and j may be negative (Python wraps them): not tiled."""
    for i in range(lo, a.shape[0]):
        for k in range(a.shape[1]):
            for j in range(lo, b.shape[1]):
                c[i, j] += a[i, k] * b[k, j]


def batch_moves_inside(a: f64[:, :, :], b: f64[:, :, :], c: f64[:, :, :]) -> None:
    for i in range(a.shape[1]):
        for j in range(b.shape[2]):
            for k in range(a.shape[2]):
                c[k % 2, i, j] += a[0, i, k] * b[0, k, j]


def reads_c_elsewhere(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    for i in range(1, a.shape[0]):
        for k in range(a.shape[1]):
            for j in range(b.shape[1]):
                c[i, j] += c[i - 1, j] * b[k, j]


def b_is_c(a: f64[:, :], c: f64[:, :]) -> None:
    for i in range(a.shape[0]):
        for k in range(a.shape[1]):
            for j in range(c.shape[1]):
                c[i, j] += a[i, k] * c[k, j]


RNG = np.random.default_rng(3)
TILED = [ikj, ijk, ijk_local, ijk_from_c, a_bt, at_b, gemm, sgemm, offset_ranges, batched,
         batched3d, shared_b]
PLAIN = [u_reads_j, triangular, integers, maybe_negative, reads_c_elsewhere, b_is_c,
         batch_moves_inside]


def _tiled(fn) -> bool:
    program = build_program(fn, optimize=True)
    fast = program.functions[program.entry].fast_body or ()
    return any(isinstance(n, tir.MatMul) for n in tir.walk(fast))


@pytest.mark.parametrize("fn", TILED + PLAIN, ids=lambda f: f.__name__)
def test_recognized_exactly_where_it_is_a_product(fn):
    assert _tiled(fn) == (fn in TILED)


def _args(fn, m, n, p):
    r = RNG.standard_normal
    if fn is gemm:
        return 1.5, -0.5, r((m, p)), np.zeros((m, p)), r((m, n)), r((n, p))
    if fn is sgemm:
        return r((m, n)).astype(np.float32), r((n, p)).astype(np.float32), np.zeros(
            (m, p), np.float32)
    if fn is integers:
        return RNG.integers(-9, 9, (m, n)), RNG.integers(-9, 9, (n, p)), np.zeros(
            (m, p), np.int64)
    if fn is b_is_c:
        return r((m, n)), r((max(m, n), p))
    if fn in (batched3d, shared_b, batch_moves_inside):
        b = r((n, p)) if fn is shared_b else r((3, n, p))
        return r((3, m, n)), b, r((3, m, p))
    a = r((n, m)) if fn is at_b else r((m, n))
    b = r((p, n)) if fn is a_bt else r((n, p))
    extra = {maybe_negative: (-min(m, p, 2),), batched: (3,)}.get(fn, ())
    return (a, b, r((m, p)), *extra)


SHAPES = [(0, 3, 4), (1, 1, 1), (5, 7, 9), (6, 4, 8), (7, 0, 13), (13, 9, 17), (20, 33, 31)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("fn", TILED + PLAIN, ids=lambda f: f.__name__)
def test_bitwise_equal_to_cpython_and_opt0(fn, shape):
    args = _args(fn, *shape)
    assert_same(fn, *args)
    assert_same(fn, *args, kernel=ember.kernel(fn, opt_level=0))


@pytest.mark.parametrize("fn", [ikj, ijk_local, gemm], ids=lambda f: f.__name__)
def test_fastmath_close(fn):
    assert_same(fn, *_args(fn, 30, 40, 50), rtol=1e-12, kernel=ember.kernel(fn, fastmath=True))


def test_strided_views_agree():
    a = RNG.standard_normal((20, 30))[::2, 1::2]
    b = RNG.standard_normal((15, 40))[:, ::2].T.copy().T  # non-contiguous
    assert_same(ikj, a, RNG.standard_normal((15, 14)), np.zeros((10, 14)))
    assert_same(ijk_local, a, b[:15, :12], np.zeros((10, 12)))


def _c_is_b(kernel):
    m = RNG.standard_normal((9, 9))
    kernel(RNG.standard_normal((9, 9)), m, m)
    return m


def _c_overlaps_a(kernel):
    buf = RNG.standard_normal((12, 9))
    kernel(buf[3:], RNG.standard_normal((9, 9)), buf[:9])
    return buf


@pytest.mark.parametrize("fn", [ikj, ijk_local], ids=lambda f: f.__name__)
@pytest.mark.parametrize("case", [_c_is_b, _c_overlaps_a], ids=lambda c: c.__name__)
def test_overlapping_arguments_keep_python_semantics(fn, case):
    state = RNG.bit_generator.state
    want = case(fn)
    RNG.bit_generator.state = state
    got = case(ember.kernel(fn))
    np.testing.assert_array_equal(got, want)


def test_large_product_matches_numpy():
    a, b = RNG.standard_normal((130, 70)), RNG.standard_normal((70, 90))
    c = np.zeros((130, 90))
    ember.kernel(ijk_local)(a, b, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-12, atol=1e-12)
