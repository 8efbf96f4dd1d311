"""Derivatives through dense layers run over four samples per pass (frontend/opt/samplejam.py,
applied by packrows.py in derivative builds), and reverse-mode builds packing only layers whose
input vector carries no derivative: gradients must equal the opt_level=1 build within 1e-12,
the value bit for bit (and CPython's), and agree with finite differences, for sample counts
around the four-sample passes; a layer reading an array its sample loop writes stays
one sample at a time."""

import numpy as np
import pytest

import ember
from ember.frontend.infer import build_program
from ember.frontend.opt.adjam import jam_entry
from tests.samplejam_kernels import (
    backwards,
    column_strided,
    epochs,
    mlp_sum,
    no_bias,
    recurrent,
    rescaled,
)

RNG = np.random.default_rng(15)
SAMPLES = [0, 1, 3, 4, 7, 33]


def _names(fn, wrt=None):
    program = jam_entry(build_program(fn, ad=True), wrt)
    return set(program.functions[program.entry].var_types)


def _agree(fn, args, wrt):
    fast = ember.value_and_grad(ember.kernel(fn), wrt=wrt)
    plain = ember.value_and_grad(ember.kernel(fn, opt_level=1), wrt=wrt)
    (v, g), (v1, g1) = fast(*args), plain(*args)
    assert v == v1 == fn(*args)
    for a, b in zip(g, g1, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    ember.check_grad(ember.kernel(fn), *args, wrt=wrt)


def _mlp_args(n, hid=21, d_in=9, d_out=3):
    return (RNG.standard_normal((hid, d_in)) * 0.4, RNG.standard_normal(hid) * 0.2,
            RNG.standard_normal((d_out, hid)) * 0.4, RNG.standard_normal(d_out) * 0.2,
            RNG.standard_normal((n, d_in)), RNG.standard_normal((n, d_out)))


def test_layers_jammed_where_legal():
    assert "__pk0_acc4" in _names(mlp_sum, ("w1", "b1", "w2", "b2"))
    for fn in (no_bias, column_strided, backwards):
        assert "__pk0_acc4" in _names(fn), fn.__name__
    for fn in (recurrent, rescaled):  # packed, one sample at a time
        names = _names(fn)
        assert "__pk0_acc" in names and "__pk0_acc4" not in names, fn.__name__


def test_reverse_packs_only_inactive_inputs():
    """Layer 2 of the MLP reads h (a derivative flows through it): rows as written; with x
    differentiated, layer 1 too. Weights stored in x out are packed either way."""
    names = _names(mlp_sum, ("w1", "b1", "w2", "b2"))
    assert "__pk0_wt" in names and "__pk1_wt" not in names
    assert not any(n.startswith("__pk") for n in _names(mlp_sum, ("w1", "x")))
    assert "__pk0_acc4" in _names(column_strided, ("w", "c", "x"))
    assert "__pk1_wt" in _names(mlp_sum)  # forward mode (no wrt): every layer packed


@pytest.mark.parametrize("n", SAMPLES)
def test_mlp_gradient(n):
    _agree(mlp_sum, _mlp_args(n), ("w1", "b1", "w2", "b2"))


@pytest.mark.parametrize("n", [0, 5, 33])
def test_mlp_gradient_wrt_inputs(n):
    _agree(mlp_sum, _mlp_args(n, hid=17, d_in=6), ("w1", "b1", "w2", "b2", "x"))


@pytest.mark.parametrize("n", SAMPLES)
def test_no_bias_gradient(n):
    _agree(no_bias, (RNG.standard_normal((18, 7)) * 0.3, RNG.standard_normal((n, 7))), ("w",))


@pytest.mark.parametrize("n", SAMPLES)
def test_column_strided_gradient(n):
    args = (RNG.standard_normal((5, 20)) * 0.3, RNG.standard_normal(20),
            RNG.standard_normal((n, 5)))
    _agree(column_strided, args, ("w", "c"))
    _agree(column_strided, args, ("w", "c", "x"))


@pytest.mark.parametrize("n", SAMPLES)
def test_backwards_gradient(n):
    args = (RNG.standard_normal((16, 11)) * 0.3, RNG.standard_normal(16) * 0.1,
            RNG.standard_normal((n, 11)))
    _agree(backwards, args, ("w", "b"))


@pytest.mark.parametrize("n", [0, 5])
def test_nested_sample_loop_gradient(n):
    """Derivative builds pack only outermost loops: the rows as written, still correct."""
    args = (RNG.standard_normal((20, 6)) * 0.3, RNG.standard_normal(20) * 0.1,
            RNG.standard_normal((n, 6)), 2)
    _agree(epochs, args, ("w", "b"))


@pytest.mark.parametrize("n", [0, 3, 9])
def test_recurrent_gradient(n):
    args = (RNG.standard_normal((17, 17)) * 0.2, RNG.standard_normal((n, 17)))
    _agree(recurrent, args, ("w", "x"))
    _agree(recurrent, args, ("w",))
    _agree(rescaled, (RNG.standard_normal((16, 5)) * 0.3, args[1][:, :5]), ("w", "x"))


@pytest.mark.parametrize("n", [0, 6, 33])
def test_forward_mode_jammed(n):
    """jvp builds pack and jam every layer; the tangent matches the opt_level=1 build."""
    args = _mlp_args(n)
    tangents = tuple(RNG.standard_normal(a.shape) for a in args[:4])
    wrt = ("w1", "b1", "w2", "b2")
    v, t = ember.jvp(ember.kernel(mlp_sum), wrt=wrt)(*args, tangents=tangents)
    v1, t1 = ember.jvp(ember.kernel(mlp_sum, opt_level=1), wrt=wrt)(*args, tangents=tangents)
    assert v == v1 == mlp_sum(*args)
    np.testing.assert_allclose(t, t1, rtol=1e-12, atol=1e-12)
