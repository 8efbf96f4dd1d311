"""Gradient tests, one line per op: every differentiable function of the `math` list and its
NumPy scalar spelling, each on a safe domain (away from poles, branch cuts and kinks), checked
with `check_grad` against central finite differences. f64 throughout, plus f32 variants
(np.* keeps f32 for f32 inputs, so the whole derivative runs in f32)."""

import math

import numpy as np

from ember import check_grad, f32

# --- math.* (f64) -------------------------------------------------------------------------


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


def m_exp2(x: float) -> float:
    return math.exp2(x)


def m_expm1(x: float) -> float:
    return math.expm1(x)


def m_log(x: float) -> float:
    return math.log(x)


def m_log_base(x: float, b: float) -> float:
    return math.log(x, b)


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


def op_pow(x: float, y: float) -> float:
    return x**y


def op_pow_int(x: float) -> float:
    return x**3 + x**-2


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


def test_sin(): check_grad(m_sin, 0.7)
def test_sin_negative(): check_grad(m_sin, -2.4)
def test_cos(): check_grad(m_cos, 0.7)
def test_cos_negative(): check_grad(m_cos, -2.4)
def test_tan(): check_grad(m_tan, 0.4)
def test_asin(): check_grad(m_asin, 0.3)
def test_acos(): check_grad(m_acos, -0.4)
def test_atan(): check_grad(m_atan, 1.3)
def test_atan2_both(): check_grad(m_atan2, 0.7, -1.2, wrt=("y", "x"))
def test_atan2_third_quadrant(): check_grad(m_atan2, -0.5, -2.0, wrt=(0, 1))
def test_sinh(): check_grad(m_sinh, 0.8)
def test_cosh(): check_grad(m_cosh, -0.6)
def test_tanh(): check_grad(m_tanh, 0.5)
def test_asinh(): check_grad(m_asinh, 1.1)
def test_acosh(): check_grad(m_acosh, 1.7)
def test_atanh(): check_grad(m_atanh, 0.35)
def test_exp(): check_grad(m_exp, 0.9)
def test_exp2(): check_grad(m_exp2, 1.3)
def test_expm1(): check_grad(m_expm1, 0.02)
def test_log(): check_grad(m_log, 2.3)
def test_log_base(): check_grad(m_log_base, 5.0, 3.0, wrt=("x", "b"))
def test_log1p(): check_grad(m_log1p, 0.4)
def test_log2(): check_grad(m_log2, 3.1)
def test_log10(): check_grad(m_log10, 7.0)
def test_sqrt(): check_grad(m_sqrt, 2.5)
def test_cbrt(): check_grad(m_cbrt, 3.3)
def test_cbrt_negative(): check_grad(m_cbrt, -2.0)
def test_pow(): check_grad(m_pow, 1.7, 2.3, wrt=("x", "y"))
def test_pow_operator(): check_grad(op_pow, 1.7, -0.6, wrt=("x", "y"))
def test_pow_integer_exponents(): check_grad(op_pow_int, 1.3)
def test_hypot(): check_grad(m_hypot, 3.0, -4.0, wrt=("x", "y"))
def test_fabs_positive(): check_grad(m_fabs, 0.8)
def test_fabs_negative(): check_grad(m_fabs, -1.3)
def test_copysign(): check_grad(m_copysign, 1.5, -2.0, wrt=("x", "y"))
def test_fmod(): check_grad(m_fmod, 5.3, 1.7, wrt=("x", "y"))
def test_fmod_negative(): check_grad(m_fmod, -5.3, 1.7, wrt=("x", "y"))
def test_erf(): check_grad(m_erf, 0.6)
def test_erfc(): check_grad(m_erfc, 0.3)


def m_angles(x: float) -> float:
    return math.sin(math.radians(x)) * math.degrees(x)


def test_radians_degrees(): check_grad(m_angles, 37.0)
def test_radians_degrees_negative(): check_grad(m_angles, -200.0)


# --- np.* scalar spellings (f64) ----------------------------------------------------------


def np_trig(x: float) -> float:
    return np.sin(x) + np.cos(2.0 * x) + np.tan(x / 3.0)


def np_inverse_trig(x: float) -> float:
    return np.arcsin(x) + np.arccos(x / 2.0) + np.arctan(3.0 * x)


def np_hyperbolic(x: float) -> float:
    return np.sinh(x) + np.cosh(x / 2.0) + np.tanh(x)


def np_inverse_hyperbolic(x: float) -> float:
    return np.arcsinh(x) + np.arccosh(x + 1.5) + np.arctanh(x / 2.0)


