"""Derivatives of jammed matvec rows (frontend/opt/adjam.py: unroll-and-jam applied to the loops
Enzyme differentiates): the textbook tanh MLP, a layer writing a parameter (jammed behind the
run-time overlap check) and row-carried reductions. The opt_level=3 gradient must equal the
unjammed opt_level=1 one within 1e-12 for every row count, the value bit for bit, and agree
with finite differences."""


import numpy as np
import pytest

import ember
from ember import f64
from ember.frontend.infer import build_program
from ember.frontend.opt.adjam import jam_entry
from tests.matvec_kernels import layer_out, mlp


def two_reductions(w: f64[:, :], x: f64[:]) -> float:
    loss = 0.0
    top = 0.0
    for j in range(w.shape[0]):
        a = 0.0
        for i in range(w.shape[1]):
            a += w[j, i] * x[i]
        loss += a * a
        top = max(top, a * 0.25)
    return loss + top


MLP_WRT = ("w1", "b1", "w2", "b2", "x")
RNG = np.random.default_rng(3)


@pytest.mark.parametrize("fn", [mlp, layer_out, two_reductions], ids=lambda f: f.__name__)
def test_derivative_entry_is_jammed(fn):
    program = build_program(fn, ad=True)
    assert jam_entry(program) is not program


def _mlp_args(hid, d_out, n=5, d_in=7):
    return (RNG.standard_normal((hid, d_in)) * 0.4, RNG.standard_normal(hid) * 0.2,
            RNG.standard_normal((d_out, hid)) * 0.4, RNG.standard_normal(d_out) * 0.2,
            RNG.standard_normal((n, d_in)), RNG.standard_normal((n, d_out)))


def _close(got, want):
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-12)


def test_mlp_gradient_matches_unjammed_build_for_every_row_count():
    fast = ember.value_and_grad(ember.kernel(mlp), wrt=MLP_WRT)
    plain = ember.value_and_grad(ember.kernel(mlp, opt_level=1), wrt=MLP_WRT)
    for hid, d_out in [(1, 1), (3, 2), (4, 4), (6, 5), (9, 10), (32, 10)]:
        args = _mlp_args(hid, d_out)
        (v, g), (v1, g1) = fast(*args), plain(*args)
        assert v == v1 == mlp(*args)
        _close(g, g1)
    ember.check_grad(ember.kernel(mlp), *_mlp_args(6, 3), wrt=MLP_WRT)


def test_layer_and_reductions_match_unjammed_builds():
    for fn, wrt in ((layer_out, ("w", "b", "x")), (two_reductions, ("w", "x"))):
        fast = ember.value_and_grad(ember.kernel(fn), wrt=wrt)
        plain = ember.value_and_grad(ember.kernel(fn, opt_level=1), wrt=wrt)
        for rows in (1, 4, 7):
            w, x = RNG.standard_normal((rows, 5)), RNG.standard_normal(5)
            args = (w, RNG.standard_normal(rows), x, np.zeros(rows)) if fn is layer_out \
                else (w, x)
            (v, g), (v1, g1) = fast(*args), plain(*args)
            assert v == v1
            _close(g, g1)
        ember.check_grad(ember.kernel(fn), *args, wrt=wrt)
