"""Regression tests for every failure the differential fuzzer (tests/fuzz) has found.

Each test is the minimized program of a failing seed (named in the test's docstring), checked
with `assert_same` against CPython on the arguments that exposed it (`assert_same_raise` for a
program that raises: the same exception type and message). A bug not fixed yet is marked
`xfail(strict=True)` with the reason, so that its fix turns the test red until unmarked. Programs that used to
crash the compiler process (abort, segfault) run through `isolated`, in a fresh interpreter,
so that a regression fails one test instead of killing the whole pytest run.
"""

import functools
import math
import os
import subprocess
import sys

import numpy as np
from e2e_support import pure
from helpers import assert_same

import ember
from ember import f32, f64, kernel

HERE = os.path.dirname(os.path.abspath(__file__))
_PATHS = [HERE, os.path.dirname(HERE), os.path.dirname(os.path.dirname(HERE))]


def isolated(test):
    """Run `test` in a subprocess: a compiler crash fails the test, not the test run."""

    @functools.wraps(test)
    def wrapper():
        code = (
            f"import sys; sys.path[:0] = {_PATHS!r}\n"
            "import importlib.util\n"
            f"spec = importlib.util.spec_from_file_location('fuzz_regressions', {__file__!r})\n"
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
            f"m.{test.__name__}.__wrapped__()\n"
        )
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=600)
        assert r.returncode == 0, f"exit code {r.returncode}\n{r.stderr[-4000:]}"

    return wrapper


# --- seed 1142 / 1050 (and 16 of seeds 2000..2999): early return of a local array in a loop --
# Compiling aborted in MLIR's MemRefToLLVM (`integralElementType.getWidth() >= 8`: a memref of
# i1 was stored to) or segfaulted after "LLVM Translation failed for operation:
# builtin.unrealized_conversion_cast".


def return_array_from_while(a: f64[:]) -> f64[:]:
    out = np.ones(1)
    w = 0
    while w < 3:
        w += 1
        return out
    return out


def return_array_from_for(x: float) -> f64[:]:
    out = np.zeros(2)
    for _i in range(2):
        if x > 0.0:
            return out
    return out


@isolated
def test_return_local_array_inside_while():
    """Seed 1142."""
    assert_same(return_array_from_while, np.zeros(3))


@isolated
def test_return_local_array_inside_for():
    """Seed 1050."""
    assert_same(return_array_from_for, 1.0)
    assert_same(return_array_from_for, -1.0)


# --- seed 131 (43 of seeds 2000..2999): `return None` in a `-> None` kernel --------------------
# CompileError "constant None is not supported in kernels"; plain `return` compiles.


def return_none_explicitly(a: f64[:], x: float) -> None:
    for i in range(len(a)):
        if a[i] > x:
            return None
        a[i] = x
    return None


def test_explicit_return_none():
    """Seed 131."""
    assert_same(return_none_explicitly, np.array([0.0, 1.0, 5.0, 2.0]), 3.0)
    assert_same(return_none_explicitly, np.zeros(0), 3.0)


# --- seed 6031: math.gamma is not bit-identical to CPython's ------------------------------------
# `math.gamma(20.25) % 7.0` gave 0.0 under Ember and 1.0 under CPython: CPython's math.gamma and
# math.lgamma are CPython's own Lanczos code, while Ember calls libm's tgamma/lgamma; they
# differ by an ulp on about a third of the arguments in (0, 20), and `% 7.0` on a 2.6e17
# value turns that ulp into a different result. Within a tolerance they agree (first test);
# README documents the difference (the fuzzer keeps gamma/lgamma results out of amplifying
# operations).


def gamma_and_lgamma(x: float) -> tuple[float, float]:
    return math.gamma(x), math.lgamma(x)


def test_gamma_lgamma_within_rounding():
    """Seed 6031."""
    for x in (0.25, 1.5, 3.7, 10.0, 20.25, 150.5):
        assert_same(gamma_and_lgamma, x, rtol=1e-13)



# --- seed 10594: a kernel whose result is NaN ran twice -----------------------------------------
# A scalar-returning kernel with array arguments reports argument errors by returning NaN (or
# the int sentinel); on such a value the entry re-checks the arguments and, when one needed
# converting (np.float32 for an f32 parameter), calls the kernel again: every array write
# happened twice (b[0] ended 9x instead of 3x). Found as `if f0(b, b, ...) != x:` with x nan.


def triple_then_return(b: f64[:], x: float, s: f32) -> float:
    b[0] *= 3.0
    return x


