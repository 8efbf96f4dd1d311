"""Differential-test helpers: run a function compiled by Ember and in CPython, compare.

`assert_same(fn, *args)` compiles `fn` with `ember.kernel`, calls the compiled kernel and the
plain Python function on deep copies of the same arguments, and checks that the results and
every array argument (which the kernel may mutate) agree: exactly for ints and bools,
to `rtol` for floats (0 by default: bit-identical unless a test says otherwise).
"""

import copy

import numpy as np

import ember


def _same(got, want, rtol, what):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), f"{what}: {got!r} != {want!r}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _same(g, w, rtol, f"{what}[{i}]")
        return
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), f"{what}: expected an ndarray, got {type(got)}"
        assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
        assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    if want is None:
        assert got is None, f"{what}: {got!r} is not None"
        return
    if rtol == 0 or np.asarray(want).dtype.kind in "biu":
        np.testing.assert_array_equal(got, want, err_msg=what)
    else:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, err_msg=what)


def assert_same(fn, *args, rtol=0.0, kernel=None):
    """Compile `fn` (or use `kernel`), run both versions on copies of `args`, compare all."""
    compiled = kernel if kernel is not None else ember.kernel(fn)
    py_fn = getattr(fn, "py_func", fn)
    py_args = copy.deepcopy(args)
    em_args = copy.deepcopy(args)
    want = py_fn(*py_args)
    got = compiled(*em_args)
    _same(got, want, rtol, "result")
    for i, (g, w) in enumerate(zip(em_args, py_args, strict=True)):
        if isinstance(w, np.ndarray):
            _same(g, w, rtol, f"argument {i} after the call")
    return got


def spy_slow_path(k):
    """Route kernel k's slow (Python) call path through a counter: the returned list grows on
    every call the C dispatcher does not take itself."""
    import dataclasses

    from ember.api.kernel import connect

    compiled = k.compile()
    slow = []

    def entry(*args, **kwargs):
        slow.append(args)
        return compiled.entry(*args, **kwargs)

    connect(k, dataclasses.replace(compiled, entry=entry))
    return slow


def value_and_grad_leaves(result) -> list[np.ndarray]:
    """A `value_and_grad` result as a flat list of float64 arrays: the value, then each
    gradient."""
    value, grads = result
    grads = grads if isinstance(grads, tuple) else (grads,)
    return [np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (value, *grads)]


def assert_close_leaves(got, want, what, rel=1e-12) -> None:
    """Each array of `got` within `rel` of the largest magnitude of its `want` counterpart."""
    for g, w in zip(got, want, strict=True):
        scale = max(float(np.max(np.abs(w))), 1e-300)
        assert np.max(np.abs(g - w)) <= rel * scale, what
