"""Differential tests: the implicit conversions Ember keeps (int -> float, bool -> int, within a
kind, array stores that cast as NumPy does) and the forms that used to be misdiagnosed
(`dtype=a.dtype`, np.finfo/np.iinfo constants, `while 1:`, string annotations). The refused
narrowing conversions (float -> int, ... -> bool) have error goldens in tests/errors."""

import numpy as np
import pytest
from e2e_support import pure
from helpers import assert_same

import ember
from ember import f32, f64, i32, i64, kernel


def widen(n: int, flag: bool) -> float:
    y: float = n
    k: int = flag
    z: f32 = y
    m: i32 = n
    return y + k + z + m


def float_return(n: int) -> float:
    return n * 3


def tuple_widen(n: int) -> tuple[float, int]:
    return n, True


def int_then_float(n: int) -> float:
    x = n
    if n > 2:
        x = 0.5
    x += 1
    return x


def augassign_local(n: int) -> float:
    m = n
    m += 0.5
    return m


def store_truncates(a: i64[:], x: float) -> None:
    a[0] = x
    a[1] = -x


@kernel
def halve(x: float) -> float:
    return x / 2


def int_argument(n: int) -> float:
    return halve(n) + halve(True)


@pytest.mark.parametrize("n", [0, 3, -7])
def test_widening_conversions(n):
    assert_same(widen, n, n > 0)
    assert_same(float_return, n)
    assert_same(tuple_widen, n)
    assert_same(int_then_float, n)
    assert_same(augassign_local, n)
    assert_same(pure(int_argument), n, kernel=ember.kernel(int_argument))


def test_array_store_casts_like_numpy():
    assert_same(store_truncates, np.zeros(2, dtype=np.int64), 2.75)


def like_dtype(a: f32[:], b: i64[:, :]) -> float:
    x = np.zeros(3, dtype=a.dtype)
    y = np.full((2, 2), 7, b.dtype)
    x[0] = 1.1
    return x[0] + y[1, 1]


def type_info(x: float, a: f32[:]) -> float:
    big = np.iinfo(np.int32).max + 1
    return x + np.finfo(np.float64).eps + np.finfo(a.dtype).tiny + big + np.iinfo(np.int8).bits


def test_dtype_of_array_and_type_info():
    a = np.ones(2, dtype=np.float32)
    assert_same(like_dtype, a, np.ones((2, 2), dtype=np.int64))
    assert_same(type_info, 1.0, a)


def while_one(n: int) -> int:
    i = 0
    while 1:
        i += 3
        if i > n:
            return i


def while_literal_compare(n: int) -> int:
    i = 0
    while 1 == 1:
        i += 1
        if i * i > n:
            return i


def string_annotations(x: "float", a: "f64[:]") -> "float":
    return x + a[0]


@pytest.mark.parametrize("n", [0, 10])
def test_constant_true_loops(n):
    assert_same(while_one, n)
    assert_same(while_literal_compare, n)


def test_string_annotations():
    assert_same(string_annotations, 1.5, np.array([2.0]))
