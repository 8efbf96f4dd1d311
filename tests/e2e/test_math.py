"""Differential tests: every function and constant of the `math` module in the subset, on safe
domains. math.* returns f64 (even for f32 inputs); floor/ceil/trunc return int."""

import math

import numpy as np
import pytest
from helpers import assert_same

from ember import f32, f64

RTOL = 1e-12


def m_sin(x: float) -> float:
    return math.sin(x)


def m_cos(x: float) -> float:
    return math.cos(x)


def m_tan(x: float) -> float:
    return math.tan(x)


def m_asin(x: float) -> float:
    return math.asin(x)


def m_acos(x: float) -> float:
    return math.acos(x)


def m_atan(x: float) -> float:
    return math.atan(x)


def m_atan2(y: float, x: float) -> float:
    return math.atan2(y, x)


def m_sinh(x: float) -> float:
    return math.sinh(x)


def m_cosh(x: float) -> float:
    return math.cosh(x)


def m_tanh(x: float) -> float:
    return math.tanh(x)


def m_asinh(x: float) -> float:
    return math.asinh(x)


def m_acosh(x: float) -> float:
    return math.acosh(x)


def m_atanh(x: float) -> float:
    return math.atanh(x)


def m_exp(x: float) -> float:
    return math.exp(x)


def m_expm1(x: float) -> float:
    return math.expm1(x)


def m_log(x: float) -> float:
    return math.log(x)


def m_log1p(x: float) -> float:
    return math.log1p(x)


def m_log2(x: float) -> float:
    return math.log2(x)


def m_log10(x: float) -> float:
    return math.log10(x)


def m_sqrt(x: float) -> float:
    return math.sqrt(x)


def m_cbrt(x: float) -> float:
    return math.cbrt(x)


def m_pow(x: float, y: float) -> float:
    return math.pow(x, y)


def m_hypot(x: float, y: float) -> float:
    return math.hypot(x, y)


def m_fabs(x: float) -> float:
    return math.fabs(x)


def m_copysign(x: float, y: float) -> float:
    return math.copysign(x, y)


def m_fmod(x: float, y: float) -> float:
    return math.fmod(x, y)


def m_erf(x: float) -> float:
    return math.erf(x)


def m_erfc(x: float) -> float:
    return math.erfc(x)


def m_gamma(x: float) -> float:
    return math.gamma(x)


def m_lgamma(x: float) -> float:
    return math.lgamma(x)


CASES = [
    (m_sin, [(0.5,), (-2.0,), (10.0,), (0.0,)]),
    (m_cos, [(0.3,), (-1.2,), (100.0,)]),
    (m_tan, [(0.3,), (-1.2,)]),
    (m_asin, [(-0.9,), (0.5,), (1.0,)]),
    (m_acos, [(-0.9,), (0.5,), (1.0,)]),
    (m_atan, [(3.0,), (-0.2,), (1e10,)]),
    (m_atan2, [(1.0, -2.0), (-0.0, -1.0), (0.0, -1.0), (-3.0, 0.5), (0.0, 0.0)]),
    (m_sinh, [(0.7,), (-3.0,)]),
    (m_cosh, [(0.7,), (-3.0,)]),
    (m_tanh, [(0.7,), (-3.0,), (30.0,)]),
    (m_asinh, [(-2.5,), (0.1,)]),
    (m_acosh, [(1.5,), (10.0,), (1.0,)]),
    (m_atanh, [(0.5,), (-0.9,)]),
    (m_exp, [(1.0,), (-20.5,), (0.0,), (700.0,)]),
    (m_expm1, [(1e-10,), (-0.5,), (2.0,)]),
    (m_log, [(2.0,), (1e-5,), (1.0,)]),
    (m_log1p, [(1e-12,), (3.0,), (-0.5,)]),
    (m_log2, [(8.0,), (0.3,)]),
    (m_log10, [(1000.0,), (0.02,)]),
    (m_sqrt, [(2.0,), (0.0,), (1e10,), (0.25,)]),
    (m_cbrt, [(27.0,), (-8.0,), (2.0,)]),
    (m_pow, [(2.0, 0.5), (-2.0, 3.0), (9.0, -0.5), (0.0, 0.0)]),
    (m_hypot, [(3.0, 4.0), (1e200, 1e200), (-5.0, 0.0)]),
    (m_fabs, [(-3.5,), (2.0,), (-0.0,)]),
    (m_copysign, [(3.0, -0.0), (-2.0, 1.0), (0.0, -1.0)]),
    (m_fmod, [(7.5, 2.0), (-7.5, 2.0), (7.5, -2.0), (1.0, 0.1)]),
    (m_erf, [(0.5,), (-1.5,), (0.0,)]),
    (m_erfc, [(0.5,), (3.0,), (-1.0,)]),
    (m_gamma, [(0.5,), (5.0,), (-1.5,), (10.3,)]),
    (m_lgamma, [(0.5,), (10.0,), (-1.5,), (100.0,)]),
]


