"""Optional parameters: `X | None`, `Optional[X]` and a default of None. A None argument
selects a build of its own (no run-time boxing) in which `w is None` is the constant True and
the dead branch is never typed; `is None` on any other value is False."""

from typing import Optional

import numpy as np
import pytest

import ember
from ember import f64


@ember.kernel
def weighted(x: f64[:], w: f64[:] | None = None, scale: Optional[float] = None,  # noqa: UP045 - the typing spelling
             clip: float | None = None) -> float:
    if w is None:
        w = np.ones(x.shape[0])
    s = 0.0
    for i in range(x.shape[0]):
        v = x[i] * w[i]
        if clip is not None and v > clip:
            v = clip
        s += v
    if scale is not None:
        s *= scale
    done = x is not None and not (scale is None or w is None)
    return s + (1000.0 if done else 0.0)


@ember.kernel
def fill(out: f64[:], w: f64[:] | None = None) -> None:
    for i in range(out.shape[0]):
        out[i] = w[i] * 2.0 if w is not None else -1.0


@ember.kernel
def caller(x: f64[:], w: f64[:]) -> float:
    return weighted(x) + 10.0 * weighted(x, w, 2.0) + 100.0 * weighted(x, None, clip=0.5)


@ember.kernel
def passes_on(x: f64[:], w: f64[:] | None = None) -> float:
    return weighted(x, w, 3.0)


X = np.array([0.25, 1.0, 2.0])
W = np.array([2.0, -1.0, 0.5])
CALLS = [(X,), (X, W), (X, None, 2.0), (X, W, None, 0.75), (X, None, None, 0.5), (X, W, 3.0)]


@pytest.mark.parametrize("args", CALLS)
def test_values_as_cpython(args):
    assert weighted(*args) == weighted.py_func(*args)


def test_one_build_per_pattern_of_nones():
    for args in CALLS:
        weighted(*args)
    patterns = {()} | set(weighted._specs) | {weighted.compile().signature.binding.none}
    assert ("w", "scale", "clip") in patterns and ("scale",) in patterns
    assert len(weighted.compile().signature.params) == 1  # the None parameters are not passed


def test_array_store_branches_and_keywords():
    out = np.zeros(3)
    fill(out)
    assert out.tolist() == [-1.0, -1.0, -1.0]
    fill(out, w=W)
    assert out.tolist() == (2.0 * W).tolist()


def test_kernel_calls_pass_none():
    from e2e_support import pure

    assert caller(X, W) == pure(caller.py_func)(X, W)
    assert passes_on(X) == pure(passes_on.py_func)(X)
    assert passes_on(X, W) == pure(passes_on.py_func)(X, W)


def test_wrong_values_are_rejected():
    with pytest.raises(TypeError):
        weighted(X, 1.5)
    with pytest.raises(TypeError):
        weighted(X, None, "a")
