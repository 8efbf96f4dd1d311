"""Derivatives through matvec rows over a packed transpose (frontend/opt/packrows.py, applied
by adjam.py before jamming, with no run-time branch): gradients of dense layers applied per
sample must equal the unpacked opt_level=1 build within 1e-12, the value bit for bit, and
agree with finite differences, for row counts below and above MIN_ROWS and reduction lengths
with a remainder."""

import math

import numpy as np
import pytest

import ember
from ember import f64
from ember.frontend.opt.packrows import MIN_ROWS
from tests.e2e.test_pack_rows import column_layer
from tests.matvec_kernels import mlp

RNG = np.random.default_rng(12)
MLP_WRT = ("w1", "b1", "w2", "b2", "x")


def two_layers_scaled(w: f64[:, :], c: f64[:], x: f64[:, :], scale: f64) -> float:
    """v(i) is an expression of two arrays and a scalar; the product is written v * w."""
    h = np.empty(w.shape[0])
    t = 0.0
    for s in range(x.shape[0]):
        for j in range(w.shape[0]):
            a = c[j] * scale
            for i in range(w.shape[1]):
                a += (x[s, i] * scale + c[i]) * w[j, i]
            h[j] = math.sin(a)
        for j in range(w.shape[0]):
            t += h[j] * h[j]
    return t


def _close(got, want):
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-12)


@pytest.mark.parametrize("hid, d_in", [(3, 5), (MIN_ROWS, 4), (21, 9)])
def test_mlp_gradient_matches_plain_build(hid, d_in):
    d_out, n = 4, 6
    args = (RNG.standard_normal((hid, d_in)) * 0.4, RNG.standard_normal(hid) * 0.2,
            RNG.standard_normal((d_out, hid)) * 0.4, RNG.standard_normal(d_out) * 0.2,
            RNG.standard_normal((n, d_in)), RNG.standard_normal((n, d_out)))
    fast = ember.value_and_grad(ember.kernel(mlp), wrt=MLP_WRT)
    plain = ember.value_and_grad(ember.kernel(mlp, opt_level=1), wrt=MLP_WRT)
    (v, g), (v1, g1) = fast(*args), plain(*args)
    assert v == v1 == mlp(*args)
    _close(g, g1)
    ember.check_grad(ember.kernel(mlp), *args, wrt=MLP_WRT)


def test_scaled_layer_gradient_matches_plain_build():
    rows, d = 18, 18  # c is indexed by rows and by inputs
    args = (RNG.standard_normal((rows, d)) * 0.3, RNG.standard_normal(d),
            RNG.standard_normal((5, d)), 0.7)
    wrt = ("w", "c", "x", "scale")
    fast = ember.value_and_grad(ember.kernel(two_layers_scaled), wrt=wrt)
    plain = ember.value_and_grad(ember.kernel(two_layers_scaled, opt_level=1), wrt=wrt)
    (v, g), (v1, g1) = fast(*args), plain(*args)
    assert v == v1
    _close(g, g1)
    ember.check_grad(ember.kernel(two_layers_scaled), *args, wrt=wrt)


@pytest.mark.parametrize("rows", [3, 20])
def test_column_layer_gradient_matches_plain_build(rows):
    args = (RNG.standard_normal((7, rows)) * 0.4, RNG.standard_normal(rows),
            RNG.standard_normal((4, 7)))
    wrt = ("w", "b", "x")
    fast = ember.value_and_grad(ember.kernel(column_layer), wrt=wrt)
    plain = ember.value_and_grad(ember.kernel(column_layer, opt_level=1), wrt=wrt)
    (v, g), (v1, g1) = fast(*args), plain(*args)
    assert v == v1
    _close(g, g1)
    ember.check_grad(ember.kernel(column_layer), *args, wrt=wrt)
