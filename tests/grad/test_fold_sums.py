"""Sums and zeroing folded into the gather loops (lowering/foldsums.py) keep the
gradient.

The `heat` workload and the stencil variants of test_rowstencil.py (wider, one-sided, two
parameters, float32, steps=0, the smallest grids, `k` not differentiated, an in-place sweep)
give the same value and gradients at opt_level=3 as at opt_level=1 within 1e-12 relative
(float32: 1e-5); against the same opt_level=3 build without `fold_sums`, the value and the
array gradients are bitwise equal and the scalar ones (reordered sums) within 1e-13. The
folds fire where expected: one sum per differentiated scalar parameter read by the stencil,
and the zeroing loop of the adjoint row removed with it. The two versions of the reverse
stencil loop, one per order of the swapped adjoint rows, give bitwise what one version behind a
run-time pointer check gives (the scalar sums within the tolerance).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from test_rowstencil import CASES, W, assert_close, run

import ember
from ember.lowering import byparts, fastgather, foldsums, gather

FOLDS = {  # name -> (sums moved, zeroing loops removed), per version of the reverse stencil
    # loop (gather.py makes one per order of the two swapped adjoint rows)
    "heat": (1, 1), "heat_steps0": (1, 1), "heat_n2": (1, 1), "heat_n3": (1, 1),
    "heat_k_const": (0, 0), "heat_k_only": (1, 1), "wide": (1, 1), "wide_n4": (1, 1),
    "upwind": (1, 1), "advection_diffusion": (2, 1), "advection_diffusion_c": (1, 1),
    "heat32": (1, 1), "in_place": (0, 0),
}
VERSIONS = 2


def _counted(monkeypatch):
    """Count the sums `fold_sums` moves and the zeroing loops it removes."""
    counts = {"sums": 0, "stores": 0}
    fold, movable = foldsums.fold_sums, foldsums._movable_stores

    def counting_fold(module, spec):
        n = fold(module, spec)
        counts["sums"] += n
        return n

    def counting_movable(loop):
        found = movable(loop)
        counts["stores"] += bool(found)
        return found

    monkeypatch.setattr(foldsums, "fold_sums", counting_fold)
    monkeypatch.setattr(foldsums, "_movable_stores", counting_movable)
    return counts


@pytest.mark.parametrize("name", sorted(FOLDS))
def test_folded_sums_keep_the_gradient(name, monkeypatch):
    fn, args, wrt, _, rtol = CASES[name]
    counts = _counted(monkeypatch)
    fast = run(fn, args, wrt, 3)
    sums, stores = FOLDS[name]
    assert (counts["sums"], counts["stores"]) == (VERSIONS * sums, VERSIONS * stores)
    assert_close(fast, run(fn, args, wrt, 1), rtol)


@pytest.mark.parametrize("name", ["heat", "wide", "upwind", "advection_diffusion", "heat_n3"])
def test_only_the_scalar_sums_change(name, monkeypatch):
    """Without `fold_sums` (the same opt_level=3 build otherwise): the value and the array
    gradient bitwise equal, the scalar gradients (sums in another order) within 1e-13."""
    fn, args, wrt, _, _ = CASES[name]
    # (both without fastgather.py's flags: they round the two builds' gather loops apart)
    monkeypatch.setattr(fastgather, "fast_gathers", lambda module, spec: 0)
    fast = run(fn, args, wrt, 3)
    monkeypatch.setattr(foldsums, "fold_sums", lambda module, spec: 0)
    unfolded = run(fn, args, wrt, 3)
    for (a, b), w in zip(zip(fast, unfolded, strict=True), ("value", *wrt), strict=True):
        if w in ("value", "u0"):
            assert np.array_equal(a, b), w
        else:
            assert np.max(np.abs(a - b)) <= 1e-13 * max(np.max(np.abs(b)), 1e-300), w


def test_repeated_calls_give_the_same_gradient():
    """The folded loops keep no state between calls (the zeroing they took over included)."""
    args = W.make_heat(25, n=9)
    vg = ember.value_and_grad(ember.kernel(W.heat, cache=False), wrt=("u0", "k"))
    first = vg(*copy.deepcopy(args))
    for _ in range(3):
        again = vg(*copy.deepcopy(args))
        assert again[0] == first[0] and again[1][1] == first[1][1]
        assert np.array_equal(again[1][0], first[1][0])


@pytest.mark.parametrize("name", ["heat", "advection_diffusion", "heat32", "heat_n2"])
def test_one_version_per_order_of_the_swapped_rows(name, monkeypatch):
    """The two versions for the two orders of the swapped adjoint rows give bitwise what the
    one version behind a run-time check of the base pointers gives (the scalar sums: within
    the tolerance, LLVM may vectorize the sum of each version differently)."""
    fn, args, wrt, _, rtol = CASES[name]
    # (both without byparts.py's sums by parts: the check's version cannot tell the rows apart
    # and keeps the folded form, and LLVM's contractions then round the array gradient apart)
    monkeypatch.setattr(byparts, "split", lambda e, ops, iv: None)
    fast = run(fn, args, wrt, 3)
    monkeypatch.setattr(gather, "_swapped_pair", lambda lp: None)
    checked = run(fn, args, wrt, 3)
    for (a, b), w in zip(zip(fast, checked, strict=True), ("value", *wrt), strict=True):
        if w in ("value", "u0"):
            assert np.array_equal(a, b), w
        else:
            assert np.max(np.abs(a - b)) <= rtol * max(np.max(np.abs(b)), 1e-300), w
