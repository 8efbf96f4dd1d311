"""Regression tests for every failure the differential fuzzer (tests/fuzz) has found.

Each test is the minimized program of a failing seed (named in the test's docstring), checked
with `assert_same` against CPython on the arguments that exposed it. Programs that used to
crash the compiler process (abort, segfault) run through `isolated`, in a fresh interpreter,
so that a regression fails one test instead of killing the whole pytest run.
"""

import functools
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import assert_same

from ember import f64

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
# the exact case is recorded as an expected failure until Ember decides to match CPython's
# code (the fuzzer now keeps gamma/lgamma results out of amplifying operations).


def gamma_mod(x: float) -> float:
    return math.gamma(x) % 7.0


def gamma_and_lgamma(x: float) -> tuple[float, float]:
    return math.gamma(x), math.lgamma(x)


def test_gamma_lgamma_within_rounding():
    """Seed 6031."""
    for x in (0.25, 1.5, 3.7, 10.0, 20.25, 150.5):
        assert_same(gamma_and_lgamma, x, rtol=1e-13)


@pytest.mark.xfail(reason="libm tgamma differs from CPython's math.gamma by an ulp", strict=False)
def test_gamma_bit_identical_to_cpython():
    """Seed 6031: Ember 0.0 != CPython 1.0."""
    assert_same(gamma_mod, 20.25)
