"""Vectorizable adjoint sums of scalar parameters (lowering/adjointsums.py, opt_level >= 2).

The adjoint of a scalar parameter used in a loop (the heat equation's `k`) is a sum over the
reverse loop's iterations; adjointsums.py marks its adds `fastmath<reassoc>` so that LLVM
keeps partial sums in vector lanes. Each case checks that the marks are where they belong
(the dumped IR, and hand-written IR for the chain rules), that the gradient stays within
1e-12 of the unoptimized build (opt_level=1) and of the same build without the marks, that it
matches central finite differences, that repeated calls give bitwise the same result, and that
the value of value_and_grad stays bitwise the kernel's.
"""

from __future__ import annotations

import copy
import math
import os
import sys

import numpy as np
import pytest
from mlir import ir

import ember
from ember import f64
from ember.ir.context import mlir_context
from ember.lowering.adjointsums import reassociate_sums
from ember.lowering.enzyme import ADSpec
from tests.helpers import assert_close_leaves, value_and_grad_leaves

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import grad_workloads as W  # noqa: E402

MARK = "fastmath<reassoc>"


def two_scalars(x: f64[:, :], a: float, b: float) -> float:
    """Two active scalars summed over a nested loop: the chain runs through both loops."""
    s = 0.0
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            s += math.sin(a * x[i, j]) + b * x[i, j] * x[i, j]
    return s


def branchy_relax(u0: f64[:], k: float, c: float, steps: int) -> float:
    """An in-place time loop with a branch per element and two scalar parameters."""
    n = u0.shape[0]
    u = np.empty(n)
    for i in range(n):
        u[i] = u0[i]
    for _ in range(steps):
        for i in range(1, n):
            if u[i] > 0.0:
                u[i] = u[i] + k * (u[i - 1] - u[i])
            else:
                u[i] = u[i] - c * math.sin(u[i])
    e = 0.0
    for i in range(n):
        e += u[i] * u[i]
    return e


def _build(fn, wrt, opt_level, monkeypatch, folder=None, sums=True):
    import ember.lowering.adjointsums as sums_module

    with monkeypatch.context() as m:
        if folder is not None:
            m.setenv("EMBER_DUMP_IR", str(folder))
        if not sums:
            m.setattr(sums_module, "reassociate_sums", lambda module, spec: 0)
            m.setattr(sums_module, "reassociate_loop_sums", lambda module, spec: 0)
        vg = ember.value_and_grad(ember.kernel(fn, opt_level=opt_level, cache=False), wrt=wrt)
        vg.compile()
    return vg


def _heat_inputs(n: int, steps: int) -> tuple:
    return W.make_heat(steps, n=n)


def _relax_inputs(n: int, steps: int) -> tuple:
    u0 = np.random.default_rng(n + steps).standard_normal(n) * 0.5
    return u0, 0.3, 0.2, steps


def _two_inputs(n: int, steps: int) -> tuple:
    return np.random.default_rng(n).standard_normal((n, steps + 1)), 0.7, -0.4


CASES = {
    # name: kernel, wrt, inputs(n, steps), marked adds in the reverse
    "heat": (W.heat, ("u0", "k"), _heat_inputs),
    "branchy_relax": (branchy_relax, ("u0", "k", "c"), _relax_inputs),
    "two_scalars": (two_scalars, ("a", "b"), _two_inputs),
}
SIZES = ((64, 200), (12, 30), (3, 5), (5, 0))


