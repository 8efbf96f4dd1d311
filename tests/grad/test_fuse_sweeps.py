"""A reverse loop fused into the forward loop it mirrors (lowering/fusesweeps.py, opt_level >= 2).

Each kernel is built with the rewrite and without it (the same opt_level 3 build otherwise):
values and array gradients bitwise equal (the fused loop computes every element with the
same operations), a scalar's (a sum the reverse loop carries) within 1e-12, all within 1e-12
of opt_level=1, against central finite differences, and the number
of fused loop pairs is what the kernel's shape allows: map-reduces fuse; a reverse loop that
needs the forward loop's result (a seed scaled by the sum), one whose iterations are not
independent (a recurrence), loops inside two loop nests and loops with no math function to
share (a least-squares loss) stay apart.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import ember
from ember import f64
from ember.lowering import fusesweeps
from tests.helpers import assert_close_leaves, value_and_grad_leaves


def sum_sin_sq(x: f64[:]) -> float:
    s = 0.0
    for i in range(x.shape[0]):
        s += math.sin(x[i] * x[i])
    return s


def weighted_exp(x: f64[:], w: f64[:], c: float) -> float:
    s = 0.0
    for i in range(x.shape[0]):
        s += w[i] * math.exp(c * x[i]) + math.log(1.0 + x[i] * x[i])
    return s


def two_sums(x: f64[:], y: f64[:]) -> float:
    a = 0.0
    for i in range(x.shape[0]):
        a += math.cos(x[i]) * y[i]
    b = 0.0
    for i in range(y.shape[0]):
        b += math.sin(y[i])
    return a + 2.0 * b


def linreg(a: float, b: float, x: f64[:], y: f64[:]) -> float:
    """A least-squares loss of two scalars: the reverse loop carries da and db."""
    s = 0.0
    for i in range(x.shape[0]):
        r = a * x[i] + b - y[i]
        s += r * r
    return s


def rows_of_sums(a: f64[:, :]) -> float:
    s = 0.0
    for i in range(a.shape[0]):
        r = 0.0
        for j in range(a.shape[1]):
            r += math.tanh(a[i, j])
        s += r
    return s


def squared_sum(x: f64[:]) -> float:
    """The reverse loop's seed is 2 * s: it needs the forward loop's result."""
    s = 0.0
    for i in range(x.shape[0]):
        s += math.sin(x[i])
    return s * s


def prefix(x: f64[:]) -> float:
    """A recurrence: the reverse iterations depend on each other."""
    p = 1.0
    s = 0.0
    for i in range(x.shape[0]):
        p = p * 0.5 + math.sin(x[i])
        s += p
    return s


def _inputs(n: int, kernel) -> tuple:
    rng = np.random.default_rng(n)
    x, y = rng.uniform(-1.5, 1.5, n), rng.uniform(-1.0, 1.0, n)
    table = {sum_sin_sq: (x,), weighted_exp: (x, y, 0.7), two_sums: (x, y),
             rows_of_sums: (rng.uniform(-2, 2, (max(n // 7, 1), 7)),), linreg: (0.3, -0.2, x, y), squared_sum: (x,),
             prefix: (x,)}
    return table[kernel]


CASES = {  # kernel, wrt, the fewest fused pairs expected (None: exactly none)
    "sum_sin_sq": (sum_sin_sq, ("x",), 1),
    "weighted_exp": (weighted_exp, ("x", "w", "c"), 1),  # the reverse loop carries dc
    "weighted_exp_x": (weighted_exp, ("x", "w"), 1),
    "two_sums": (two_sums, ("x", "y"), 1),
    "linreg": (linreg, ("a", "b"), None),  # no math function to share: left apart
    "rows_of_sums": (rows_of_sums, ("a",), None),  # the inner loops sit in two loop nests
    "squared_sum": (squared_sum, ("x",), None),
    "prefix": (prefix, ("x",), None),
}


def _build(fn, wrt, opt_level, monkeypatch, fuse=True, counts=None):
    with monkeypatch.context() as m:
        real = fusesweeps.fuse_sweeps

        def counted(module, spec):
            done = real(module, spec)
            if counts is not None:
                counts.append(done)
            return done

        m.setattr(fusesweeps, "fuse_sweeps", counted if fuse else lambda module, spec: 0)
        vg = ember.value_and_grad(ember.kernel(fn, opt_level=opt_level, cache=False), wrt=wrt)
        vg.compile()
    return vg


@pytest.mark.parametrize("name", list(CASES))
def test_fused_sweeps_are_bitwise(name, monkeypatch):
    fn, wrt, fused = CASES[name]
    counts: list[int] = []
    fast = _build(fn, wrt, 3, monkeypatch, counts=counts)
    apart = _build(fn, wrt, 3, monkeypatch, fuse=False)
    plain = _build(fn, wrt, 1, monkeypatch)
    if fused is None:
        assert sum(counts) == 0
    else:
        assert sum(counts) >= fused
    for n in (0, 1, 5, 64, 1001):
        args = _inputs(n, fn)
        got = value_and_grad_leaves(fast(*copy.deepcopy(args)))
        want = value_and_grad_leaves(apart(*copy.deepcopy(args)))
        exact = [w.size > 1 or k == 0 for k, w in enumerate(want)]  # scalars: carried sums
        assert all(np.array_equal(a, b) for a, b, e in zip(got, want, exact, strict=True) if e)
        if n:
            assert_close_leaves(got, want, (name, n))
        # (d/dc is a sum that adjointsums.py may reorder: within 1e-12 of opt_level=1)
        if n:
            want = value_and_grad_leaves(plain(*copy.deepcopy(args)))
            assert_close_leaves(got, want, (name, n))
        assert got[0][0] == ember.kernel(fn)(*copy.deepcopy(args))
        if n == 5:
            ember.check_grad(ember.kernel(fn), *args, wrt=wrt)

