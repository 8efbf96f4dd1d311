"""Shared pieces of the end-to-end differential tests (tests/e2e).

`assert_same` deep-copies its arguments, and a deep copy of a numpy view is a fresh contiguous
array, so a strided view would reach the kernel as a plain contiguous array. `assert_same_view`
rebuilds the view from each (copied) base array on both sides instead: the kernel really
receives the non-contiguous view, and its writes are compared through the base.

`pure(fn)` returns a copy of `fn` whose module globals that are Ember kernels are replaced by
their plain Python functions, so the CPython reference of a kernel-calling kernel never runs
compiled code.
"""

import types

import numpy as np
from helpers import assert_same

import ember


def assert_same_view(fn, view, base, *rest, rtol=0.0, contiguous_ok=False):
    """assert_same(fn, view(base), *rest), keeping `view(base)` a real view on both sides."""
    compiled = ember.kernel(fn)

    def make(b):
        v = view(b)
        assert isinstance(v, np.ndarray) and v.base is not None, "view() must return a view"
        if not contiguous_ok and v.size > 1:
            assert not v.flags.c_contiguous, "the test means to pass a non-C-contiguous view"
        return v

    def py_side(b, *r):
        return fn(make(b), *r)

    def em_side(b, *r):
        return compiled(make(b), *r)

    return assert_same(py_side, base, *rest, rtol=rtol, kernel=em_side)


def _raw(obj):
    raw = getattr(obj, "py_func", None)
    return raw if isinstance(raw, types.FunctionType) else None


def pure(fn):
    """A copy of `fn` (kernel or function) calling plain-Python versions of every global kernel."""
    fn = _raw(fn) or fn
    env = dict(fn.__globals__)
    for name, value in fn.__globals__.items():
        raw = _raw(value)
        if raw is not None:
            env[name] = types.FunctionType(raw.__code__, env, raw.__name__, raw.__defaults__)
            env[name].__kwdefaults__ = raw.__kwdefaults__
    out = types.FunctionType(fn.__code__, env, fn.__name__, fn.__defaults__, fn.__closure__)
    out.__kwdefaults__ = fn.__kwdefaults__
    return out
