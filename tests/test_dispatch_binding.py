"""The C dispatcher binds defaults, keywords, tuple and None arguments itself: such calls
stay on the fast path (the slow Python entry is never reached), and anything it cannot bind
(an unknown keyword, a list for a tuple, None where this build takes a value) falls to the
slow path, which raises CPython's error or picks the build of that None-pattern."""

from typing import NamedTuple

import numpy as np
import pytest
from helpers import spy_slow_path

import ember
from ember import f64, i64


class Box(NamedTuple):
    lo: f64[:]
    width: float


@ember.kernel
def f(x: f64[:], p: float = 2.0, w: f64[:] | None = None, *, t: tuple[i64, i64] = (1, 2),
      b: Box = None) -> float:
    s = x[0] ** p + t[0] * 10 + t[1] * 100
    if w is not None:
        s += w[0] * 1000
    if b is not None:
        s += b.lo[0] * b.width
    return s




X, W = np.array([3.0]), np.array([0.5])


def test_fast_path_binds_defaults_keywords_and_tuples():
    slow = spy_slow_path(f)
    assert f.compile().bound[0] == "AdN(qq)N"  # this build: w and b are None
    calls = [((X,), {}), ((X, 1.0), {}), ((X,), {"p": 0.5}), ((), {"x": X, "t": (3, 4)}),
             ((X, 2.0, None), {"t": (5, 6)})]
    for args, kwargs in calls:
        assert f(*args, **kwargs) == f.py_func(*args, **kwargs)
    assert slow == []


def test_mismatches_take_the_slow_path():
    slow = spy_slow_path(f)
    assert f(X, w=W) == f.py_func(X, w=W)  # another None-pattern: another build
    assert f(X, b=Box(W, 2.0)) == f.py_func(X, b=Box(W, 2.0))
    with pytest.raises(TypeError, match=r"f\(\) got an unexpected keyword argument 'q'"):
        f(X, q=1)
    with pytest.raises(TypeError, match=r"argument 't' must be a tuple of 2 items, got list"):
        f(X, t=[1, 2])
    with pytest.raises(TypeError, match=r"f\(\) takes from 1 to 3 positional arguments"):
        f(X, 1.0, None, 4)
    assert len(slow) == 5


def test_tuple_groups_and_named_tuples_on_the_fast_path():
    @ember.kernel
    def g(b: Box, t: tuple[f64[:], float] = (np.zeros(0), 1.0)) -> float:  # noqa: B008
        return b.lo[0] * b.width + t[1]

    with pytest.raises(ember.CompileError, match="default value"):
        g(Box(W, 2.0))

    @ember.kernel
    def h(b: Box, t: tuple[f64[:], float]) -> float:
        return b.lo[0] * b.width + t[0][0] * t[1]

    h(Box(W, 2.0), (X, 1.0))
    slow = spy_slow_path(h)
    assert h.compile().bound[0] == "(Ad)(Ad)"
    assert h(Box(W, 2.0), (X, 3.0)) == 10.0
    assert h((W, 2.0), t=(X, 3.0)) == 10.0
    assert slow == []


def test_binding_survives_the_disk_cache_metadata():
    from ember.runtime.abi import decode_signature, encode_signature

    sig = f.compile().signature
    assert sig.binding is not None and sig.binding.params[3].items == ("t_0", "t_1")
    again = decode_signature(encode_signature(sig))
    assert again == sig and again.binding.params[3].default == (1, 2)


def test_recursive_kernels_with_defaults():
    @ember.kernel
    def count(n: int, acc: int = 0, step: tuple[int, int] = (1, 1)) -> int:
        if n <= 0:
            return acc
        return count(n - step[0], acc=acc + step[1])

    assert count(5) == 5 and count(6, step=(2, 3)) == count.py_func(6, step=(2, 3)) == 7


def test_keywords_of_plain_kernels_stay_fast():
    @ember.kernel
    def axpy(a: float, x: f64[:], y: f64[:]) -> float:
        return a * x[0] + y[0]

    axpy(1.0, X, W)
    assert axpy.compile().signature.binding is None  # plain: positional calls as before
    slow = spy_slow_path(axpy)
    assert axpy(2.0, y=W, x=X) == axpy(a=2.0, x=X, y=W) == 6.5
    assert slow == []
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        axpy(2.0, X, z=W)
    assert len(slow) == 1


def test_the_first_call_picks_the_build_the_fast_path_serves():
    @ember.kernel
    def dot(x: f64[:], w: f64[:] | None = None) -> float:
        return x[0] * (w[0] if w is not None else 1.0)

    assert dot(X, W) == 1.5  # the first call passes w: its build serves the fast path
    assert dot.compile().signature.binding.none == ()
    slow = spy_slow_path(dot)
    assert dot(X, w=W) == 1.5 and slow == []
    assert dot(X) == 3.0 and len(slow) == 1  # the defaults' build: the slow path