def np_exp_log(x: float) -> float:
    return np.exp(x) + np.expm1(x / 4.0) + np.exp2(x) + np.log(x + 1.0) + np.log1p(x)


def np_log_bases(x: float) -> float:
    return np.log2(x) * np.log10(x + 3.0)


def np_roots(x: float) -> float:
    return np.sqrt(x) + np.cbrt(x - 4.0)


def np_arctan2(y: float, x: float) -> float:
    return np.arctan2(y, x)


def np_power(x: float, y: float) -> float:
    return np.power(x, y)


def np_hypot(x: float, y: float) -> float:
    return np.hypot(x, y)


def np_abs_fabs(x: float) -> float:
    return np.fabs(x) * 2.0 + np.abs(x - 3.0)


def np_copysign(x: float, y: float) -> float:
    return np.copysign(x * x, y)


def np_fmod(x: float, y: float) -> float:
    return np.fmod(x, y)


def test_np_trig(): check_grad(np_trig, 0.45)
def test_np_inverse_trig(): check_grad(np_inverse_trig, 0.3)
def test_np_hyperbolic(): check_grad(np_hyperbolic, -0.7)
def test_np_inverse_hyperbolic(): check_grad(np_inverse_hyperbolic, 0.6)
def test_np_exp_log(): check_grad(np_exp_log, 0.8)
def test_np_log_bases(): check_grad(np_log_bases, 2.2)
def test_np_roots(): check_grad(np_roots, 1.9)
def test_np_arctan2(): check_grad(np_arctan2, -0.3, 0.9, wrt=("y", "x"))
def test_np_power(): check_grad(np_power, 2.1, 0.7, wrt=("x", "y"))
def test_np_hypot(): check_grad(np_hypot, -1.5, 0.5, wrt=("x", "y"))
def test_np_abs_fabs(): check_grad(np_abs_fabs, -1.1)
def test_np_copysign(): check_grad(np_copysign, 1.2, -0.5, wrt=("x", "y"))
def test_np_fmod(): check_grad(np_fmod, 7.4, -2.0, wrt=("x", "y"))


def np_angles(x: float, y: float) -> float:
    return np.deg2rad(x) * np.rad2deg(y) + np.radians(x * y) - np.degrees(y)


def test_np_angles(): check_grad(np_angles, 30.0, -1.5, wrt=("x", "y"))


# --- f32 (np.* keeps f32; check_grad uses f32 tolerances for np.float32 inputs) ----------


def f32_sin(x: f32) -> f32:
    return np.sin(x)


def f32_exp(x: f32) -> f32:
    return np.exp(x)


def f32_log(x: f32) -> f32:
    return np.log(x)


def f32_sqrt(x: f32) -> f32:
    return np.sqrt(x)


def f32_tanh(x: f32) -> f32:
    return np.tanh(x)


def f32_atan2(y: f32, x: f32) -> f32:
    return np.arctan2(y, x)


def f32_power(x: f32, y: f32) -> f32:
    return np.power(x, y)


def f32_hypot(x: f32, y: f32) -> f32:
    return np.hypot(x, y)


def f32_array_mix(x: f32[:]) -> f32:
    s = np.float32(0.0)
    for i in range(len(x)):
        s += np.cos(x[i]) * np.log1p(x[i] * x[i]) + np.cbrt(x[i])
    return s


def f32_math_erf(x: f32) -> float:
    return math.erf(x) + math.erfc(x / 2.0)  # math.* widens f32 to f64


F32 = np.float32


def test_f32_sin(): check_grad(f32_sin, F32(0.7))
def test_f32_exp(): check_grad(f32_exp, F32(1.2))
def test_f32_log(): check_grad(f32_log, F32(2.5))
def test_f32_sqrt(): check_grad(f32_sqrt, F32(3.0))
def test_f32_tanh(): check_grad(f32_tanh, F32(-0.4))
def test_f32_atan2(): check_grad(f32_atan2, F32(0.5), F32(1.5), wrt=("y", "x"))
def test_f32_power(): check_grad(f32_power, F32(1.8), F32(1.4), wrt=("x", "y"))
def test_f32_hypot(): check_grad(f32_hypot, F32(1.0), F32(2.0), wrt=("x", "y"))
def test_f32_array_mix(): check_grad(f32_array_mix, np.array([0.3, 1.1, 2.0], dtype=F32))
def test_f32_math_erf(): check_grad(f32_math_erf, F32(0.4))


def f32_angles(x: f32) -> f32:
    return np.sin(np.deg2rad(x)) + np.rad2deg(x)


def test_f32_angles(): check_grad(f32_angles, F32(40.0))
