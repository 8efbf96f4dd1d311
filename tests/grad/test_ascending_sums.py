"""Reverse sum loops run ascending (lowering/ascendingsums.py, opt_level >= 2).

After adjointsums.py has marked a reverse loop's scalar-parameter sums `reassoc`, the loop
(the heat equation's `dk += dun[i] * dt * lap_i`, zeroing `dun[i]`) is made to walk memory
upwards when its iterations are independent. Each stencil case (heat, a 2-D 5-point stencil,
a nonlinear reaction term with two scalar parameters, all on swapped arrays) checks the
gradient against the build without the rewrite (array adjoints bitwise, scalar adjoints
within 1e-12), against the unoptimized build (opt_level=1, within 1e-12) and central finite
differences, that repeated calls are bitwise equal and the value is the kernel's; the rules
are checked on hand-written IR (loops that must be left alone).
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
from ember.lowering import ascendingsums, foldsums
from ember.lowering.enzyme import ADSpec
from tests.helpers import assert_close_leaves, value_and_grad_leaves

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import grad_workloads as W  # noqa: E402


def heat2d(u0: f64[:, :], k: float, dt: float, steps: int) -> float:
    """A 2-D 5-point explicit diffusion on two swapped arrays."""
    n = u0.shape[0]
    m = u0.shape[1]
    u = np.empty((n, m))
    un = np.empty((n, m))
    for i in range(n):
        for j in range(m):
            u[i, j] = u0[i, j]
            un[i, j] = u0[i, j]
    for _ in range(steps):
        for i in range(1, n - 1):
            for j in range(1, m - 1):
                lap = u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1] - 4.0 * u[i, j]
                un[i, j] = u[i, j] + dt * k * lap
        u, un = un, u
    e = 0.0
    for i in range(n):
        for j in range(m):
            e += u[i, j] * u[i, j]
    return e


def reaction(u0: f64[:], k: float, c: float, steps: int) -> float:
    """A 1-D diffusion with a `sin` reaction term and two scalar parameters."""
    n = u0.shape[0]
    u = np.empty(n)
    un = np.empty(n)
    for i in range(n):
        u[i] = u0[i]
        un[i] = u0[i]
    for _ in range(steps):
        for i in range(1, n - 1):
            un[i] = u[i] + k * (u[i - 1] - 2.0 * u[i] + u[i + 1]) + c * math.sin(u[i])
        u, un = un, u
    e = 0.0
    for i in range(n):
        e += u[i] * u[i]
    return e


def _heat(n: int, steps: int) -> tuple:
    return W.make_heat(steps, n=n)


def _heat2d(n: int, steps: int) -> tuple:
    return np.random.default_rng(n).standard_normal((n, n + 3)) * 0.5, 0.4, 0.2, steps


def _reaction(n: int, steps: int) -> tuple:
    return np.random.default_rng(n + 1).standard_normal(n) * 0.5, 0.3, -0.05, steps


CASES = {
    # name: kernel, wrt (arrays first), inputs(n, steps)
    "heat": (W.heat, ("u0", "k"), _heat),
    "heat2d": (heat2d, ("u0", "k"), _heat2d),
    "reaction": (reaction, ("u0", "k", "c"), _reaction),
}
SIZES = ((64, 150), (9, 20), (3, 4), (5, 0))


def _build(fn, wrt, opt_level, monkeypatch, ascend=True, counts=None):
    with monkeypatch.context() as m:
        real = ascendingsums.ascend_sums

        def counted(module, spec):
            done = real(module, spec)
            if counts is not None:
                counts.append(done)
            return done

        m.setattr(ascendingsums, "ascend_sums", counted if ascend else lambda module, spec: 0)
        # the sum loops as the gather rewrite leaves them (foldsums.fold_sums would move the
        # heat `dk` sum into the gather loops: tested in test_fold_sums.py)
        m.setattr(foldsums, "fold_sums", lambda module, spec: 0)
        vg = ember.value_and_grad(ember.kernel(fn, opt_level=opt_level, cache=False), wrt=wrt)
        vg.compile()
    return vg


@pytest.mark.parametrize("name", list(CASES))
def test_ascending_sums_stay_exact(name, monkeypatch):
    fn, wrt, inputs = CASES[name]
    counts: list[int] = []
    fast = _build(fn, wrt, 3, monkeypatch, counts=counts)
    descending = _build(fn, wrt, 3, monkeypatch, ascend=False)
    plain = _build(fn, wrt, 1, monkeypatch)
    primal = ember.kernel(fn)
    if name == "heat":
        assert sum(counts) >= 1  # the dk loop of the gather form was rewritten
    for n, steps in SIZES:
        args = inputs(n, steps)
        got = value_and_grad_leaves(fast(*copy.deepcopy(args)))
        want = value_and_grad_leaves(descending(*copy.deepcopy(args)))
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])  # value, du0
        assert_close_leaves(got, want, (name, n, steps))
        assert_close_leaves(got, value_and_grad_leaves(plain(*copy.deepcopy(args))), (name, n, steps))
        again = value_and_grad_leaves(fast(*copy.deepcopy(args)))
        assert all(np.array_equal(a, b) for a, b in zip(got, again, strict=True))  # deterministic
        assert got[0][0] == primal(*copy.deepcopy(args))  # the value is the kernel's, bitwise
    ember.check_grad(fn, *inputs(7, 5), wrt=wrt, atol=1e-6)


# --- the rules on hand-written IR ------------------------------------------------------------

_FUNC = """
func.func @diffef(%x: memref<?xf64>, %y: memref<?xf64>, %a: f64) -> f64 {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %n = memref.dim %x, %c0 : memref<?xf64>
  %last = arith.subi %n, %c1 : index
  %buf = memref.alloc(%n) : memref<?xf64>
  %tape = memref.alloc(%n) : memref<?xf64>
  %d = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> (f64) {{
    %r = arith.subi %last, %i : index
    {body}
  }}
  return %d : f64
}}
"""
_SPEC = ADSpec("ek", "f", "reverse", (("x", "memref<?xf64>", "const"),
                                       ("y", "memref<?xf64>", "const"), ("a", "f64", "active")),
               "f64", "active")
_SUM = "%s = arith.addf %acc, %t fastmath<reassoc> : f64\n    scf.yield %s : f64"
BODIES = {
    # body of the loop (`%r` = n-1-i) -> rewritten?
    "sum and zeroing": ("%v = memref.load %buf[%r] : memref<?xf64>\n"
                        "    %w = memref.load %tape[%r] : memref<?xf64>\n"
                        "    memref.store %z, %buf[%r] : memref<?xf64>\n"
                        "    %t = arith.mulf %v, %w : f64\n    " + _SUM, 1),
    "argument read only": ("%v = memref.load %x[%r] : memref<?xf64>\n"
                           "    %t = arith.mulf %v, %a : f64\n    " + _SUM, 1),
    "ascending already": ("%v = memref.load %x[%i] : memref<?xf64>\n"
                          "    %t = arith.mulf %v, %a : f64\n    " + _SUM, 0),
    "neighbour read": ("%r1 = arith.addi %r, %c1 : index\n"
                       "    %v = memref.load %buf[%r1] : memref<?xf64>\n"
                       "    memref.store %z, %buf[%r] : memref<?xf64>\n"
                       "    %t = arith.mulf %v, %a : f64\n    " + _SUM, 0),
    "arguments may alias": ("%v = memref.load %x[%r] : memref<?xf64>\n"
                            "    memref.store %z, %y[%r] : memref<?xf64>\n"
                            "    %t = arith.mulf %v, %a : f64\n    " + _SUM, 0),
    "no memory access": ("%f = arith.index_cast %r : index to i64\n"
                         "    %t = arith.sitofp %f : i64 to f64\n    " + _SUM, 0),
    "ordered sum": ("%v = memref.load %x[%r] : memref<?xf64>\n"
                    "    %s = arith.addf %acc, %v : f64\n    scf.yield %s : f64", 0),
    "sum stored": ("%v = memref.load %x[%r] : memref<?xf64>\n"
                   "    %s = arith.addf %acc, %v fastmath<reassoc> : f64\n"
                   "    memref.store %s, %buf[%r] : memref<?xf64>\n    scf.yield %s : f64", 0),
}


@pytest.mark.parametrize("name", list(BODIES))
def test_rules(name):
    body, rewritten = BODIES[name]
    with mlir_context():
        module = ir.Module.parse(_FUNC.format(body=body))
        loop = next(op for op in _walk(module.operation) if op.name == "scf.for")
        body = loop.regions[0].blocks[0]
        before = len(list(body.operations))
        assert ascendingsums.ascend_sums(module, _SPEC) == rewritten
        assert module.operation.verify()
        first = list(body.operations)[0].operation
        assert len(list(body.operations)) == before + rewritten
        if rewritten:  # iv -> (lb + ub - 1) - iv, the old iv used by that op only
            assert first.name == "arith.subi" and first.operands[1] == body.arguments[0]
            assert len(list(body.arguments[0].uses)) == 1


def _walk(op):
    yield op
    for region in op.regions:
        for block in region.blocks:
            for child in block.operations:
                yield from _walk(child.operation)
