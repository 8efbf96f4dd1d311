"""A construct Ember/Enzyme cannot differentiate must raise `ember.CompileError` at the user's
line, naming the operation — never return a result (a wrong gradient is the worst outcome).
math.gamma and math.lgamma have no derivative (no digamma); the primal kernels still run."""

import math
import re

import numpy as np
import pytest

from ember import CompileError, check_grad, f64, grad, jvp, kernel, value_and_grad, vjp


def uses_lgamma(x: float) -> float:
    y = x * 2.0
    return math.lgamma(y) + y  # LINE-LGAMMA


def uses_gamma_in_loop(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        s += math.gamma(x[i]) * x[i]  # LINE-GAMMA
    return s


@kernel
def helper_gamma(x: float) -> float:
    return math.gamma(x + 1.0)  # LINE-HELPER


def calls_gamma(x: float) -> float:
    return helper_gamma(x) * 3.0


def gamma_of_constant(x: float, n: int) -> float:
    return math.lgamma(float(n)) * x


def _line(tag: str) -> int:
    with open(__file__) as f:
        for number, text in enumerate(f, 1):
            if f"# {tag}" in text and "def _line" not in text and "tag" not in text:
                return number
    raise AssertionError(tag)


def _assert_points_at(err: CompileError, op: str, tag: str) -> None:
    text = str(err)
    assert op in err.message, text
    assert re.search(rf'File ".*test_not_differentiable\.py", line {_line(tag)}\b', text), text
    assert f"math.{op}(" in text, text  # the source line is shown
    assert "^" in text, text
    assert "ember/" not in text.split("note:")[0], text  # no compiler file names


def test_lgamma_under_grad_raises_at_user_line():
    assert kernel(uses_lgamma)(1.5) == pytest.approx(math.lgamma(3.0) + 3.0)
    with pytest.raises(CompileError) as info:
        grad(uses_lgamma)(1.5)
    _assert_points_at(info.value, "lgamma", "LINE-LGAMMA")


def test_gamma_in_loop_under_grad_raises_at_user_line():
    with pytest.raises(CompileError) as info:
        grad(uses_gamma_in_loop)(np.array([1.5, 2.5]))
    _assert_points_at(info.value, "gamma", "LINE-GAMMA")


@pytest.mark.parametrize("transform", ["value_and_grad", "jvp", "vjp", "check_grad"])
def test_every_transform_refuses(transform):
    x = np.array([1.5, 2.5])
    with pytest.raises(CompileError) as info:
        if transform == "value_and_grad":
            value_and_grad(uses_gamma_in_loop)(x)
        elif transform == "jvp":
            jvp(uses_gamma_in_loop)(x, tangents=(np.ones(2),))
        elif transform == "vjp":
            vjp(uses_gamma_in_loop)(x, cotangents=(1.0,))
        else:
            check_grad(uses_gamma_in_loop, x)
    _assert_points_at(info.value, "gamma", "LINE-GAMMA")


def test_gamma_in_called_kernel_points_at_callee_line():
    with pytest.raises(CompileError) as info:
        grad(calls_gamma)(0.7)
    text = str(info.value)
    assert "gamma" in info.value.message, text
    assert f"line {_line('LINE-HELPER')}" in text, text


def test_lgamma_of_a_constant_is_fine():
    # lgamma(n) does not depend on x: it is a constant, as in JAX
    assert grad(gamma_of_constant)(0.5, 5) == pytest.approx(math.lgamma(5.0))
