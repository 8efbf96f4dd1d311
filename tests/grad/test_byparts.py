"""Folded stencil sums summed by parts (lowering/byparts.py) change scalar gradients by
rounding only and nothing else.

On the stencil time loops of test_rowstencil.py: how many gather loops add a sum by parts
(three per group of gather loops, one group per order of the swapped rows, one per sum whose
term is a weight times a linear stencil of the saved row), the value and the array gradients
bitwise those of the same opt_level=3 build without it (both without fastgather.py's flags),
every gradient within 1e-12 relative of the opt_level=1 build (float32: 1e-5); a term that is
not linear in the row keeps foldsums.py's form (central differences: test_rowstencil.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_rowstencil import CASES, assert_close, run

from ember import f64
from ember.lowering import byparts, fastgather

SUMMED = {"heat": 6, "heat_steps0": 6, "heat_n2": 6, "heat_n3": 6, "heat_k_const": 0,
          "heat_k_only": 6, "wide": 6, "wide_n4": 6, "upwind": 6, "advection_diffusion": 6,
          "advection_diffusion_c": 6, "heat32": 6, "in_place": 0}
"""Gather loops adding a sum by parts (advection_diffusion: the Laplacian's sum for k; the
upwind difference's for c keeps its form there, its term being a negated product)."""


def _counted(monkeypatch) -> list[int]:
    calls: list[int] = []
    original = byparts.emit

    def counting(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(byparts, "emit", counting)
    return calls


@pytest.mark.parametrize("name", sorted(SUMMED))
def test_sums_by_parts_keep_value_and_gradient(name, monkeypatch):
    fn, args, wrt, _, rtol = CASES[name]
    calls = _counted(monkeypatch)
    fast = run(fn, args, wrt, 3)
    assert len(calls) == SUMMED[name]
    assert_close(fast, run(fn, args, wrt, 1), rtol)
    # (both without fastgather.py's flags: they let LLVM round the gather loops apart)
    monkeypatch.setattr(fastgather, "fast_gathers", lambda module, spec: 0)
    summed = run(fn, args, wrt, 3)
    monkeypatch.setattr(byparts, "split", lambda e, ops, iv: None)
    plain = run(fn, args, wrt, 3)
    for (a, b), w in zip(zip(summed, plain, strict=True), ("value", *wrt), strict=True):
        if w in ("value", "u0"):
            assert np.array_equal(a, b), w


def product(u0: f64[:], k: float, dt: float, steps: int) -> float:
    """k times a product of the neighbours: the sum for k is not linear in the saved row."""
    n = u0.shape[0]
    u = np.empty(n)
    un = np.empty(n)
    for i in range(n):
        u[i] = u0[i]
    un[0] = u0[0]
    un[n - 1] = u0[n - 1]
    for _ in range(steps):
        for i in range(1, n - 1):
            ui = u[i]
            un[i] = ui + dt * (k * u[i - 1] * u[i + 1] - ui * ui * ui)
        u, un = un, u
    e = 0.0
    for i in range(n):
        e += u[i] * u[i]
    return e


def test_a_term_not_linear_in_the_row_keeps_its_form(monkeypatch):
    rng = np.random.default_rng(5)
    args = (0.5 * rng.standard_normal(10), 0.3, 0.05, 12)
    calls = _counted(monkeypatch)
    fast = run(product, args, ("u0", "k"), 3)
    assert not calls
    assert_close(fast, run(product, args, ("u0", "k"), 1), 1e-12)