def triple_then_return_int(b: f64[:], k: int, s: f32) -> int:
    b[0] *= 3.0
    return k


@kernel
def triple_kernel(a: f64[:], b: f64[:], n: int, flag: bool, k: int) -> float:
    a[0] *= 3.0
    return 0.1


def calls_with_nan(a: f64[:], b: f64[:], x: float, y: float, s: f32) -> float:
    if triple_kernel(b, b, -1, y > x, -12) != x:
        pass
    return x


def test_nan_result_does_not_rerun_kernel():
    """Seed 10594: Ember b[0] 9.0 != CPython 3.0."""
    assert_same(triple_then_return, np.ones(2), math.nan, np.float32(1.0))
    assert_same(triple_then_return, np.ones(2), math.nan, 1.0)


def test_sentinel_int_result_does_not_rerun_kernel():
    """Seed 10594, int flavour: returning the int error sentinel."""
    for k in (-(2**63), 2**63 - 1, -1, 0):
        assert_same(triple_then_return_int, np.ones(2), k, np.float32(1.0))


def test_nan_result_from_caller():
    """Seed 10594 as the fuzzer found it (the NaN comes from the outer kernel)."""
    b = np.array([1000.0, 2.0, 3.0, 4.0])
    assert_same(pure(calls_with_nan), np.ones(5), b, math.nan, -3.74, np.float32(1.0),
                kernel=ember.kernel(calls_with_nan))


# --- seed 21164 (of 20000..21999): atan2 of constant signed zeros ---------------------------
# MLIR 22 folds math.atan2(+-0, +-0) to NaN; C and CPython give +-0 or +-pi.


def atan2_of_folded_zeros(a: f64[:]) -> None:
    v: float = -0.0
    a[0] = math.atan2(v - v, v - v)
    a[1] = math.atan2(0.0, -0.0)
    a[2] = math.atan2(-0.0, 0.0)
    a[3] = math.atan2(-0.0, -0.0)


def test_atan2_of_constant_zeros():
    """Seed 21164."""
    assert_same(atan2_of_folded_zeros, np.ones(4))


# --- raise/assert messages (issue 11): format differences from CPython -------------------------
# The fuzzer compares `type(exc)` and `str(exc)` of a kernel that raises with CPython's. These
# are the message-formatting differences it found (all fixed since).


def outcome(fn, *args):
    """('raised', type, str(exc)) or ('returned', result) of fn(*args)."""
    try:
        return ("returned", fn(*args))
    except Exception as exc:  # noqa: BLE001 - the exception is the point
        return ("raised", type(exc), str(exc))


def assert_same_raise(fn, *args):
    """`fn` under Ember and under CPython raise the same exception with the same message."""
    want = outcome(fn, *args)
    assert want[0] == "raised"
    assert outcome(ember.kernel(fn), *args) == want


def f32_in_fstring(s: f32) -> int:
    raise ZeroDivisionError(f"{s}|{s:>24}|{np.float32(1e-05)}")


def f32_as_message(s: f32) -> int:
    raise ValueError(s)


def test_f32_field_without_type_formats_the_double():
    """Seeds 190, 250, 965, 1726, 3274: f"{np.float32(1e-05)}" is '9.999999747378752e-06'
    in CPython (NumPy formats a float32 through float), '1e-05' under Ember."""
    assert_same_raise(f32_in_fstring, np.float32(0.1))


def test_f32_single_value_message_is_str_of_float32():
    """The other half of seed 190: ValueError(s) is str(np.float32) = '0.1' (Ember agrees)."""
    assert_same_raise(f32_as_message, np.float32(0.1))


def key_error_of_len(a: f64[:], n: int) -> int:
    for i in range(len(a)):
        if a[i] > 8.0:
            raise KeyError(len(a))
        if a[i] < -8.0:
            raise KeyError(i)
    raise KeyError(n)


def test_key_error_of_an_int():
    """Seeds 17, 2813, 4715: raise KeyError(len(a)) gave "'4'" instead of '4'."""
    assert_same_raise(key_error_of_len, np.array([1.0, 2.0, 9.0, 3.0]), 7)
    assert_same_raise(key_error_of_len, np.array([1.0, -9.0]), 7)
    assert_same_raise(key_error_of_len, np.zeros(0), 7)


def non_ascii_fill(n: int, x: float) -> int:
    raise OverflowError(f"{n:é>6}|{x:→^9.2f}")


