"""Shorter loop-carried adjoint chains (lowering/adjointchains.py, opt_level >= 2), and
row loops kept rolled (lowering/rowloops.py).

adjointchains.py rebuilds the sum and product trees of reverse loop bodies so that the
adjoints carried from one iteration to the next meet as few dependent operations as possible.
Each kernel below is checked: the gradient within 1e-12 of the unoptimized build (opt_level=1)
and of the same build without the rewrite, against central finite differences, bitwise the
same on repeated calls, the value bitwise the kernel's; and hand-written IR shows what is
rebuilt and what is left alone (the forward sweep, trees off the chain, flagged ops).
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
from ember.lowering import adjointchains, rowloops
from ember.lowering.adjointchains import shorten_chains
from ember.lowering.enzyme import ADSpec
from tests.helpers import assert_close_leaves, value_and_grad_leaves

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import grad_workloads as W  # noqa: E402


def predator_prey(a: float, b: float, c: float, x0: float, y0: float, dt: float,
                  steps: int) -> float:
    """Lotka-Volterra by explicit Euler: products and differences of two carried scalars."""
    x = x0
    y = y0
    loss = 0.0
    for _ in range(steps):
        dx = a * x - b * x * y
        dy = -c * y + b * x * y
        x = x + dt * dx
        y = y - dt * (-dy)
        loss += (x - 1.0) * (x - 1.0) + 0.5 * y * y
    return loss


def pendulum_in_array(theta: f64[:], k: float, dt: float, steps: int) -> float:
    """Damped pendulums, one per element, each stepped in an inner time loop (a carried
    chain in a loop nested in another), with a division and a math call."""
    total = 0.0
    for i in range(theta.shape[0]):
        th = theta[i]
        om = 0.0
        for _ in range(steps):
            acc = -math.sin(th) - k * om / (1.0 + th * th)
            th = th + dt * om
            om = om + dt * acc
        total += th * th - om
    return total


def _vdp(steps):
    return W.make_van_der_pol(steps)


CASES = {
    # name: kernel, wrt, inputs(steps)
    "van_der_pol": (W.van_der_pol, ("mu", "x0", "v0"), _vdp),
    "predator_prey": (predator_prey, ("a", "b", "c", "x0", "y0"),
                      lambda s: (1.1, 0.4, 0.9, 1.2, 0.8, 0.01, s)),
    "pendulum_in_array": (pendulum_in_array, ("theta", "k"),
                          lambda s: (np.linspace(-1.0, 1.2, 5), 0.3, 0.02, s)),
}


def _build(fn, wrt, opt_level, monkeypatch, chains=True, spy=None):
    with monkeypatch.context() as m:
        if not chains:
            m.setattr(adjointchains, "shorten_chains", lambda module, spec: 0)
        elif spy is not None:
            m.setattr(adjointchains, "shorten_chains",
                      lambda module, spec: spy.append(shorten_chains(module, spec)) or spy[-1])
        vg = ember.value_and_grad(ember.kernel(fn, opt_level=opt_level, cache=False), wrt=wrt)
        vg.compile()
    return vg


@pytest.mark.parametrize("name", list(CASES))
def test_rebuilt_chains_stay_within_1e12(name, monkeypatch):
    fn, wrt, inputs = CASES[name]
    rebuilt: list[int] = []
    fast = _build(fn, wrt, 3, monkeypatch, spy=rebuilt)
    ieee = _build(fn, wrt, 3, monkeypatch, chains=False)
    plain = _build(fn, wrt, 1, monkeypatch)
    assert rebuilt and rebuilt[0] > 0, name  # the rewrite fired
    primal = ember.kernel(fn)
    for steps in (0, 1, 7, 400):
        args = inputs(steps)
        got = value_and_grad_leaves(fast(*copy.deepcopy(args)))
        assert_close_leaves(got, value_and_grad_leaves(ieee(*copy.deepcopy(args))), (name, steps))
        assert_close_leaves(got, value_and_grad_leaves(plain(*copy.deepcopy(args))), (name, steps))
        again = value_and_grad_leaves(fast(*copy.deepcopy(args)))
        assert all(np.array_equal(a, b) for a, b in zip(got, again, strict=True))  # deterministic
        assert got[0][0] == primal(*copy.deepcopy(args))  # the value is the kernel's, bitwise
    ember.check_grad(fn, *inputs(30), wrt=wrt, atol=1e-6)


# --- the tree rules on hand-written IR ------------------------------------------------------

_FUNC = """
func.func @diffef(%a: f64, %b: f64, %n: index, %seed: f64) -> (f64, f64, f64) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant 0.0 : f64
  %p = scf.for %i = %c0 to %n step %c1 iter_args(%s = %a) -> (f64) {{
    %t = arith.mulf %s, %b : f64
    %u = arith.addf %t, %b : f64
    %w = arith.addf %u, %a : f64
    scf.yield %w : f64
  }}
  %d:2 = scf.for %i = %c0 to %n step %c1 iter_args(%dx = %z, %dv = %z) -> (f64, f64) {{
    %t = arith.mulf %a, %seed : f64
    %q = arith.mulf %b, %b : f64
    {body}
  }}
  return %p, %d#0, %d#1 : f64, f64, f64
}}
"""
_SPEC = ADSpec("ek", "f", "reverse", (("a", "f64", "active"), ("b", "f64", "active"),
                                       ("n", "index", "const")), "f64", "active")
_BODIES = {
    # name: reverse loop body (`%dv` a carried adjoint: `%f` is yielded for it), trees
    # rebuilt, dependent ops from the carried values to `%dx`'s next value (before: Enzyme's
    # order, after: rebuilt)
    "carried value added last": (
        "%e1 = arith.addf %dx, %t : f64\n    %e2 = arith.addf %e1, %t : f64\n"
        "    %e3 = arith.subf %e2, %q : f64", "%e3", 1, (3, 1)),
    "carried factor multiplied last": (
        "%m1 = arith.mulf %dv, %a : f64\n    %m2 = arith.mulf %m1, %b : f64\n"
        "    %m3 = arith.negf %m2 : f64\n    %m4 = arith.mulf %m3, %q : f64\n"
        "    %e = arith.addf %dx, %m4 : f64", "%e", 1, (5, 2)),
    "a node with another use is computed again": (
        "%m1 = arith.mulf %dv, %a : f64\n    %m2 = arith.mulf %m1, %b : f64\n"
        "    %m3 = arith.mulf %m2, %q : f64\n    %e = arith.addf %m1, %m3 : f64\n"
        "    %g = arith.addf %e, %m1 : f64", "%g", 1, (5, 3)),
    # nothing to gain: one add after the carried value, or no carried value in the tree
    "already short": ("%e = arith.addf %dx, %t : f64", "%e", 0, (1, 1)),
    "independent terms": (
        "%e1 = arith.addf %t, %q : f64\n    %e2 = arith.addf %e1, %t : f64\n"
        "    %e3 = arith.addf %e2, %dx : f64", "%e3", 0, (1, 1)),
    # another rewrite's flags are kept
    "flagged ops left alone": (
        "%e1 = arith.addf %dx, %t fastmath<reassoc> : f64\n"
        "    %e2 = arith.addf %e1, %t fastmath<reassoc> : f64", "%e2", 0, (2, 2)),
}
_TAIL = "\n    %f = arith.addf %dv, %t : f64\n    scf.yield {dx}, %f : f64, f64"


def _rebuild(body: str, spec: ADSpec = _SPEC) -> tuple[int, str, str]:
    """(trees rebuilt, the module's text before, after)."""
    with mlir_context():
        module = ir.Module.parse(_FUNC.format(body=body))
        before = str(module)
        done = shorten_chains(module, spec)
        assert module.operation.verify()
        return done, before, str(module)


def _depth(text: str) -> int:
    """Dependent arith ops from the carried values to the first yielded value of the
    reverse loop (the second `scf.for` of `text`)."""
    loop = text[text.index("%1:2 = scf.for"):]
    made: dict[str, list[str]] = {}
    yielded = ""
    for line in loop.splitlines()[1:]:
        words = line.replace(",", " ").split()
        if words[:1] == ["scf.yield"]:
            yielded = words[1]
            break
        if len(words) > 2 and words[1] == "=" and words[2].startswith("arith."):
            made[words[0]] = [w for w in words[3:] if w.startswith("%")]

    def depth(name: str) -> int:
        if name in ("%arg5", "%arg6"):
            return 0
        if name not in made:
            return -1000
        return 1 + max([depth(v) for v in made[name]] + [-1000])

    return depth(yielded)


@pytest.mark.parametrize("name", list(_BODIES))
def test_tree_rules(name):
    body, result, rebuilt, (before, after) = _BODIES[name]
    done, old, new = _rebuild(body + _TAIL.format(dx=result))
    assert done == rebuilt, name
    assert (_depth(old), _depth(new)) == (before, after), new
    cut = old.index("%1:2 = scf.for")
    assert new[:cut] == old[:cut]  # the primal's loop (its value) is untouched
    forward = ADSpec("ek", "f", "forward", _SPEC.params, "f64", "dup")
    assert _rebuild(body + _TAIL.format(dx=result), forward)[0] == 0  # forward mode: nothing


def test_row_loops_stay_rolled():
    # the in-place row loops of a derivative are neither vectorized nor unrolled
    with mlir_context():
        attr = str(ir.Attribute.parse(rowloops._SCALAR))
    assert "vectorize = <disable = true>" in attr and "unroll = <disable = true>" in attr


# --- adds onto just-zeroed elements (lowering/zeroadds.py) -----------------------------------

_ZERO = """
func.func @diffef(%x: memref<?xf64>, %d: memref<?xf64>, %n: index) {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z = arith.constant {zero} : f64
  scf.for %i = %c0 to %n step %c1 {{
    %t = memref.load %d[%i] : memref<?xf64>
    memref.store %z, %d[%i] : memref<?xf64>
    %u = memref.load %x[%i] : memref<?xf64>
    {between}
    %b = memref.load %d[{at}] : memref<?xf64>
    %s = arith.addf %b, %t : f64
    memref.store %s, %d[%i] : memref<?xf64>
  }}
  return
}}
"""
_ZERO_CASES = {
    # name: zero stored, op in between, element read back, marked
    "zeroed then read back": ("0.0", "", "%i", 1),
    "another buffer in between": ("0.0", "memref.store %u, %x[%i] : memref<?xf64>", "%i", 1),
    "the element written in between": ("0.0", "memref.store %u, %d[%i] : memref<?xf64>", "%i", 0),
    "another element": ("0.0", "", "%c0", 0),
    "negative zero": ("-0.0", "", "%i", 0),
    "not zero": ("1.0", "", "%i", 0),
}


@pytest.mark.parametrize("name", list(_ZERO_CASES))
def test_zero_add_rules(name):
    from ember.lowering.zeroadds import mark_zero_adds

    zero, between, at, marked = _ZERO_CASES[name]
    with mlir_context():
        module = ir.Module.parse(_ZERO.format(zero=zero, between=between, at=at))
        assert mark_zero_adds(module, "diffef") == marked
        assert mark_zero_adds(module, "other") == 0
        assert str(module).count("fastmath<nsz>") == marked


def running_update(x: f64[:, :], w: f64[:]) -> float:
    """A work row updated in place by a triangular loop for every row of `x` (GMM's `lxc[j]
    += icf[k, p] * xc[i]`): Enzyme's reverse zeroes the adjoint of `t[j]` and adds it back.
    (With `t[i]` for `u[i]`, the adjoint of `t[i]` is updated in between: nothing marked.)"""
    n = x.shape[1]
    u = np.empty(n)
    t = np.empty(n)
    s = 0.0
    for r in range(x.shape[0]):
        for j in range(n):
            u[j] = x[r, j] - w[j]
            t[j] = 2.0 * u[j]
        p = 0
        for i in range(n):
            for j in range(i + 1, n):
                t[j] += w[p] * u[i]
                p += 1
        for j in range(n):
            s += t[j] * t[j]
    return s


@pytest.mark.parametrize("fn,args,wrt", [
    (running_update, (np.linspace(-1.0, 1.0, 21).reshape(3, 7), np.linspace(0.5, -0.3, 21)),
     ("x", "w")),
    (W.gmm, W.make_gmm(20, d=4, k=3), ("alphas", "means", "icf")),
])
def test_zero_adds_change_no_value(fn, args, wrt, tmp_path, monkeypatch):
    import ember.lowering.zeroadds as zero_module

    marked: list[int] = []
    mark = zero_module.mark_zero_adds
    with monkeypatch.context() as m:
        m.setattr(zero_module, "mark_zero_adds",
                  lambda module, name: marked.append(mark(module, name)) or marked[-1])
        fast = ember.value_and_grad(ember.kernel(fn, cache=False), wrt=wrt)
        got = value_and_grad_leaves(fast(*copy.deepcopy(args)))
    assert marked and marked[0] > 0  # it fired
    with monkeypatch.context() as m:
        m.setattr(zero_module, "mark_zero_adds", lambda module, name: 0)
        bare = ember.value_and_grad(ember.kernel(fn, cache=False), wrt=wrt)
        want = value_and_grad_leaves(bare(*copy.deepcopy(args)))
    assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))  # == (0.0 == -0.0)
    plain = ember.value_and_grad(ember.kernel(fn, opt_level=1, cache=False), wrt=wrt)
    assert_close_leaves(got, value_and_grad_leaves(plain(*copy.deepcopy(args))), fn.__name__)
    ember.check_grad(fn, *args, wrt=wrt, atol=1e-6)
