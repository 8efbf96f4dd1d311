"""Differential tests: constants of the kernel's module (and closure) — numbers, tuples of numbers
and NumPy arrays of every dtype and rank — are frozen into the kernel at compile time (a later
change is seen by a new compilation only), read-only, differentiated as constants, and part of
the disk-cache key (a changed global recompiles instead of serving a stale result)."""

import numpy as np
import pytest
from helpers import assert_same

import ember
from ember import f32, f64, i64, prange

SCALE = 2.5
COEFFS = (1.0, -2.0, 0.5)
SIZES = (3, 4)
W = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
W32 = np.linspace(0.0, 1.0, 6, dtype=np.float32).reshape(3, 2)
STENCIL = np.array([1, -2, 1], dtype=np.int64)
MASK = np.array([True, False, True])
BYTES = np.array([200, 7, 255], dtype=np.uint8)
CUBE = np.arange(24, dtype=np.float64).reshape(2, 3, 4)[:, ::-1, :]  # not contiguous
ZERO_D = np.array(4.0)
GAINS = np.array([1.0, 2.0, 3.0])


def tuples(x: float) -> tuple[float, int, float, float]:
    s = 0.0
    for c in COEFFS:
        s = s * x + c
    a, b, c = COEFFS
    rows, cols = SIZES
    return COEFFS[1] * SCALE + s, len(COEFFS) + rows * cols, a + b * c, COEFFS[-1]


def dynamic_index(x: f32[:], k: int) -> tuple[float, int, f32]:
    s = 0.0
    for i in range(3):
        s += COEFFS[i] * SIZES[i % 2 - 1]  # any integer index, negative ones wrap
    return s + COEFFS[k], SIZES[k] * 2, x[0] * COEFFS[k]  # weak floats keep x's f32


def test_numbers_and_tuples():
    assert_same(tuples, 1.5)
    for k in (0, 1, -1, -2):
        assert_same(dynamic_index, np.array([3.0], np.float32), k)
    kernel = ember.kernel(dynamic_index, boundscheck=True)
    with pytest.raises(IndexError, match="index 2 is out of bounds for axis 0 with size 2"):
        kernel(np.ones(1, np.float32), 2)  # SIZES has 2 items: a checked load in a constant


def arrays(x: f64[:], y: f32[:]) -> tuple[float, f32, int, int, float, float]:
    s = 0.0
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            s += W[i, j] * x[j]
    t = np.float32(0.0)
    for i in range(3):
        t += W32[i, 0] * y[i]
    k = 0
    for i in range(len(STENCIL)):
        if MASK[i]:
            k += STENCIL[i] * BYTES[i]
    r0, r1 = W  # rows of a constant are views
    return (s + np.sum(W * 2.0) + r1[2], t + np.sum(W32[:, 1]), k, int(BYTES[0]) + BYTES.shape[0],
            CUBE[1, 0, 3] + np.sum(CUBE[0]) + CUBE.ndim, ZERO_D * 2.0 + W.T[2, 1])


def test_arrays_of_each_kind():
    assert_same(arrays, np.array([1.0, -1.0, 0.5]), np.array([0.5, 2.0, -1.0], np.float32))


def matvec(x: f64[:], out: f64[:]) -> None:
    for i in range(W.shape[0]):  # a nest the loop optimizations (jam) take
        acc = 0.0
        for j in range(W.shape[1]):
            acc += W[i, j] * x[j]
        out[i] = acc
    out[:] = out + W[:, 0]


def parallel(x: f64[:], out: f64[:]) -> None:
    for i in prange(out.shape[0]):
        out[i] = GAINS[i % 3] * x[i]


def test_loops_optimized_and_parallel():
    assert_same(matvec, np.array([1.0, 2.0, 3.0]), np.zeros(2))
    assert_same(parallel, np.arange(10.0), np.zeros(10))


def loss(x: f64[:]) -> float:
    s = 0.0
    for i in range(2):
        for j in range(3):
            s += W[i, j] * x[j] * x[j]
    return s + np.sum(GAINS * x)


def test_gradient_treats_constants_as_constants():
    x = np.array([0.5, -1.0, 2.0])
    ember.check_grad(loss, x)
    want = 2 * x * W.sum(axis=0) + GAINS
    np.testing.assert_allclose(ember.grad(loss)(x), want)


def test_closure_constants():
    table = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
    pair = (2, 3)

    def lookup(i: i64) -> float:
        return table[i] * pair[0] + pair[1]

    assert_same(lookup, 2)


def gained(x: f64[:]) -> float:
    return float(np.sum(GAINS * x))


def test_frozen_at_compile_time_and_in_the_cache_key(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_CACHE_DIR", str(tmp_path / "cache"))
    x = np.ones(3)
    first = ember.kernel(gained)
    assert first(x) == 6.0 and first.cache_hit is False
    again = ember.kernel(gained)  # same value: the disk cache serves it
    assert again(x) == 6.0 and again.cache_hit is True
    monkeypatch.setitem(globals(), "GAINS", np.array([10.0, 20.0, 30.0]))
    assert first(x) == 6.0  # frozen into the compiled kernel (Numba's rule)
    fresh = ember.kernel(gained)  # a reload: the changed constant recompiles
    assert fresh(x) == 60.0 and fresh.cache_hit is False
    monkeypatch.setitem(globals(), "GAINS", np.array([10.0, 20.0, 30.0], np.float32))
    retyped = ember.kernel(gained)  # same values, another dtype: another key
    assert retyped(x) == 60.0 and retyped.cache_hit is False


def test_constant_keys():
    from ember.frontend.deps import constant_key

    a, b = np.arange(3.0), np.arange(3.0)
    assert constant_key(a) == constant_key(b)
    b[1] = -1.0
    assert constant_key(a) != constant_key(b)
    assert constant_key((1, 2.0)) != constant_key((1.0, 2.0))


@ember.kernel
def _fill_first(a: f64[:]) -> None:
    a[0] = 1.0


def _store_through_view(x: f64[:]) -> float:
    v = GAINS[1:]
    v[0] = x[0]
    return v[1]


def _pass_to_writer(x: f64[:]) -> float:
    _fill_first(GAINS[1:])
    return x[0]


def _sort_in_place(x: f64[:]) -> float:
    GAINS.sort()
    return x[0]


def _return_view(x: f64[:]) -> f64[:]:
    return GAINS[::2]


@pytest.mark.parametrize("fn", [_store_through_view, _pass_to_writer, _sort_in_place,
                                _return_view])
def test_global_arrays_are_read_only(fn):
    with pytest.raises(ember.CompileError, match="read-only constant and cannot be"):
        ember.kernel(fn)(np.ones(3))
