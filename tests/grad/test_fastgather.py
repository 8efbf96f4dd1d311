"""Fast-math flags on the gather loops' float ops (lowering/fastgather.py) change gradients
by rounding only and never the value.

On the stencil time loops of test_rowstencil.py (heat, wider, one-sided and float32
stencils, steps=0, the smallest grids, `k` not differentiated): the value is bitwise that of
the same opt_level=3 build without the flags, the gradients within 1e-12 relative of the
opt_level=1 build (float32: 1e-5; central differences: test_rowstencil.py); a gather loop of the primal
sweep (a scatter-form loop the kernel's result, or an array it writes, is made from) is never
marked.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_rowstencil import CASES, assert_close, counted, run

import ember
from ember import f64
from ember.lowering import fastgather, gather

MARKED = {"heat": 6, "heat_steps0": 6, "heat_k_const": 6, "wide": 6, "upwind": 6,
          "heat32": 6, "heat_n3": 6}
"""Gather loops marked (three per group: head, main and tail loop; one group per order of
the swapped rows); the other cases only need the gradients to agree."""


@pytest.mark.parametrize("name", sorted(CASES))
def test_fast_gathers_keep_value_and_gradient(name, monkeypatch):
    fn, args, wrt, _, rtol = CASES[name]
    marked = counted(monkeypatch, fastgather, "fast_gathers")
    fast = run(fn, args, wrt, 3)
    if name in MARKED:
        assert sum(marked) == MARKED[name]
    assert_close(fast, run(fn, args, wrt, 1), rtol)
    monkeypatch.setattr(fastgather, "fast_gathers", lambda module, spec: 0)
    unmarked = run(fn, args, wrt, 3)
    assert np.array_equal(fast[0], unmarked[0])


def spread(x: f64[:], w: float) -> float:
    """A primal scatter-form loop (each x[i] added to h[i-1], h[i], h[i+1]) whose buffer
    makes the result: gather.py rewrites it, fastgather.py must leave it unmarked."""
    n = x.shape[0]
    h = np.zeros(n + 2)
    for i in range(n):
        xi = x[i] * w
        h[i] = h[i] + 0.25 * xi
        h[i + 1] = h[i + 1] + (0.5 * xi + xi * xi * 0.1)
        h[i + 2] = h[i + 2] + 0.25 * xi
    e = 0.0
    for j in range(n + 2):
        e += h[j] * h[j] * h[j]
    return e


def test_primal_gather_loops_stay_unmarked(monkeypatch):
    x = np.random.default_rng(5).standard_normal(40)
    marked = counted(monkeypatch, fastgather, "fast_gathers")
    rewritten = []
    original = gather.gather_scatter

    def counting(module, spec):
        rewritten.append(original(module, spec))
        return rewritten[-1]

    monkeypatch.setattr(gather, "gather_scatter", counting)
    fast = run(spread, (x, 0.7), ("x", "w"), 3)
    assert sum(rewritten) >= 1 and sum(marked) == 0
    plain = run(spread, (x, 0.7), ("x", "w"), 1)
    assert np.array_equal(fast[0], plain[0])
    for a, b in zip(fast[1:], plain[1:], strict=True):
        assert np.max(np.abs(a - b)) <= 1e-12 * np.max(np.abs(b))


def spread_into(x: f64[:], w: float, out: f64[:]) -> float:
    """`spread`'s scatter loop writing an array argument (a primal result the caller sees)
    while the returned value does not depend on it."""
    n = x.shape[0]
    h = np.zeros(n + 2)
    for i in range(n):
        xi = x[i] * w
        h[i] = h[i] + 0.25 * xi
        h[i + 1] = h[i + 1] + (0.5 * xi + xi * xi * 0.1)
        h[i + 2] = h[i + 2] + 0.25 * xi
    for j in range(n + 2):
        out[j] = h[j] * h[j] * h[j]
    return x[0] * w


def test_array_results_stay_unmarked(monkeypatch):
    x = np.random.default_rng(6).standard_normal(40)
    marked = counted(monkeypatch, fastgather, "fast_gathers")
    outs = []
    for level in (3, 1):
        out = np.zeros(42)
        vg = ember.value_and_grad(ember.kernel(spread_into, opt_level=level, cache=False),
                                  wrt=("x", "w"))
        value, _ = vg(x, 0.7, out)
        outs.append((value, out))
    assert sum(marked) == 0
    assert outs[0][0] == outs[1][0] and np.array_equal(outs[0][1], outs[1][1])
    reference = np.zeros(42)
    spread_into(x, 0.7, reference)
    assert np.max(np.abs(outs[0][1] - reference)) <= 1e-12 * np.max(np.abs(reference))
