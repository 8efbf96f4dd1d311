"""Matvec rows over a packed transpose (frontend/opt/packrows.py): dense layers applied per
sample run with the rows as vector lanes. Results must equal the unoptimized build
(opt_level=1) and CPython bit for bit, for row counts on both sides of MIN_ROWS, reduction
lengths that leave a remainder, and a written parameter that shares memory with the matrix
(the run-time check then runs the rows as written)."""

import math

import numpy as np
import pytest

import ember
from ember import f64
from ember.frontend.infer import build_program
from ember.frontend.opt.packrows import MIN_ROWS, pack_rows
from tests.matvec_kernels import mlp


def centered(w: f64[:, :], mu: f64[:], x: f64[:, :], out: f64[:, :]) -> float:
    """v(i) reads two arrays, the product is written v * w, the epilogue writes a parameter."""
    t = 0.0
    for s in range(x.shape[0]):
        for j in range(w.shape[0]):
            a = 0.5 * j
            for i in range(w.shape[1]):
                a += (x[s, i] - mu[i]) * w[j, i]
            out[s, j] = math.tanh(a)
            t += out[s, j]
    return t


def column_layer(w: f64[:, :], b: f64[:], x: f64[:, :]) -> float:
    """The weights stored in x out (w[i, j]): its rows are lanes already, no pack."""
    h = np.empty(b.shape[0])
    t = 0.0
    for s in range(x.shape[0]):
        for j in range(b.shape[0]):
            a = b[j]
            for i in range(x.shape[1]):
                a += x[s, i] * w[i, j]
            h[j] = math.tanh(a)
        for j in range(b.shape[0]):
            t += h[j] * x[s, 0]
    return t


def writes_w(w: f64[:, :], x: f64[:, :]) -> float:
    """w changes inside the sample loop: the rows stay as written."""
    t = 0.0
    for s in range(x.shape[0]):
        for j in range(w.shape[0]):
            a = 0.0
            for i in range(w.shape[1]):
                a += w[j, i] * x[s, i]
            t += math.tanh(a)
        w[0, 0] = t
    return t


RNG = np.random.default_rng(11)


def _entry(fn, ad=False):
    program = build_program(fn, ad=ad)
    f = program.functions[program.entry]
    return f.body, dict(f.var_types)


@pytest.mark.parametrize("ad", [False, True])
def test_dense_layers_are_packed(ad):
    for fn in (mlp, column_layer):
        body, types = _entry(fn, ad)
        assert pack_rows(body, types, derivative=ad) != body
    body, types = _entry(writes_w, ad)
    assert pack_rows(body, types, derivative=ad) == body


@pytest.mark.parametrize("hid", [1, 5, MIN_ROWS - 1, MIN_ROWS, 19, 40])
@pytest.mark.parametrize("d_in", [1, 4, 8, 19])
@pytest.mark.parametrize("d_out", [3, 17])
def test_mlp_matches_plain_loops_bitwise(hid, d_in, d_out):
    """d_out = 17: the output layer is packed too, `loss += e * e` runs the rows in order."""
    n = 6
    args = (RNG.standard_normal((hid, d_in)), RNG.standard_normal(hid),
            RNG.standard_normal((d_out, hid)), RNG.standard_normal(d_out),
            RNG.standard_normal((n, d_in)), RNG.standard_normal((n, d_out)))
    got = ember.kernel(mlp)(*args)
    assert got == ember.kernel(mlp, opt_level=1)(*args) == mlp(*args)


@pytest.mark.parametrize("rows", [2, MIN_ROWS, 37])
def test_column_layer_matches_plain_loops_bitwise(rows):
    args = (RNG.standard_normal((6, rows)), RNG.standard_normal(rows),
            RNG.standard_normal((5, 6)))
    got = ember.kernel(column_layer)(*args)
    assert got == ember.kernel(column_layer, opt_level=1)(*args) == column_layer(*args)


def test_no_samples_reads_no_matrix():
    """The pack runs only if the sample loop does: here w1 has no rows at all."""
    args = (np.zeros((0, 3)), np.zeros(20), np.zeros((2, 20)), np.zeros(2),
            np.zeros((0, 3)), np.zeros((0, 2)))
    assert np.isnan(ember.kernel(mlp)(*args))  # 0.0 / 0, as in NumPy


@pytest.mark.parametrize("rows", [3, 24])
def test_written_parameter_and_shared_memory(rows):
    w, mu, x = (RNG.standard_normal((rows, 7)), RNG.standard_normal(7),
                RNG.standard_normal((5, 7)))
    k = ember.kernel(centered)
    outs = [np.zeros((5, rows)) for _ in range(3)]
    t = [k(w, mu, x, outs[0]), ember.kernel(centered, opt_level=1)(w, mu, x, outs[1]),
         centered(w, mu, x, outs[2])]
    assert t[0] == t[1] == t[2]
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])
    # out is w itself: each row's epilogue changes the matrix the next rows read
    square = RNG.standard_normal((rows, rows))
    xs = RNG.standard_normal((4, rows))
    a, b = square.copy(), square.copy()
    assert k(a, np.zeros(rows), xs[:rows], a[:4] if rows >= 4 else a) == centered(
        b, np.zeros(rows), xs[:rows], b[:4] if rows >= 4 else b)
    assert np.array_equal(a, b)
