"""Dense layers over four samples per pass in the primal (frontend/opt/samplejam.py, through
packrows.py): results must equal CPython and the unoptimized build (opt_level=1) bit for bit,
for sample counts around the four-sample passes and row counts on both sides of MIN_ROWS
(below it every sample runs the rows as written); a layer reading an array its sample loop
writes, or a kernel writing a parameter, keeps one sample at a time."""

import numpy as np
import pytest

import ember
from ember.frontend.infer import build_program
from ember.frontend.opt.packrows import MIN_ROWS, pack_rows
from tests.e2e.test_pack_rows import centered
from tests.samplejam_kernels import (
    backwards,
    column_strided,
    epochs,
    mlp_sum,
    no_bias,
    recurrent,
    rescaled,
)

RNG = np.random.default_rng(16)
SAMPLES = [0, 1, 3, 4, 7, 33]


def _jammed(fn):
    program = build_program(fn)
    f = program.functions[program.entry]
    types = dict(f.var_types)
    pack_rows(f.body, types)
    return "__pk0_acc4" in types


def _same(fn, *args):  # weights scaled so that tanh does not saturate (it would hide ulps)
    want = fn(*args)
    assert ember.kernel(fn)(*args) == ember.kernel(fn, opt_level=1)(*args) == want


def test_jammed_where_legal():
    assert all(_jammed(fn) for fn in (mlp_sum, no_bias, column_strided, backwards, epochs))
    assert not _jammed(recurrent) and not _jammed(rescaled)
    assert not _jammed(centered)  # writes the parameter `out`


@pytest.mark.parametrize("n", SAMPLES)
@pytest.mark.parametrize("hid", [MIN_ROWS - 1, 21])
def test_mlp_bitwise(n, hid):
    d_in, d_out = 9, 3
    _same(mlp_sum, RNG.standard_normal((hid, d_in)) * 0.3, RNG.standard_normal(hid) * 0.1,
          RNG.standard_normal((d_out, hid)), RNG.standard_normal(d_out),
          RNG.standard_normal((n, d_in)), RNG.standard_normal((n, d_out)))


@pytest.mark.parametrize("n", SAMPLES)
def test_other_layers_bitwise(n):
    _same(no_bias, RNG.standard_normal((18, 7)), RNG.standard_normal((n, 7)))
    _same(column_strided, RNG.standard_normal((5, 20)), RNG.standard_normal(20),
          RNG.standard_normal((n, 5)))
    _same(backwards, RNG.standard_normal((16, 11)) * 0.3, RNG.standard_normal(16) * 0.1,
          RNG.standard_normal((n, 11)))
    _same(recurrent, RNG.standard_normal((17, 17)) * 0.3, RNG.standard_normal((n, 17)))
    _same(rescaled, RNG.standard_normal((16, 5)), RNG.standard_normal((n, 5)))
    _same(epochs, RNG.standard_normal((20, 6)) * 0.3, RNG.standard_normal(20) * 0.1,
          RNG.standard_normal((n, 6)), 3)


@pytest.mark.parametrize("n", [0, 5, 33])
def test_written_parameter_bitwise(n):
    w, mu, x = RNG.standard_normal((20, 7)), RNG.standard_normal(7), RNG.standard_normal((n, 7))
    outs = [np.zeros((n, 20)) for _ in range(3)]
    t = [ember.kernel(centered)(w, mu, x, outs[0]),
         ember.kernel(centered, opt_level=1)(w, mu, x, outs[1]), centered(w, mu, x, outs[2])]
    assert t[0] == t[1] == t[2]
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])