def test_non_ascii_fill_character():
    """Seeds 355, 651, 828, 1189 and ten more of 0..4999: f"{n:é>6}" is 'ééééé7' in
    CPython, under Ember '7\ufffd>6}' (the spec's bytes leak into the message)."""
    assert_same_raise(non_ascii_fill, 7, 2.5)


def zero_flag_with_align(x: float, n: int) -> int:
    raise OverflowError(f"{x:<09f}|{n:<05}|{n:^07}|{x:>010.2e}")


def test_zero_flag_with_explicit_alignment():
    """Seeds 1191, 1231, 2686, 2845, 3477: f"{x:<09f}" with x=2.2 is '2.2000000' in CPython,
    '2.200000 ' under Ember; f"{7:^07}" is '0007000', not '   7   '."""
    assert_same_raise(zero_flag_with_align, 2.2, 7)


def bool_with_bare_flags(b: bool) -> int:
    raise ValueError(f"{b:-}|{b:#}|{b:0}|{b:+}|{b: }|{True:0}")


def test_bool_with_bare_flags_formats_as_int():
    """Seed 4081: f"{True:0}" is '1' in CPython, 'True' under Ember (also '-', '#')."""
    assert_same_raise(bool_with_bare_flags, False)


def percent_of_non_finite(x: float) -> int:
    raise ArithmeticError(f"{x:%}|{-x:.1%}|{math.inf:%}")


def test_percent_of_infinity_keeps_the_percent_sign():
    """Seed 1452: f"{math.inf:%}" is 'inf%' in CPython, 'inf' under Ember."""
    assert_same_raise(percent_of_non_finite, math.nan)


def precision_without_type(x: float) -> int:
    raise TypeError(f"{x:.1}|{x:*<9.0}|{12.0:.2}|{123.0:.3}|{0.5:.1}")


def test_precision_without_type_uses_exponent_like_cpython():
    """Seeds 4068, 4115: f"{0.0:*<9.0}" is '0e+00****' in CPython, '0.0******' under Ember."""
    assert_same_raise(precision_without_type, 2.0)


def alternate_form_without_type(x: float) -> int:
    raise LookupError(f"{x:#}|{1e+22:#4}|{x:#12}")


def test_alternate_form_without_type():
    """Seed 4712: f"{1e+22:#4}" is '1.e+22' in CPython, '1e+22' under Ember."""
    assert_same_raise(alternate_form_without_type, 1e16)


def alternate_form_with_precision(x: float) -> int:
    raise OverflowError(f"{x:#9.1}|{x:#.1}|{x:#.3}|{250.0:#.2}|{x:#}")


def test_alternate_form_with_precision_keeps_the_point():
    """Seed 3514: f"{3.0:#9.1}" is '   3.e+00' in CPython, '    3e+00' under Ember."""
    for x in (3.0, 1e16, 0.5):
        assert_same_raise(alternate_form_with_precision, x)


# --- seeds 45, 58 (issue 14 fuzzing): two arrays of a tuple result in one local buffer --------
# `return out, out[1:]`: each array of the result gets its own owner of the buffer the kernel
# allocated (ember/_dispatch.c box_array, runtime/call.py _array_from), so it is freed twice
# ("free(): double free detected in tcache 2", abort); a compiled caller that unpacks such a
# result aborts the same way, so the compiled code frees it twice too. The generator returns at
# most one non-parameter array per tuple until fixed (tests/fuzz/tuples.py SAME_BUFFER_TWICE).


def local_and_its_view(x: float) -> tuple[f64[:], f64[:], float]:
    out = np.full(6, 1.5)
    out[0] = x
    return out, out[1:], x


@isolated
def test_tuple_result_arrays_sharing_a_local_buffer():
    """Seeds 45, 58 (python -m tests.fuzz --seed 45 --count 1 --show)."""
    f = kernel(local_and_its_view)
    for _ in range(3):
        a, b, x = f(2.0)
        assert np.shares_memory(a, b) and a[0] == 2.0 and b.shape == (5,) and x == 2.0
        del a, b
    import gc
    gc.collect()


local_and_its_view_kernel = kernel(local_and_its_view)


def unpacks_local_and_its_view(x: float) -> float:
    s = 0.0
    for _ in range(50):
        a, b, y = local_and_its_view_kernel(x)
        b[0] = y
        s += a[1] + len(b)
    return s


@isolated
def test_callee_result_arrays_sharing_a_local_buffer():
    """The same between kernels (the compiled caller must free the buffer once)."""
    assert_same(unpacks_local_and_its_view, 2.0)
