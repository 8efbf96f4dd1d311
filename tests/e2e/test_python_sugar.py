"""Differential tests: chained assignment (`a = b = 0.0`, `x[i] = x[j] = v`), loops over tuples
(literals of numbers or of arrays, tuple values, inside enumerate/zip, with break/continue/else),
and unpacking an array into scalars or rows with CPython's run-time ValueErrors."""

import numpy as np
import pytest
from e2e_support import pure
from helpers import assert_same

import ember
from ember import f32, f64, i64


def chained(x: f64[:], cov: f64[:, :], v: float) -> float:
    a = b = 0.0
    x[0] = x[1] = v
    c = x[2] = v * 2.0
    i = j = 1
    cov[0, i] = cov[j, 0] = c + 1.0
    p, q = r = (1.0, 2.0)
    n = k = len(x)  # evaluated once, assigned left to right
    m = x[k - 1] = 7.0
    return a + b + c + p + q + r[0] + n + k + m + i + j


def chained_order(x: i64[:]) -> int:
    i = x[i] = 2  # noqa: F841 - Python assigns i first, then x[2]
    return i


def test_chained_assignment():
    assert_same(chained, np.zeros(4), np.zeros((2, 2)), 1.5)
    assert_same(chained_order, np.zeros(4, dtype=np.int64))


def tuple_loops(x: f64[:], y: f64[:], t: float) -> float:
    s = 0.0
    for k in (1, 2, 3):
        s += k
    for w in (0.5, -1.0, t):
        s += w * 10.0
    for a in (x, y):  # one array type: a copy of the body per item
        a[0] = s
        s += a[1]
    pair = (1.0, 2.0, 4.0)
    for v in pair:
        if v > 3.0:
            break
        s += v * 100.0
    else:
        s += 1000.0
    for v in (1, 2):
        if v == 1:
            continue
        s += v
    else:
        s += 0.125
    for i, w in enumerate((0.25, 0.5)):
        s += i * w
    for j, w in zip((1, 2, 3), (2.0, 3.0), strict=False):
        s += j * w
    for z in ():
        s += z
    return s


def nested_tuple_loops(x: f32[:], y: f32[:]) -> float:
    s = 0.0
    for a in (x, y):
        for v in a:
            if v > 2.5:
                continue
            s += v
        if s > 100.0:
            break
    else:
        s += 0.25
    return s


def test_tuple_loops():
    assert_same(tuple_loops, np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]), 0.75)
    x, y = np.array([1.0, 2.0, 3.0], np.float32), np.array([4.0, 0.5, 6.0], np.float32)
    assert_same(nested_tuple_loops, x, y)
    assert_same(nested_tuple_loops, x * 100, y)


def tuple_parameter_loops(t: tuple[float, float, float], n: tuple[int, int]) -> float:
    s = 0.0
    for v in t:
        s += v
    for i, k in enumerate(n):
        s += i * k
    a, b = n
    return s + a * 10 + b


def test_loops_over_tuple_parameters():
    assert_same(tuple_parameter_loops, (1.0, 2.0, 4.0), (3, 5))


def unpack_vector(params: f64[:]) -> float:
    omega, alpha, gamma = params
    return omega + 2.0 * alpha + 3.0 * gamma


def unpack_rows(a: f32[:, :]) -> float:
    r0, r1 = a  # rows are views
    r1[0] = r0[1]
    return float(r0[0] + r1[1])


def test_array_unpacking():
    assert_same(unpack_vector, np.array([1.0, 2.0, 3.0]))
    assert_same(unpack_rows, np.arange(6, dtype=np.float32).reshape(2, 3))
    kernel = ember.kernel(unpack_vector)
    for bad, message in [(np.array([1.0, 2.0]), "not enough values to unpack (expected 3, "
                          "got 2)"), (np.zeros(4), "too many values to unpack (expected 3)")]:
        with pytest.raises(ValueError) as want:
            unpack_vector(bad)
        assert str(want.value) == message
        with pytest.raises(ValueError) as got:
            kernel(bad)
        assert str(got.value) == message
    with pytest.raises(ValueError, match=r"too many values to unpack \(expected 2\)"):
        ember.kernel(unpack_rows)(np.zeros((3, 2), np.float32))


def test_unpacking_derivative():
    ember.check_grad(unpack_vector, np.array([0.5, -1.0, 2.0]))
    g = ember.grad(unpack_vector)(np.array([0.5, -1.0, 2.0]))
    np.testing.assert_allclose(g, [1.0, 2.0, 3.0])


@ember.kernel
def halves(x: f64[:]) -> tuple[f64[:], f64[:]]:
    return x * 0.5, x + 1.0


def unpack_array_tuples(x: f64[:]) -> float:
    a, b = halves(x)  # a tuple value holding arrays
    c, d = e = halves(x)  # chained: unpacked, then kept whole
    p, q = x, x * 3.0
    s = 0.0
    for v in (a, b):
        s += v[0]
    return a[0] + b[1] + c[0] + d[0] + e[1][2] + p[1] + q[2] + s


def test_unpacking_tuples_of_arrays():
    x = np.array([1.0, 2.0, 3.0])
    assert_same(pure(unpack_array_tuples), x, kernel=ember.kernel(unpack_array_tuples))
