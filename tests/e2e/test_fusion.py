"""Fusion of producer/consumer loops (frontend/opt/fusion.py): fused exactly where iteration i of
each loop needs only iteration i of the others, and bitwise the same results as CPython and
as opt_level=0 for every length, with aliasing arguments and strided views."""

import numpy as np
import pytest

import ember
from ember import f64
from ember.frontend import build_program, tir
from ember.frontend.opt.fusion import fuse_loops


def pipeline(a: f64[:], b: f64[:], t: f64[:], out: f64[:]) -> None:
    for i in range(len(a)):
        t[i] = a[i] * a[i]
    for k in range(len(a)):
        out[k] = t[k] + b[k]


def chain3(a: f64[:], b: f64[:], out: f64[:]) -> float:
    s = 0.0
    for i in range(1, len(a) - 1):
        u = a[i] * 2.0
        b[i] = u * u
    for i in range(1, len(a) - 1):
        u = b[i] - a[i]
        out[i] = u
    for i in range(1, len(a) - 1):
        s += out[i] * a[i]
    return s


def rows(a: f64[:, :], t: f64[:, :], out: f64[:, :]) -> None:
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            t[i, j] = a[i, j] * 0.5
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i, j] = t[i, j] + a[i, j]


def two_sums(a: f64[:], b: f64[:]) -> float:
    s = 0.0
    for i in range(len(a)):
        s += a[i]
    t = 0.0
    for i in range(len(a)):
        t += a[i] * b[i]
    return s * t


def shifted(a: f64[:], t: f64[:], out: f64[:]) -> None:
    for i in range(len(a) - 1):
        t[i] = a[i] + 1.0
    for i in range(len(a) - 1):
        out[i] = t[i + 1]  # reads what a later iteration of the first loop writes


def anti(a: f64[:], t: f64[:], out: f64[:]) -> None:
    for i in range(1, len(a)):
        out[i] = t[i - 1]
    for i in range(1, len(a)):
        t[i] = a[i]  # overwrites what an earlier iteration of the first loop read


def scalar_flow(a: f64[:], out: f64[:]) -> None:
    m = 0.0
    for i in range(len(a)):
        m = max(m, a[i])
    for i in range(len(a)):
        out[i] = a[i] / (m + 1.0)


def other_bounds(a: f64[:], out: f64[:]) -> None:
    for i in range(len(a)):
        out[i] = a[i]
    for i in range(len(a) - 1):
        out[i] += a[i]


def bounds_from_memory(a: f64[:], n: f64[:], out: f64[:]) -> None:
    for i in range(int(n[0])):
        n[0] = 1.0
        out[i] = a[i]
    for i in range(int(n[0])):
        out[i] += a[i]


def var_after(a: f64[:], out: f64[:]) -> int:
    i = 0
    for i in range(len(a)):
        out[i] = a[i]
    for i in range(len(a)):
        out[i] += a[i]
    return i


def local_live_after(a: f64[:], out: f64[:]) -> float:
    u = 0.0
    for i in range(len(a)):
        u = a[i] * 2.0
        out[i] = u
    for i in range(len(a)):
        u = out[i] + 1.0
        a[i] = u
    return u


def nothing_shared(a: f64[:], b: f64[:]) -> None:
    for i in range(len(a)):
        a[i] = 1.0
    for i in range(len(a)):
        b[i] = 2.0


def transposed_reads(a: f64[:, :], x: f64[:], y: f64[:]) -> None:
    for i in range(a.shape[0]):
        s = 0.0
        for j in range(a.shape[1]):
            s += a[i, j]
        x[i] = s
    for i in range(a.shape[0]):
        s = 0.0
        for j in range(a.shape[1]):
            s += a[j, i]  # the same array, other elements: fusing would not pay
        y[i] = s


FUSED = {pipeline: 1, chain3: 1, rows: 1, two_sums: 1}
"""Kernels whose loops fuse, and how many loops remain at the top level."""
KEPT = [shifted, anti, scalar_flow, other_bounds, bounds_from_memory, var_after,
        local_live_after, nothing_shared, transposed_reads]


def _top_loops(fn):
    """Loops left at the top level by the fusion pass, or None if it changed nothing."""
    program = build_program(fn)
    entry = program.functions[program.entry]
    fused = fuse_loops(entry.body, dict(entry.var_types))
    if fused == entry.body:
        return None
    # the fused loop sits in the then-branch of its overlap check
    top = [t for s in fused for t in (s.then if isinstance(s, tir.If) else (s,))]
    return sum(isinstance(s, tir.For) for s in top)


@pytest.mark.parametrize("fn", list(FUSED), ids=lambda f: f.__name__)
def test_fused(fn):
    assert _top_loops(fn) == FUSED[fn]


@pytest.mark.parametrize("fn", KEPT, ids=lambda f: f.__name__)
def test_kept_apart(fn):
    assert _top_loops(fn) is None


def _inputs(fn, n, seed=0):
    rng = np.random.default_rng(seed)
    if fn is rows:
        return (rng.random((n, 3)), np.zeros((n, 3)), np.zeros((n, 3)))
    if fn is transposed_reads:
        return (rng.random((n, n)), np.zeros(n), np.zeros(n))
    if fn is bounds_from_memory:
        return (rng.random(n), np.array([float(n)]), np.zeros(n))
    k = {pipeline: 4, chain3: 3, shifted: 3, anti: 3}.get(fn, 2)
    return tuple(rng.random(n) for _ in range(k))


def _run(fn, args, **options):
    args = tuple(a.copy() for a in args)
    result = fn(*args) if not options else ember.kernel(fn, **options)(*args)
    return result, args


@pytest.mark.parametrize("n", [0, 1, 2, 7, 64, 1001])
@pytest.mark.parametrize("fn", [*FUSED, *KEPT], ids=lambda f: f.__name__)
def test_same_as_cpython_and_unoptimized(fn, n):
    args = _inputs(fn, n)
    want, want_args = _run(fn, args)
    for options in ({}, {"opt_level": 0}):
        got, got_args = _run(fn, args, **options)
        assert got == want, options
        for g, w in zip(got_args, want_args, strict=True):
            np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("case", ["same", "shifted_views", "output_is_input"])
def test_overlapping_arguments_keep_python_semantics(case):
    """Aliased arguments make fusion illegal: the run-time check runs the loops as written."""
    def make():
        buf = np.random.default_rng(3).random(40)
        if case == "same":
            return (buf[:20], buf[20:], buf[20:], buf[:20])  # t is b, out is a
        if case == "shifted_views":
            return (buf[:20], buf[20:], buf[1:21], buf[:20])  # t overlaps a shifted by one
        return (buf[:20], buf[20:], buf[10:30], buf[11:31])
    want_args, got_args = make(), make()
    pipeline(*want_args)
    ember.kernel(pipeline)(*got_args)
    np.testing.assert_array_equal(got_args[0].base, want_args[0].base)


def test_strided_views_agree():
    a = np.random.default_rng(4).random(60)
    want_args = (a[::3].copy(), a[1::3].copy(), np.zeros(20), np.zeros(40)[::2])
    got_args = tuple(x.copy() if x.flags.c_contiguous else np.zeros(40)[::2] for x in want_args)
    pipeline(*want_args)
    ember.kernel(pipeline)(*got_args)
    for g, w in zip(got_args, want_args, strict=True):
        np.testing.assert_array_equal(g, w)
