"""Tuple and NamedTuple parameters: flattened at the boundary (the native entry takes the
items), read in the body as a tuple (`t[0]`, `t[-1]`, `len(t)`, `a, b = t`, fields by name);
arrays written through a tuple item are checked writable; kernels pass tuples to kernels."""

from typing import NamedTuple

import numpy as np
import pytest

import ember
from ember import f32, f64, i64


class Params(NamedTuple):
    x: f64[:]
    k: float
    n: i64


@ember.kernel
def combine(pair: tuple[f64[:], f64[:]], dims: tuple[int, int], p: Params) -> float:
    a, b = pair
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i] * b[i]
    s += p.x[0] * p.k + p[2] + p[-1] * 10
    return s + dims[0] * 100 + dims[-1] * 1000 + len(pair) * 1e4 + len(p) * 1e5


@ember.kernel
def write_second(pair: tuple[f64[:], f32[:]], v: float) -> None:
    pair[1][0] = v
    first, second = pair
    second[1] = first[0]


@ember.kernel
def inner(t: tuple[f64[:], float], shift: tuple[float, float] = (0.0, 0.0)) -> float:
    return t[0][0] * t[1] + shift[0] + shift[1]


@ember.kernel
def norm(p: Params) -> float:
    return p.x[-1] * p.k + p.n


@ember.kernel
def outer(t: tuple[f64[:], float], p: Params) -> float:
    local = (p.x, p.k)
    return inner(t) + 10 * inner((p.x, 2.0), shift=(1.0, 2.0)) + 100 * inner(local) \
        + 1000 * inner(t, (p.k, 1.0)) + 1e4 * norm(p) + 1e5 * norm(Params(t[0], n=4, k=0.5))


A, B = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 4.0])
P = Params(np.array([3.0, 4.0]), 1.5, 7)


def test_values_as_cpython():
    assert combine((A, B), (2, 3), P) == combine.py_func((A, B), (2, 3), P)
    # any tuple of the right items passes for a NamedTuple
    assert combine((B, A), (4, 5), tuple(P)) == combine.py_func((B, A), (4, 5), P)


def test_writes_through_items():
    x, y = np.array([5.0]), np.zeros(2, dtype=np.float32)
    write_second((x, y), 2.5)
    assert y.tolist() == [2.5, 5.0]
    frozen = np.zeros(2, dtype=np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        write_second((x, frozen), 1.0)
    assert write_second.compile().signature.written == frozenset({"pair_1"})


def test_kernel_calls_with_tuples():
    from e2e_support import pure

    assert outer((A, 2.0), P) == pure(outer.py_func)((A, 2.0), P)


def test_bad_tuple_arguments():
    with pytest.raises(TypeError, match=r"combine\(\) argument 'dims' must be a tuple of 2 "
                                        r"items, got list"):
        combine((A, B), [1, 2], P)
    with pytest.raises(TypeError, match=r"combine\(\) argument 'p' must be a tuple of 3 items, "
                                        r"got 2 items"):
        combine((A, B), (1, 2), (A, 1.0))
    with pytest.raises(TypeError):
        combine((A, B.astype(np.float32)), (1, 2), P)


def test_errors_name_the_item():
    with pytest.raises(TypeError, match=r"combine\(\) argument 'pair' item 1 must have dtype "
                                        r"float64"):
        combine((A, B.astype(np.float32)), (1, 2), P)
    with pytest.raises(TypeError, match=r"combine\(\) argument 'p' field 'x' must be a numpy "
                                        r"array"):
        combine((A, B), (1, 2), (1.0, 1.5, 7))


@ember.kernel
def grid(x: f64[:], shape: tuple[int, int] = (2, 3)) -> f64[:, :]:
    a = np.zeros(shape)
    for v in shape:
        a[0, 0] += v
    return a + x.reshape(shape)


def test_a_tuple_parameter_as_a_shape():
    for args in [(np.arange(6.0),), (np.arange(4.0), (2, 2))]:
        np.testing.assert_array_equal(grid(*args), grid.py_func(*args))


@ember.kernel
def pick(t: tuple[int, int, int], k: int) -> int:
    return t[k] + t[-k] + sum_items(t)


@ember.kernel
def sum_items(t: tuple[int, int, int]) -> int:
    s = 0
    for v in t:
        s += v
    return s


def test_variable_index_of_a_tuple_parameter():
    from e2e_support import pure

    for k in range(3):
        assert pick((1, 2, 4), k) == pure(pick.py_func)((1, 2, 4), k)
