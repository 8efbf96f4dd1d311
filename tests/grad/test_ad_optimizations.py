"""The derivative optimizations of opt_level 2-3 change the tape, never a value.

lowering/preopt.py rewrites the primal before Enzyme (counters, CSE of repeated loads, loop
invariants) and lowering/remat.py reloads unchanged elements instead of caching them after
Enzyme. opt_level=1 builds derivatives without both. Each case compares the value and the
gradient of both builds (within 1e-12 relative: bitwise in practice) on the five workloads of
benchmarks/grad_workloads.py and on kernels of the gradient suite (loops, while loops, branches,
mutation, local arrays, f32); and the dumped IR shows that the optimizations fire.
"""

from __future__ import annotations

import copy
import math
import os
import re
import sys

import numpy as np
import pytest
import test_grad_loops as loops
import test_mutation as mutation
import test_while as whiles

import ember
from ember import f64
from ember.frontend.opt import adjam

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import grad_workloads as W  # noqa: E402
from core_kernels import pairwise_energy  # noqa: E402  (README's kernel: a triangular loop)

RNG = np.random.default_rng(7)
V = RNG.standard_normal(6)
M = RNG.standard_normal((3, 4))

CASES = {
    # the five workloads, small
    "sum_sin_sq": (W.sum_sin_sq, W.make_sum_sin_sq(50), ("x",)),
    "van_der_pol": (W.van_der_pol, W.make_van_der_pol(40), ("mu", "x0", "v0")),
    "heat": (W.heat, W.make_heat(30, n=12), ("u0", "k")),
    "gmm": (W.gmm, W.make_gmm(20, d=4, k=3), ("alphas", "means", "icf")),
    "mlp": (W.mlp, W.make_mlp(6, d_in=5, hid=7, d_out=3), ("w1", "b1", "w2", "b2")),
    # kernels of the gradient suite
    "triangular": (loops.triangular, (V,), ("x",)),
    "three_deep": (loops.three_deep, (V[:4], M), ("x", "w")),
    "loop_carried_two": (loops.loop_carried_two, (V, 0.8), ("x", "a")),
    "horner": (loops.horner, (V, 0.9), ("c", "x")),
    "runtime_step": (loops.runtime_step, (V, 2), ("x",)),
    "runtime_bounds": (loops.runtime_bounds, (V, 1, 4), ("x",)),
    "logsumexp": (loops.logsumexp, (V,), ("x",)),
    "matvec_loss": (loops.matvec_loss, (M, V[:4]), ("w", "v")),
    "f32_nested": (loops.f32_nested, (M.astype(np.float32),), ("m",)),
    "newton_cbrt_sum": (whiles.newton_cbrt_sum, (np.array([0.5, 2.0, 7.0]),), ("x",)),
    "kepler": (whiles.kepler, (1.1, 0.3), ("m", "e")),
    "while_writes_array": (whiles.while_writes_array, (np.array([0.3, -0.2, 1.1]), 0.9),
                           ("x", "c")),
    "overwrite_twice": (mutation.overwrite_twice, (V,), ("x",)),
    "prefix_sum_in_place": (mutation.prefix_sum_in_place, (V,), ("x",)),
    "reverse_in_place": (mutation.reverse_in_place, (V, V[::-1].copy()), ("x", "w")),
    "relax_in_place": (mutation.relax_in_place, (V, 0.3), ("u", "k")),
    "local_empty_2d": (mutation.local_empty_2d, (M,), ("m",)),
}


def _gradients(fn, args, wrt, opt_level):
    vg = ember.value_and_grad(ember.kernel(fn, opt_level=opt_level), wrt=wrt)
    value, grads = vg(*copy.deepcopy(args))
    grads = grads if isinstance(grads, tuple) else (grads,)
    return [np.atleast_1d(np.asarray(value, dtype=np.float64))] + \
        [np.atleast_1d(np.asarray(g, dtype=np.float64)) for g in grads]


# --- the optimizations fire ------------------------------------------------------------------


def dense_tanh(w: f64[:, :], x: f64[:, :]) -> float:
    """x is read-only: Enzyme caches x[i, k] for dw in every (i, j, k) iteration."""
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(w.shape[0]):
            a = 0.0
            for k in range(x.shape[1]):
                a += w[j, k] * x[i, k]
            s += math.tanh(a)
    return s


def packed_lower(v: f64[:], packed: f64[:]) -> float:
    """A counter `p += 1` over a triangular loop indexes a packed array (ADBench's GMM)."""
    n = v.shape[0]
    s = 0.0
    p = 0
    for i in range(n):
        for j in range(i + 1, n):
            s += packed[p] * v[i] * v[j]
            p += 1
    return s


def scratch_rows(x: f64[:, :], y: f64[:]) -> float:
    """A work row filled by one loop and read by later ones (forwarded), and one that a
    store changes in between (not forwarded: t[0] is not what the loop stored)."""
    n = y.shape[0]
    t = np.empty(n)
    u = np.empty(n)
    s = 0.0
    for r in range(x.shape[0]):
        for j in range(n):
            t[j] = x[r, j] - y[j]
            u[j] = x[r, j] * y[j]
        u[0] = u[0] * 2.0
        for i in range(n):
            for j in range(i + 1, n):
                s += t[i] * t[j] * x[r, j]
            s += math.sin(u[i]) * t[i]
    return s


CASES["scratch_rows"] = (scratch_rows, (RNG.standard_normal((3, 5)), RNG.standard_normal(5)),
                         ("x", "y"))