@pytest.mark.parametrize(
    "fn, args",
    [(fn, args) for fn, arg_list in CASES for args in arg_list],
    ids=[f"{fn.__name__[2:]}-{','.join(map(str, a))}" for fn, al in CASES for a in al],
)
def test_math_function(fn, args):
    assert_same(fn, *args, rtol=RTOL)


def m_copysign_sign(x: float, y: float) -> bool:
    return math.copysign(1.0, math.copysign(x, y)) < 0.0


@pytest.mark.parametrize("x, y", [(3.0, -0.0), (-3.0, 0.0), (0.0, -2.0)])
def test_copysign_result_sign(x, y):
    assert_same(m_copysign_sign, x, y)


def rounding_to_int(x: float) -> int:
    return math.floor(x) * 10000 + math.ceil(x) * 100 + math.trunc(x)


@pytest.mark.parametrize("x", [2.5, -2.5, 3.0, -0.0, 0.7, -0.7, 1e10 + 0.5])
def test_floor_ceil_trunc_return_int(x):
    assert_same(rounding_to_int, x)


def floor_as_index(a: f64[:], x: float) -> float:
    return a[math.floor(x)] + a[math.ceil(x)] + a[math.trunc(-x)]


@pytest.mark.parametrize("x", [1.5, 2.0, 0.2])
def test_floor_result_is_an_int_index(x):
    assert_same(floor_as_index, np.arange(6.0) * 1.5, x)


def classify(x: float) -> int:
    return math.isnan(x) + 2 * math.isinf(x) + 4 * math.isfinite(x)


@pytest.mark.parametrize("x", [1.0, float("nan"), float("inf"), float("-inf"), -0.0, 1e308])
def test_isnan_isinf_isfinite(x):
    assert_same(classify, x)


def constants(x: float) -> float:
    return math.pi * x + math.e - math.tau / 3.0


def test_math_constants():
    assert_same(constants, 0.75)


def inf_nan_constants(x: float) -> int:
    r = 0
    if x < math.inf:
        r += 1
    if -math.inf < x:
        r += 2
    if math.isnan(math.nan + x):
        r += 4
    if math.nan != math.nan:
        r += 8
    return r


@pytest.mark.parametrize("x", [0.0, float("inf"), float("-inf")])
def test_math_inf_nan_constants(x):
    assert_same(inf_nan_constants, x)


def math_on_ints(n: int) -> float:
    return math.sqrt(n) + math.exp(n / 10) + math.log(n + 1) + math.atan2(n, 3)


@pytest.mark.parametrize("n", [0, 4, 17])
def test_math_functions_accept_ints(n):
    assert_same(math_on_ints, n, rtol=RTOL)


def math_on_f32(x: f32[:], out: f64[:]) -> None:
    for i in range(len(x)):
        out[i] = math.sin(x[i]) + math.sqrt(x[i]) + math.exp(-x[i])


def test_math_on_f32_computes_in_f64():
    # math.sin(np.float32) converts to double: the result is an f64 of the f32 value
    x = np.array([0.1, 0.7, 2.3, 9.9], dtype=np.float32)
    assert_same(math_on_f32, x, np.zeros(4), rtol=RTOL)


def math_f32_result_type(x: f32) -> float:
    return math.sqrt(x) * 0.1 + math.pi


def test_math_result_of_f32_is_f64():
    assert_same(math_f32_result_type, np.float32(2.0), rtol=RTOL)


def floor_f32(x: f32[:]) -> int:
    return math.floor(x[0]) + math.ceil(x[1]) * 100


def test_floor_ceil_on_f32():
    assert_same(floor_f32, np.array([-2.5, 3.25], dtype=np.float32))


def sqrt_exact(a: f64[:], out: f64[:]) -> None:
    for i in range(len(a)):
        out[i] = math.sqrt(a[i])


def test_sqrt_is_correctly_rounded():
    a = np.array([2.0, 3.0, 1e-300, 12345.678, 0.5])
    assert_same(sqrt_exact, a, np.zeros(5))


def pairwise_energy(pos: f64[:, :], eps: float) -> float:
    n = pos.shape[0]
    e = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            r2 = eps
            for d in range(pos.shape[1]):
                diff = pos[i, d] - pos[j, d]
                r2 += diff * diff
            e += 1.0 / math.sqrt(r2)
    return e


@pytest.mark.parametrize("n", [0, 1, 12])
def test_pairwise_energy_from_spec(n):
    pos = np.random.default_rng(1).random((n, 3))
    assert_same(pairwise_energy, pos, 1e-3)
