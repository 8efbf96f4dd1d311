"""Stencil values recomputed from the saved row (lowering/rowstencil.py) change no gradient.

Time loops over two swapped arrays (the `heat` workload and variants: wider, one-sided and
float32 stencils, steps=0, the smallest grids, `k` not differentiated) give the same value
and gradients at opt_level=3 (the rewrite on) as at opt_level=1 (no derivative
optimizations), within 1e-12 relative (float32: 1e-5, the reordered `dk` sum of
lowering/adjointsums.py), and bitwise the same as opt_level=3 without the rewrite; the rewrite
fires where the module docstring says it may, and leaves alone a loop that writes the array
it reads.
"""

from __future__ import annotations

import copy
import os
import sys

import numpy as np
import pytest

import ember
from ember import f32, f64
from ember.lowering import byparts, fastgather, rowstencil

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import grad_workloads as W  # noqa: E402


def wide(u0: f64[:], k: float, dt: float, steps: int) -> float:
    """A five-point stencil (u[i-2] .. u[i+2]) with a cubic term on two swapped arrays."""
    n = u0.shape[0]
    u = np.empty(n)
    un = np.empty(n)
    for i in range(n):
        u[i] = u0[i]
        un[i] = u0[i]
    for _ in range(steps):
        for i in range(2, n - 2):
            ui = u[i]
            lap = -u[i - 2] + 16.0 * u[i - 1] - 30.0 * ui + 16.0 * u[i + 1] - u[i + 2]
            un[i] = ui + dt * (k * lap / 12.0 - ui * ui * ui)
        u, un = un, u
    e = 0.0
    for i in range(n):
        e += u[i] * u[i]
    return e


def upwind(u0: f64[:], c: float, dt: float, steps: int) -> float:
    """One-sided differences (u[i-1], u[i]) with a nonlinear term: no element after the
    loop's range is read."""
    n = u0.shape[0]
    u = np.empty(n)
    un = np.empty(n)
    for i in range(n):
        u[i] = u0[i]
        un[i] = u0[i]
    for _ in range(steps):
        for i in range(1, n):
            ui = u[i]
            un[i] = ui - dt * (c * (ui - u[i - 1]) + 0.1 * ui * ui)
        u, un = un, u
    e = 0.0
    for i in range(n):
        e += u[i] * u[i] * u[i]
    return e


def advection_diffusion(u0: f64[:], k: float, c: float, dt: float, steps: int) -> float:
    """Two values saved per element (the Laplacian for k, the upwind difference for c): both
    recomputed from the one saved row."""
    n = u0.shape[0]
    u = np.empty(n)
    un = np.empty(n)
    for i in range(n):
        u[i] = u0[i]
        un[i] = u0[i]
    for _ in range(steps):
        for i in range(1, n - 1):
            ui = u[i]
            un[i] = ui + dt * (k * (u[i - 1] - 2.0 * ui + u[i + 1]) - c * (ui - u[i - 1])
                               - ui * ui * ui)
        u, un = un, u
    e = 0.0
    for i in range(n):
        e += u[i] * u[i]
    return e


def heat32(u0: f32[:], k: f32, dt: f32, steps: int) -> f32:
    """The heat workload in float32."""
    n = u0.shape[0]
    u = np.empty(n, dtype=np.float32)
    un = np.empty(n, dtype=np.float32)
    for i in range(n):
        u[i] = u0[i]
    un[0] = u0[0]
    un[n - 1] = u0[n - 1]
    for _ in range(steps):
        for i in range(1, n - 1):
            ui = u[i]
            un[i] = ui + dt * (k * (u[i - 1] - np.float32(2.0) * ui + u[i + 1]) - ui * ui * ui)
        u, un = un, u
    e = np.float32(0.0)
    for i in range(n):
        e += u[i] * u[i]
    return e


def in_place(u: f64[:], k: float, steps: int) -> float:
    """A sweep that writes the array it reads (u[i-1] is already the new value): the saved
    row is not what the step read, so the rewrite must not fire."""
    n = u.shape[0]
    for _ in range(steps):
        for i in range(1, n - 1):
            ui = u[i]
            u[i] = ui + 0.1 * (k * (u[i - 1] - 2.0 * ui + u[i + 1]) - ui * ui * ui)
    e = 0.0
    for i in range(n):
        e += u[i] * u[i]
    return e


def _heat_args(steps, n):
    return W.make_heat(steps, n=n)


RNG = np.random.default_rng(3)
U12 = 0.5 * RNG.standard_normal(12)