@pytest.mark.parametrize("name", list(CASES))
def test_reordered_sums_stay_within_1e12(name, tmp_path, monkeypatch):
    fn, wrt, inputs = CASES[name]
    fast = _build(fn, wrt, 3, monkeypatch, folder=tmp_path)
    ieee = _build(fn, wrt, 3, monkeypatch, sums=False)
    plain = _build(fn, wrt, 1, monkeypatch)
    primal = ember.kernel(fn)
    for n, steps in SIZES:
        args = inputs(n, steps)
        got = value_and_grad_leaves(fast(*copy.deepcopy(args)))
        assert_close_leaves(got, value_and_grad_leaves(ieee(*copy.deepcopy(args))), (name, n, steps))
        assert_close_leaves(got, value_and_grad_leaves(plain(*copy.deepcopy(args))), (name, n, steps))
        again = value_and_grad_leaves(fast(*copy.deepcopy(args)))
        assert all(np.array_equal(a, b) for a, b in zip(got, again, strict=True))  # deterministic
        assert got[0][0] == primal(*copy.deepcopy(args))  # the value is the kernel's, bitwise
    (dumped,) = tmp_path.glob(f"{fn.__name__}_reverse.*.optimize.mlir")
    text = dumped.read_text()
    start = text.index("func.func private @diffe")
    assert MARK in text[start:] and MARK not in text[:start]
    (llvm_ir,) = tmp_path.glob(f"{fn.__name__}_reverse.*.llvm.ll")
    assert "fadd reassoc" in llvm_ir.read_text()  # the mark reaches LLVM
    ember.check_grad(fn, *inputs(8, 6), wrt=wrt, atol=1e-6)


def test_only_sums_are_marked(tmp_path, monkeypatch):
    # van der Pol: d/dmu is a sum over the steps (marked), d/dx0 and d/dv0 are products along
    # them (left alone); the loop is a scalar recurrence, so the gradient stays the unoptimized
    # build's
    args = W.make_van_der_pol(50)
    wrt = ("mu", "x0", "v0")
    fast = _build(W.van_der_pol, wrt, 3, monkeypatch, folder=tmp_path)
    plain = _build(W.van_der_pol, wrt, 1, monkeypatch)
    assert_close_leaves(value_and_grad_leaves(fast(*args)), value_and_grad_leaves(plain(*args)), "van_der_pol")
    (dumped,) = tmp_path.glob("van_der_pol_reverse.*.optimize.mlir")
    assert dumped.read_text().count(MARK) == 1


# --- the chain rules on hand-written IR ------------------------------------------------------

_FUNC = """
func.func @diffef(%x: memref<?xf64>, %buf: memref<?xf64>, %a: f64, %seed: f64) -> (f64, f64) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %n = memref.dim %x, %c0 : memref<?xf64>
  %p = scf.for %i = %c0 to %n step %c1 iter_args(%s = %z) -> (f64) {{
    %v = memref.load %x[%i] : memref<?xf64>
    %t = arith.mulf %v, %a : f64
    %s2 = arith.addf %s, %t : f64
    scf.yield %s2 : f64
  }}
  %d = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> (f64) {{
    %v = memref.load %x[%i] : memref<?xf64>
    %t = arith.mulf %v, %seed : f64
    {body}
  }}
  return %p, %d : f64, f64
}}
"""
_SPEC = ADSpec("ek", "f", "reverse", (("x", "memref<?xf64>", "const"),
                                       ("buf", "memref<?xf64>", "const"), ("a", "f64", "active")),
               "f64", "active")
BODIES = {
    # body of the reverse loop: adds marked
    "sum": ("%acc2 = arith.addf %t, %acc : f64\n    scf.yield %acc2 : f64", 1),
    "two terms": ("%u = arith.addf %acc, %t : f64\n    %w = arith.mulf %t, %t : f64\n"
                  "    %acc2 = arith.addf %u, %w : f64\n    scf.yield %acc2 : f64", 2),
    "through an if": (
        "%c = arith.cmpf ogt, %v, %z : f64\n"
        "    %acc2 = scf.if %c -> (f64) {\n      %e = arith.addf %acc, %t : f64\n"
        "      scf.yield %e : f64\n    } else {\n      scf.yield %acc : f64\n    }\n"
        "    scf.yield %acc2 : f64", 1),
    "nested loop": (
        "%acc2 = scf.for %j = %c0 to %n step %c1 iter_args(%b = %acc) -> (f64) {\n"
        "      %e = arith.addf %b, %t : f64\n      scf.yield %e : f64\n    }\n"
        "    scf.yield %acc2 : f64", 1),
    # a partial sum used elsewhere (stored, or in a term): nothing marked
    "partial sum stored": ("%acc2 = arith.addf %acc, %t : f64\n"
                           "    memref.store %acc2, %buf[%i] : memref<?xf64>\n"
                           "    scf.yield %acc2 : f64", 0),
    "term reads the sum": ("%w = arith.mulf %acc, %t : f64\n"
                           "    %acc2 = arith.addf %acc, %w : f64\n    scf.yield %acc2 : f64", 0),
    "not a sum": ("%acc2 = arith.mulf %acc, %t : f64\n    scf.yield %acc2 : f64", 0),
}


