"""Unroll-and-jam of matvec rows with a scalar accumulator and an elementwise epilogue
(frontend/opt/jam.py): `a = b[j]; for i: a += w[j, i] * x[s, i]; h[j] = tanh(a)` inside a loop
over samples, and the output layer's `loss += e * e` carried from row to row. The jammed
kernels must give the results of the loops as written bit for bit (opt_level=1 and CPython),
for every row count (remainder rows), and keep Python's semantics where arrays overlap."""

import math

import numpy as np
import pytest

import ember
from ember import f64
from ember.frontend import tir
from ember.frontend.infer import build_program
from tests.helpers import assert_same
from tests.matvec_kernels import layer_out, mlp


def two_reductions(w: f64[:, :], x: f64[:]) -> float:
    """Two scalars carried across rows, each by one statement after the inner loop."""
    loss = 0.0
    biggest = -1e300
    for j in range(w.shape[0]):
        a = 0.0
        for i in range(w.shape[1]):
            a += w[j, i] * x[i]
        loss += a * a
        biggest = max(biggest, a)
    return loss + biggest


def reduction_read_twice(w: f64[:, :], x: f64[:], out: f64[:]) -> float:
    """`loss` is read by a second statement: rows interact, not jammed."""
    loss = 0.0
    for j in range(w.shape[0]):
        a = 0.0
        for i in range(w.shape[1]):
            a += w[j, i] * x[i]
        loss += a
        out[j] = loss
    return loss


def alias_of_param(w: f64[:, :], x: f64[:], out: f64[:]) -> None:
    """`h` is the caller's array under another name: the overlap check stays."""
    h = out
    for j in range(w.shape[0]):
        a = 0.0
        for i in range(w.shape[1]):
            a += w[j, i] * x[i]
        h[j] = math.tanh(a)


RNG = np.random.default_rng(5)
JAMMED = [mlp, layer_out, two_reductions, alias_of_param]


@pytest.mark.parametrize("fn", [*JAMMED, reduction_read_twice], ids=lambda f: f.__name__)
def test_jammed_where_rows_are_independent(fn):
    program = build_program(fn, optimize=True)
    fast = program.functions[program.entry].fast_body
    assert (fast is not None) == (fn in JAMMED)
    if fast is not None:
        checks = [n for n in tir.walk(fast) if isinstance(n, tir.Call) and n.op == "disjoint"]
        # a fresh local (`h = np.empty`) cannot overlap a parameter: no check for it
        assert bool(checks) == (fn in (layer_out, alias_of_param))


@pytest.fixture(scope="module")
def mlps():
    return ember.kernel(mlp), ember.kernel(mlp, opt_level=1)


@pytest.mark.parametrize("hid,d_out", [(1, 1), (3, 2), (4, 4), (5, 7), (9, 10), (128, 10)])
def test_mlp_bitwise_for_every_row_count(mlps, hid, d_out):
    fast, plain = mlps
    n, d_in = 6, 13
    args = (RNG.standard_normal((hid, d_in)) * 0.3, RNG.standard_normal(hid),
            RNG.standard_normal((d_out, hid)) * 0.3, RNG.standard_normal(d_out),
            RNG.standard_normal((n, d_in)), RNG.standard_normal((n, d_out)))
    got = fast(*args)
    assert got == plain(*args)
    assert got == mlp(*args)  # CPython: the same libm tanh, the same order


@pytest.mark.parametrize("rows", [1, 3, 4, 6, 11])
def test_small_kernels_match_cpython_bitwise(rows):
    cols = 9
    w, x = RNG.standard_normal((rows, cols)), RNG.standard_normal(cols)
    assert_same(layer_out, w, RNG.standard_normal(rows), x, np.zeros(rows))
    assert_same(two_reductions, w, x)
    assert_same(reduction_read_twice, w, x, np.zeros(rows))
    assert_same(alias_of_param, w, x, np.zeros(rows))


def _out_is_x(fn, py):
    rows = 6
    w, buf = np.random.default_rng(1).standard_normal((rows, rows)), np.arange(8.0) / 8
    args = (w, buf[2:8], buf[0:6]) if py is alias_of_param else (w, w[0], buf[2:8], buf[0:6])
    fn(*args)  # out overlaps x, shifted: later rows read what earlier rows wrote
    return buf


def _out_is_a_row_of_w(fn, py):
    w = np.random.default_rng(2).standard_normal((6, 6))
    x = np.linspace(-1, 1, 6)
    fn(*((w, x, w[2]) if py is alias_of_param else (w, x * 2, x, w[2])))
    return w


@pytest.mark.parametrize("fn", [alias_of_param, layer_out], ids=lambda f: f.__name__)
@pytest.mark.parametrize("case", [_out_is_x, _out_is_a_row_of_w], ids=lambda c: c.__name__)
def test_overlapping_arguments_keep_python_semantics(fn, case):
    np.testing.assert_array_equal(case(ember.kernel(fn), fn), case(fn, fn))