CASES = {  # name -> (kernel, args, wrt, rewrites expected, relative tolerance)
    "heat": (W.heat, _heat_args(30, 12), ("u0", "k"), 1, 1e-12),
    "heat_steps0": (W.heat, _heat_args(0, 8), ("u0", "k"), 1, 1e-12),
    "heat_n2": (W.heat, _heat_args(5, 2), ("u0", "k"), 1, 1e-12),
    "heat_n3": (W.heat, _heat_args(5, 3), ("u0", "k"), 1, 1e-12),
    "heat_k_const": (W.heat, _heat_args(30, 12), ("u0",), 0, 1e-12),
    "heat_k_only": (W.heat, _heat_args(30, 12), ("k",), 1, 1e-12),
    "wide": (wide, (U12, 0.3, 0.05, 20), ("u0", "k"), 1, 1e-12),
    "wide_n4": (wide, (U12[:4], 0.3, 0.05, 3), ("u0", "k"), 1, 1e-12),
    "upwind": (upwind, (U12, 0.7, 0.1, 25), ("u0", "c"), 1, 1e-12),
    "advection_diffusion": (advection_diffusion, (U12, 0.3, 0.4, 0.1, 20), ("u0", "k", "c"),
                            2, 1e-12),
    "advection_diffusion_c": (advection_diffusion, (U12, 0.3, 0.4, 0.1, 20), ("c",), 1,
                              1e-12),
    "heat32": (heat32, (U12.astype(np.float32), np.float32(0.2), np.float32(0.5), 20),
               ("u0", "k"), 1, 1e-5),
    "in_place": (in_place, (U12, 0.4, 15), ("u", "k"), 0, 1e-12),
}


def run(fn, args, wrt, opt_level):
    """[value, *gradients] of `fn` built at `opt_level`, as float64 arrays (shared by
    test_fold_sums.py and test_fastgather.py)."""
    vg = ember.value_and_grad(ember.kernel(fn, opt_level=opt_level, cache=False), wrt=wrt)
    value, grads = vg(*copy.deepcopy(args))
    grads = grads if isinstance(grads, tuple) else (grads,)
    return [np.atleast_1d(np.asarray(value, dtype=np.float64))] + \
        [np.atleast_1d(np.asarray(g, dtype=np.float64)) for g in grads]


def counted(monkeypatch, module, name) -> list[int]:
    """The counts `module.name` returns, one per call, from now on in the test."""
    counts: list[int] = []
    original = getattr(module, name)

    def counting(*args):
        counts.append(original(*args))
        return counts[-1]

    monkeypatch.setattr(module, name, counting)
    return counts


def assert_close(fast, plain, rtol):
    """Every array of `fast` finite and within `rtol` (relative to its largest element) of
    `plain`'s."""
    for a, b in zip(fast, plain, strict=True):
        assert np.all(np.isfinite(a))
        assert np.max(np.abs(a - b)) <= rtol * max(np.max(np.abs(b)), 1e-300), (a, b)


@pytest.mark.parametrize("name", sorted(CASES))
def test_recomputed_rows_keep_the_gradient(name, monkeypatch):
    fn, args, wrt, expected, rtol = CASES[name]
    fired = counted(monkeypatch, rowstencil, "recompute_rows")
    fast = run(fn, args, wrt, 3)
    assert sum(fired) == expected
    assert_close(fast, run(fn, args, wrt, 1), rtol)


@pytest.mark.parametrize("name", ["heat", "heat32", "wide", "upwind", "advection_diffusion"])
def test_recomputed_rows_are_bitwise_the_saved_ones(name, monkeypatch):
    """The same opt_level=3 build without the rewrite gives bitwise the same results: the
    recomputation repeats the forward pass's operations on the same elements."""
    fn, args, wrt, _, _ = CASES[name]
    # (both without fastgather.py's flags and byparts.py's sums by parts: they round the two
    # builds' gather loops apart; byparts.py needs the recomputed row)
    monkeypatch.setattr(fastgather, "fast_gathers", lambda module, spec: 0)
    monkeypatch.setattr(byparts, "split", lambda e, ops, iv: None)
    fast = run(fn, args, wrt, 3)
    monkeypatch.setattr(rowstencil, "recompute_rows", lambda module, spec: 0)
    saved = run(fn, args, wrt, 3)
    for a, b in zip(fast, saved, strict=True):
        assert np.array_equal(a, b)


def test_heat_gradient_matches_finite_differences():
    """The heat gradient against central differences, with every rewrite of its derivative
    (rowstencil, gather and its folded sums, fastgather) firing."""
    u0, k, dt, steps = W.make_heat(60, n=16)
    _, (du0, dk) = ember.value_and_grad(ember.kernel(W.heat, cache=False),
                                       wrt=("u0", "k"))(u0, k, dt, steps)
    h = 1e-6
    fd_k = (W.heat(u0, k + h, dt, steps) - W.heat(u0, k - h, dt, steps)) / (2 * h)
    assert abs(dk - fd_k) <= 1e-6 * max(1.0, abs(fd_k))
    for j in (0, 1, 7, 14, 15):
        e = np.zeros_like(u0)
        e[j] = h
        fd = (W.heat(u0 + e, k, dt, steps) - W.heat(u0 - e, k, dt, steps)) / (2 * h)
        assert abs(du0[j] - fd) <= 1e-6 * max(1.0, abs(fd))


def test_hessian_vector_product_through_the_rewrite():
    """Forward mode over the rewritten reverse pass (hvp: the rewrite runs in the
    second-order build too) gives the unoptimized build's H.v."""
    args = W.make_heat(20, n=10)
    tangents = (np.random.default_rng(1).standard_normal(10), 0.3)
    out = [ember.hvp(ember.kernel(W.heat, opt_level=opt, cache=False), wrt=("u0", "k"))(
        *args, tangents=tangents) for opt in (3, 1)]
    for a, b in zip(out[0], out[1], strict=True):
        assert np.max(np.abs(np.asarray(a) - np.asarray(b))) <= 1e-12 * np.max(np.abs(b))