CASES["pairwise_energy"] = (pairwise_energy, (RNG.random((7, 3)), 0.01), ("pos", "eps"))
CASES["packed_lower"] = (packed_lower, (RNG.standard_normal(5), RNG.standard_normal(10)),
                         ("v", "packed"))
CASES["dense_tanh"] = (dense_tanh, (M, RNG.standard_normal((5, 4))), ("w",))


def two_counters(v: f64[:], packed: f64[:]) -> float:
    """Two counters advanced by different steps in one loop."""
    s = 0.0
    p = 0
    q = 1
    for i in range(v.shape[0]):
        s += packed[p] * v[i] + packed[q] * v[i] * v[i]
        p += 2
        q += 2
    return s


CASES["two_counters"] = (two_counters, (RNG.standard_normal(4), RNG.standard_normal(8)),
                         ("v", "packed"))


def _enzyme_output(fn, args, wrt, opt_level, tmp_path, monkeypatch) -> str:
    folder = tmp_path / f"ir{opt_level}"
    monkeypatch.setenv("EMBER_DUMP_IR", str(folder))
    k = ember.kernel(fn, opt_level=opt_level, cache=False)
    ember.grad(k, wrt=wrt)(*args)
    (path,) = folder.glob("*_reverse.*.enzyme-output.mlir")  # canonicalized: dead caches gone
    return path.read_text()


def test_remat_drops_the_cache_of_a_read_only_input(tmp_path, monkeypatch):
    monkeypatch.setattr(adjam, "jam_entry", lambda program, wrt=None: program)  # unjammed caches
    args = (RNG.standard_normal((3, 4)), RNG.standard_normal((5, 4)))
    plain = _enzyme_output(dense_tanh, args, "w", 1, tmp_path, monkeypatch)
    fast = _enzyme_output(dense_tanh, args, "w", 3, tmp_path, monkeypatch)
    # the 3-D cache of x[i, k] (one element per (i, j, k)) is gone; the tanh inputs stay
    assert fast.count("memref<?x?x?xf64>") < plain.count("memref<?x?x?xf64>")
    assert fast.count("memref.alloc") < plain.count("memref.alloc")
    ember.check_grad(dense_tanh, *args, wrt="w")


def test_remat_drops_the_per_iteration_buffers_of_a_triangular_loop(tmp_path, monkeypatch):
    args = (RNG.random((6, 3)), 0.01)
    plain = _enzyme_output(pairwise_energy, args, "pos", 1, tmp_path, monkeypatch)
    fast = _enzyme_output(pairwise_energy, args, "pos", 3, tmp_path, monkeypatch)
    # per i: a buffer of the differences (j, d) and one of r2 (j); the first is recomputed
    caches = re.compile(r"= memref\.alloc\([^)]*\) : memref<\?xmemref<")
    assert len(caches.findall(plain)) == 2
    assert len(caches.findall(fast)) == 1 and "memref<?xmemref<?x?xf64>>" not in fast
    ember.check_grad(pairwise_energy, *args, wrt="pos")


def test_forwarded_work_arrays_leave_no_cache_inside_loops(tmp_path, monkeypatch):
    fn, args, wrt = CASES["gmm"]
    plain = _enzyme_output(fn, args, wrt, 1, tmp_path, monkeypatch)
    fast = _enzyme_output(fn, args, wrt, 3, tmp_path, monkeypatch)
    # ADBench's xc[j] = x[i, j] - means[k, j], read back in the triangular loop: Enzyme kept
    # one buffer per (point, component, row); forwarded and recomputed, none is left
    assert "memref<?x?x?xmemref<" in plain and "xmemref<" not in fast


def test_tanh_result_is_saved_not_recomputed(tmp_path, monkeypatch):
    # jammed: test_matvec_adjoint
    monkeypatch.setattr(adjam, "jam_entry", lambda program, wrt=None: program)
    fn, args, wrt = CASES["mlp"]
    plain = _enzyme_output(fn, args, wrt, 1, tmp_path, monkeypatch)
    fast = _enzyme_output(fn, args, wrt, 3, tmp_path, monkeypatch)
    # tanh's adjoint recomputes tanh(a) from the saved a; saving tanh(a) instead removes it
    # from the reverse pass (the forward pass keeps its own, in both builds)
    assert plain.count("math.tanh") == fast.count("math.tanh") + 1


def test_counter_is_recomputed_not_cached(tmp_path, monkeypatch):
    v = RNG.standard_normal(5)
    packed = RNG.standard_normal(10)
    plain = _enzyme_output(packed_lower, (v, packed), ("v", "packed"), 1, tmp_path, monkeypatch)
    fast = _enzyme_output(packed_lower, (v, packed), ("v", "packed"), 3, tmp_path, monkeypatch)
    assert "xindex>" in plain  # Enzyme saves p in every iteration
    assert "xindex>" not in fast
    ember.check_grad(packed_lower, v, packed, wrt=("v", "packed"))


# --- the same values --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_optimized_gradient_equals_unoptimized(name):
    fn, args, wrt = CASES[name]
    fast = _gradients(fn, args, wrt, 3)
    plain = _gradients(fn, args, wrt, 1)
    for got, want in zip(fast, plain, strict=True):
        scale = max(float(np.max(np.abs(want))), 1e-300)
        assert np.max(np.abs(got - want)) <= 1e-12 * scale, name


def test_workloads_match_finite_differences():
    for name in ("sum_sin_sq", "van_der_pol", "heat", "gmm", "mlp"):
        fn, args, wrt = CASES[name]
        ember.check_grad(fn, *args, wrt=wrt, atol=1e-6)