@pytest.mark.parametrize("name", list(BODIES))
def test_chain_rules(name):
    body, marked = BODIES[name]
    with mlir_context():
        module = ir.Module.parse(_FUNC.format(body=body))
        assert reassociate_sums(module, _SPEC) == marked
        text = str(module)
    assert text.count(MARK) == marked
    first = text.index("scf.for")
    assert MARK not in text[first:text.index("scf.for", first + 1)]  # the primal's sum
    forward = ADSpec("ek", "f", "forward", _SPEC.params, "f64", "dup")
    with mlir_context():
        assert reassociate_sums(ir.Module.parse(_FUNC.format(body=body)), forward) == 0


def dense_in_out(w1: f64[:, :], w2: f64[:, :], x: f64[:, :]) -> float:
    """Two dense layers with weights stored in x out (packed as they are): the reverse of the
    second sums `dh[t] += dacc[j] * w2[t, j]` over its rows, a loop-carried adjoint sum."""
    h = np.empty(w1.shape[1])
    loss = 0.0
    for s in range(x.shape[0]):
        for j in range(w1.shape[1]):
            a = 0.0
            for t in range(x.shape[1]):
                a += x[s, t] * w1[t, j]
            h[j] = math.tanh(a)
        for j in range(w2.shape[1]):
            a = 0.0
            for t in range(w1.shape[1]):
                a += h[t] * w2[t, j]
            loss += a * a
    return loss


@pytest.mark.parametrize("n", [0, 1, 5, 40])
def test_loop_sums_of_adjoints_stay_within_1e12(n, monkeypatch):
    """reassociate_loop_sums marks the reverse loops' carried adjoint sums (here the packed
    second layer's `dh`), never a sum that reaches the value; the gradient stays within
    1e-12 of the same build without the marks and of opt_level=1, bitwise the same on every
    call, against finite differences."""
    import ember.lowering.adjointsums as sums_module

    counts: list[int] = []
    real = sums_module.reassociate_loop_sums
    wrt = ("w1", "w2")
    with monkeypatch.context() as m:
        m.setattr(sums_module, "reassociate_loop_sums",
                  lambda module, spec: counts.append(real(module, spec)) or counts[-1])
        fast = ember.value_and_grad(ember.kernel(dense_in_out, cache=False), wrt=wrt)
        fast.compile()
        m.setattr(sums_module, "reassociate_loop_sums", lambda module, spec: 0)
        ieee = ember.value_and_grad(ember.kernel(dense_in_out, cache=False), wrt=wrt)
        ieee.compile()
    plain = ember.value_and_grad(ember.kernel(dense_in_out, opt_level=1, cache=False), wrt=wrt)
    assert sum(counts) >= 4
    rng = np.random.default_rng(n)
    args = (rng.standard_normal((6, 20)) * 0.4, rng.standard_normal((20, 3)) * 0.3,
            rng.standard_normal((n, 6)))
    got = value_and_grad_leaves(fast(*copy.deepcopy(args)))
    assert got[0][0] == ember.kernel(dense_in_out)(*copy.deepcopy(args))
    if n:
        for other in (ieee, plain):
            assert_close_leaves(got, value_and_grad_leaves(other(*copy.deepcopy(args))), n)
    again = value_and_grad_leaves(fast(*copy.deepcopy(args)))
    assert all(np.array_equal(a, b) for a, b in zip(got, again, strict=True))
    if n == 5:
        ember.check_grad(dense_in_out, *args, wrt=wrt, atol=1e-6)
