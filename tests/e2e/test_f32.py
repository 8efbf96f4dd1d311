"""Differential tests: f32 rounding and NEP 50 promotion. f32 arrays and `ember.f32` scalars stay
f32 when they meet Python scalars (`x * 2.0` is f32), and widen when they meet strong f64/i64."""

import numpy as np
import pytest
from helpers import assert_same

from ember import f32, f64, i16, i32, i64, u8


def affine_f32(x: f32[:], out: f32[:]) -> None:
    for i in range(len(x)):
        out[i] = x[i] * 2.1 + 1.3


def test_f32_times_python_float_stays_f32():
    x = np.linspace(-3, 3, 13, dtype=np.float32) + np.float32(0.1)
    assert_same(affine_f32, x, np.zeros(13, dtype=np.float32))


def sum_f32(x: f32[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        s += x[i]
    return s


@pytest.mark.parametrize("n", [0, 1, 10, 1000])
def test_f32_accumulator_from_float_literal_stays_f32(n):
    # NEP 50: 0.0 + f32 is f32, so the whole sum rounds in f32 (an f64 sum would differ)
    x = (np.arange(n, dtype=np.float32) * np.float32(0.1)).astype(np.float32)
    assert_same(sum_f32, x)


def f32_scalars(a: f32, b: f32) -> f32:
    return a * b + a / b - b * 0.3


@pytest.mark.parametrize("a, b", [(0.1, 0.7), (1e-3, 3.0), (-2.5, 1e5)])
def test_f32_scalar_parameters(a, b):
    assert_same(f32_scalars, np.float32(a), np.float32(b))


def f32_with_py_scalars(a: f32, n: int, x: float) -> float:
    return a * n + a * x + a / 3 + n * a * 0.1


@pytest.mark.parametrize("a, n, x", [(0.1, 3, 0.2), (1.7, -7, 1e-3)])
def test_f32_with_weak_int_and_float(a, n, x):
    assert_same(f32_with_py_scalars, np.float32(a), n, x)


def f32_times_f64_elem(x: f32[:], y: f64[:], out: f64[:]) -> None:
    for i in range(len(x)):
        out[i] = x[i] * y[i] + x[i]


def test_f32_times_f64_is_f64():
    x = np.array([0.1, 0.2, 0.3], dtype=np.float32)
    y = np.array([0.1, 1.0 / 3.0, 7.0])
    assert_same(f32_times_f64_elem, x, y, np.zeros(3))


def f32_with_ints(x: f32[:], a: i64[:], b: i32[:], c: i16[:], d: u8[:]) -> float:
    # f32+i64 -> f64, f32+i32 -> f64, f32+i16 -> f32, f32+u8 -> f32
    return (x[0] + a[0]) * 1000.0 + (x[0] + b[0]) + (x[0] + c[0]) * 0.001 + (x[0] + d[0]) * 0.1


def test_f32_promotion_with_sized_ints():
    x = np.array([0.1], dtype=np.float32)
    a = np.array([16777217], dtype=np.int64)
    b = np.array([16777217], dtype=np.int32)
    c = np.array([-3], dtype=np.int16)
    d = np.array([200], dtype=np.uint8)
    assert_same(f32_with_ints, x, a, b, c, d)


def f32_div_floordiv_mod(x: f32[:], out: f32[:]) -> None:
    for i in range(len(x)):
        out[i] = x[i] / 3 + x[i] // 0.7 + x[i] % 0.7


def test_f32_division_family():
    x = np.array([7.3, -7.3, 0.1, 2.1], dtype=np.float32)
    assert_same(f32_div_floordiv_mod, x, np.zeros(4, dtype=np.float32))


def f32_power(x: f32[:], out: f32[:]) -> None:
    for i in range(len(x)):
        out[i] = x[i] ** 2 + x[i] ** 0.5


def test_f32_power_stays_f32():
    x = np.array([0.1, 2.0, 3.3], dtype=np.float32)
    assert_same(f32_power, x, np.zeros(3, dtype=np.float32), rtol=1e-6)


def annotated_f32_local(x: f32[:]) -> float:
    s: f32 = 0
    for i in range(len(x)):
        s = s * 0.5 + x[i]
    return s


@pytest.mark.parametrize("n", [0, 9])
def test_annotated_f32_local(n):
    assert_same(annotated_f32_local, np.linspace(0, 1, n, dtype=np.float32))


def annotated_f32_from_element(x: f32[:]) -> f32:
    t: f32 = x[0]
    t += 0.1
    t *= 3.0
    return t


def test_annotated_f32_augassign_with_python_floats():
    assert_same(annotated_f32_from_element, np.array([0.2], dtype=np.float32))


def store_f64_into_f32(x: f64[:], out: f32[:]) -> None:
    for i in range(len(x)):
        out[i] = x[i] * 1.1


def test_store_f64_into_f32_rounds():
    x = np.array([0.1, 1.0 / 3.0, 16777217.0, -1e-40, 3.4e38])
    with np.errstate(over="ignore"):
        assert_same(store_f64_into_f32, x, np.zeros(5, dtype=np.float32))


def compare_f32_with_literal(x: f32[:]) -> int:
    r = 0
    if x[0] > 0.1:
        r += 1
    if x[0] == 0.1:
        r += 2
    return r


def test_f32_compares_with_literal_in_f32():
    # NEP 50: np.float32(0.1) == 0.1 is True (the literal is cast to f32)
    assert_same(compare_f32_with_literal, np.array([0.1], dtype=np.float32))


def f32_no_fma(x: f32[:], y: f32[:], z: f32[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        s += x[i] * y[i] + z[i]
    return s


def test_f32_multiply_add_not_fused():
    rng = np.random.default_rng(3)
    x, y, z = (rng.standard_normal(64).astype(np.float32) for _ in range(3))
    assert_same(f32_no_fma, x, y, z)


def f64_no_fma(x: f64[:], y: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        s = s + x[i] * y[i]
    return s


def test_f64_multiply_add_not_fused():
    rng = np.random.default_rng(4)
    assert_same(f64_no_fma, rng.standard_normal(64), rng.standard_normal(64))


def f32_matvec(m: f32[:, :], v: f32[:], out: f32[:]) -> None:
    for i in range(m.shape[0]):
        acc: f32 = 0
        for j in range(m.shape[1]):
            acc += m[i, j] * v[j]
        out[i] = acc


def test_f32_matvec():
    rng = np.random.default_rng(5)
    m = rng.standard_normal((4, 6)).astype(np.float32)
    v = rng.standard_normal(6).astype(np.float32)
    assert_same(f32_matvec, m, v, np.zeros(4, dtype=np.float32))


def f32_builtins(x: f32[:]) -> float:
    return abs(x[0]) + min(x[0], x[1]) * 2.0 + max(x[0], x[1]) * 0.1


def test_f32_abs_min_max():
    assert_same(f32_builtins, np.array([-0.3, 0.7], dtype=np.float32))


def np_float32_scalar(x: float) -> float:
    y = np.float32(x)
    z = y * 0.1 + 1.0
    return z


@pytest.mark.parametrize("x", [0.1, 3.3, -1e-3])
def test_np_float32_local_stays_f32(x):
    assert_same(np_float32_scalar, x)


def f32_return(x: f32) -> f32:
    return x / 7.0


def test_f32_return_value_rounded():
    got = assert_same(f32_return, np.float32(1.0))
    assert float(got) == float(np.float32(1.0) / np.float32(7.0))


def f32_runtime_power(x: f32, n: int) -> float:
    return x**n


@pytest.mark.parametrize("n", [5, -3, 0])
def test_f32_power_with_runtime_int_exponent(n):
    assert_same(f32_runtime_power, np.float32(1.1), n, rtol=1e-6)


def f32_np_binary(x: f32[:], out: f32[:]) -> None:
    for i in range(len(x)):
        out[i] = (
            np.arctan2(x[i], 0.5)
            + np.hypot(x[i], 2.0)
            + np.copysign(x[i], -1.0)
            + np.fmod(x[i], 0.3)
        )


def test_numpy_binary_functions_on_f32():
    x = np.linspace(-1, 1, 5, dtype=np.float32)
    assert_same(f32_np_binary, x, np.zeros(5, dtype=np.float32), rtol=1e-6)
