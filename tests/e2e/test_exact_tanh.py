"""Vectorized f64 tanh in default kernels (runtime/exactmath.py): bit for bit the C library's
`math.tanh` on every range and remainder, in primal and gradient builds; fastmath unchanged."""

import ctypes
import functools
import math
import os
import struct
import sys

import numpy as np
import pytest

import ember
from ember import f64
from ember.runtime import exactmath

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
from grad_workloads import make_mlp, mlp  # noqa: E402

RNG = np.random.default_rng(15)


def tanh_map(x: f64[:], y: f64[:]) -> None:
    for i in range(len(x)):
        y[i] = math.tanh(x[i])


def _bits(a):
    return np.asarray(a, dtype=np.float64).view(np.uint64)


@functools.cache
def _inputs() -> np.ndarray:
    """Uniform in every binade 2^-60..2^6 (both signs), the neighbours of every threshold,
    zeros, subnormals, infinities, NaNs with payloads, and `probes()`."""
    per = 12_000
    binades = np.ldexp(1.0 + RNG.random((66, per)), np.arange(-60, 6)[:, None]).ravel()
    edges = [2.0 ** -55, 1.0, 22.0, 0.5 * math.log(2) / 2, 1.5 * math.log(2) / 2,
             0.25 * math.log(2), 56 * math.log(2) / 2, 28.25 * math.log(2), 2.0 ** -1022]
    near = [(_bits(e) + np.arange(-3000, 3000, dtype=np.int64).astype(np.uint64))
            .view(np.float64) for e in edges]
    words = np.array([0x3C800000, 0x3FF00000, 0x40360000, 0x3FC62E42, 0x3FE0A2B2,
                      0x3FD62E42, 0x3FF0A2B2], dtype=np.uint64) << np.uint64(32)
    high = [(w + RNG.integers(0, 2 ** 32, 3000, dtype=np.uint64)).view(np.float64)
            for w in words]
    sub = (RNG.integers(1, 2 ** 52, 4000, dtype=np.uint64)).view(np.float64)
    nans = (np.uint64(0x7FF8000000000000) | RNG.integers(0, 2 ** 51, 50, dtype=np.uint64))
    special = [0.0, 5e-324, math.inf, -math.inf, *exactmath.probes()]
    x = np.concatenate([binades, *near, *high, sub, [float(v) for v in special]])
    x = np.concatenate([x, -x, nans.view(np.float64), (-nans.view(np.float64))])
    return RNG.permutation(x)


def _libm(x: np.ndarray) -> np.ndarray:
    return np.array([math.tanh(v) for v in x.tolist()])


def test_vectorized_tanh_is_bitwise_libm_on_every_range():
    x = _inputs()
    assert x.size >= 1_000_000
    y = np.full_like(x, 7.0)
    ember.kernel(tanh_map)(x, y)
    want = _libm(x)
    differ = np.nonzero(_bits(y) != _bits(want))[0]
    assert differ.size == 0, [(x[i].hex(), y[i].hex(), want[i].hex()) for i in differ[:5]]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 63, 64, 65, 1001])
def test_every_remainder_length(n):
    x = RNG.choice(_inputs()[:50_000], n)
    y = np.empty(n)
    ember.kernel(tanh_map)(x, y)
    assert np.array_equal(_bits(y), _bits(_libm(x)))


def test_the_gate_and_the_loop_body():
    """Where enabled, the loop computes tanh in vector registers (no vector intrinsic left to
    scalarize) and gives the recorded bits on the probes; the cache key says so."""
    from ember.driver.cachekey import _host

    assert _host().endswith(exactmath.key_fact())
    if not exactmath.enabled():
        pytest.skip("no x86-64 glibc libm with FMA giving the recorded tanh bits")
    text = str(ember.kernel(tanh_map).inspect("llvm"))
    assert "@llvm.tanh.v" not in text and "fdiv <" in text
    probes = np.array(exactmath.probes())
    y = np.empty_like(probes)
    ember.kernel(tanh_map)(probes, y)
    assert exactmath.digest(y.tolist()) == exactmath.EXPECTED


@pytest.mark.parametrize("lanes", [2, 8])
def test_other_vector_widths(lanes):
    """`use_exact_tanh` on an `llvm.tanh.v<N>f64` call LLVM could make for other widths."""
    import llvmlite.binding as llvm

    from ember.runtime import native

    if not exactmath.enabled():
        pytest.skip("exact tanh not enabled here")
    v = f"<{lanes} x double>"
    ir = (f"declare {v} @llvm.tanh.v{lanes}f64({v})\n"
          f"define void @run(ptr %p, ptr %q) {{\n  %x = load {v}, ptr %p, align 8\n"
          f"  %y = call {v} @llvm.tanh.v{lanes}f64({v} %x)\n  store {v} %y, ptr %q, align 8\n"
          "  ret void\n}\n")
    tm = llvm.Target.from_default_triple().create_target_machine(  # the engine owns it
        cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(), opt=3)
    mod = native._parse(exactmath.use_exact_tanh(ir), tm)
    engine = llvm.create_mcjit_compiler(mod, tm)
    engine.finalize_object()
    run = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)(
        engine.get_function_address("run"))
    x = _inputs()[:lanes * 4000]
    y = np.empty_like(x)
    for i in range(0, x.size, lanes):
        run(x[i:].ctypes.data, y[i:].ctypes.data)
    assert np.array_equal(_bits(y), _bits(_libm(x)))


def test_mlp_primal_is_bitwise_cpython_and_gradient_matches_opt_level_1():
    args = make_mlp(6)
    assert struct.pack("<d", ember.kernel(mlp)(*args)) == struct.pack("<d", mlp(*args))
    wrt = ("w1", "b1", "w2", "b2")
    got = ember.grad(ember.kernel(mlp), wrt=wrt)(*args)
    want = ember.grad(ember.kernel(mlp, opt_level=1), wrt=wrt)(*args)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-12)


def test_fastmath_kernels_still_use_the_vector_math_library():
    from ember.runtime import vecmath

    text = str(ember.kernel(tanh_map, fastmath=True).inspect("llvm"))
    assert "ember.exact.tanh" not in text and "ux.i" not in text
    if vecmath.variant("tanh", 4, 64) is not None:
        assert "_ZGV" in text
