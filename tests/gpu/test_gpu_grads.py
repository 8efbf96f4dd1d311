"""Derivatives of `target="gpu"` kernels (driver/gpu_derivatives.py): every case of
grad_kernels.py runs on the CPU stand-in (emulator.py) and gives the derivatives of the
kernel's CPU build; every nest's PTX (the primal nests a reverse derivative launches first,
the derivative nests) passes `ptxas` without spills; the stand-in agrees with central finite
differences; what cannot be differentiated on the GPU is refused at the user's line."""

import re

import grad_kernels as gk
import numpy as np
import pytest
from check_gpu import same
from emulator import EmulatedDevice
from test_ptxas import assemble

import ember
from ember import f64, kernel, prange


@pytest.fixture(scope="module")
def stand_in():
    return EmulatedDevice()


@pytest.fixture
def on_stand_in(stand_in, monkeypatch):
    from ember.runtime import cuda

    monkeypatch.setattr(cuda, "device", lambda: stand_in)
    stand_in.launches.clear()
    return stand_in


@pytest.mark.parametrize("name", sorted(gk.GRAD_CASES))
def test_same_as_cpu_and_ptxas_accepts(name, on_stand_in, tmp_path):
    d = gk.derivative(name)
    on_stand_in.add_derivative(d)
    got, args = gk.run(d, name)
    want, cpu_args = gk.run(gk.derivative(name, cpu=True), name)
    rtol = gk.GRAD_CASES[name][-1]
    same(got, want, rtol)
    for k, (g, w) in enumerate(zip(args, cpu_args, strict=True)):
        if isinstance(w, np.ndarray):
            same(g, w, rtol, f"argument {k} after the call")
    manifest = d.compile().main.manifest
    reverse = gk.GRAD_CASES[name][1] != "jvp"
    derived = [n for n in manifest.nests if n.kernel.endswith(("_jvp_kernel", "_vjp_kernel"))]
    assert len(manifest.nests) == len(derived) * (2 if reverse else 1)
    assert {n for n, *_ in on_stand_in.launches} == {n.kernel for n in manifest.nests}
    for nest in manifest.nests:
        report = assemble(nest.ptx, manifest.arch, tmp_path)
        assert re.search(rf"Function properties for {nest.kernel}\n\s+\d+ bytes stack frame, "
                         r"0 bytes spill stores, 0 bytes spill loads", report), report
        assert "malloc" not in nest.ptx
    if reverse:  # shadow updates of iterations running at once: atomic adds
        assert all("atom.global.add" in n.ptx for n in derived)


def _fd(f, args, k, h=1e-6):
    """Central differences of scalar-valued f along parameter k (all elements)."""
    x = args[k]
    if not isinstance(x, np.ndarray):
        up, down = list(args), list(args)
        up[k], down[k] = x + h, x - h
        return (f(*up) - f(*down)) / (2 * h)
    out = np.zeros_like(x)
    for i in range(x.size):
        up, down = x.copy(), x.copy()
        up.flat[i] += h
        down.flat[i] -= h
        out.flat[i] = (f(*args[:k], up, *args[k + 1:]) - f(*args[:k], down, *args[k + 1:])) / (
            2 * h)
    return out


def test_finite_differences_on_the_stand_in(on_stand_in):
    """value_and_grad of two nests with host scalars between them, against central
    differences of the GPU kernel itself (both on the stand-in)."""
    d = ember.value_and_grad(gk.two_stage, wrt=("x", "c"))
    on_stand_in.add_derivative(d)  # and the kernel
    rng = np.random.default_rng(30)
    x, c = rng.random(40) - 0.3, 0.7
    value, (gx, gc) = d(x, np.zeros(40), c)

    def f(x, c):
        return gk.two_stage(x, np.zeros(40), c)

    assert value == pytest.approx(f(x, c), rel=1e-12)
    np.testing.assert_allclose(gx, _fd(f, (x, c), 0), rtol=1e-6, atol=1e-8)
    assert gc == pytest.approx(_fd(f, (x, c), 1), rel=1e-6)
    tangent = ember.jvp(gk.two_stage, wrt=("x", "c"))
    on_stand_in.add_derivative(tangent)
    v = rng.random(40)
    _, dt = tangent(x, np.zeros(40), c, tangents=(v, 0.5))
    assert dt == pytest.approx(gx @ v + 0.5 * gc, rel=1e-12)  # jvp = grad . direction


@kernel(target="gpu")
def in_place(x: f64[:], y: f64[:]) -> None:
    for i in prange(len(x)):
        y[i] = x[i] * 2.0
    for i in prange(len(x)):
        x[i] = y[i] * y[i]


@kernel(target="gpu")
def binned(x: f64[:], idx: ember.i64[:], h: f64[:]) -> None:
    for i in prange(len(x)):
        h[idx[i]] += x[i] * x[i]


@kernel(target="gpu")
def peaks(m: f64[:, :], out: f64[:]) -> None:
    for i in prange(m.shape[0]):
        out[i] = np.max(m[i])


@kernel(target="gpu")
def counted(x: f64[:]) -> float:
    s = 0.0
    n = 0
    for i in prange(len(x)):
        s += x[i]
        n += 1
    return s / n


def _refusal(d, args, pattern, line):
    with pytest.raises(ember.CompileError, match=pattern) as info:
        d(*args)
    assert f"line {line}," in str(info.value), str(info.value)


def test_refusals():
    x, y = np.ones(8), np.zeros(8)
    first = in_place.py_func.__code__.co_firstlineno  # the decorator's line
    _refusal(ember.vjp(in_place, wrt="x", outputs="x"), (x, y),
             r"reads 'x', which it or a later loop of the kernel overwrites", first + 2)
    _refusal(ember.vjp(binned, wrt="x", outputs="h"), (x, np.zeros(8, np.int64), y),
             r"an atomic add", binned.py_func.__code__.co_firstlineno + 3)
    _refusal(ember.vjp(peaks, wrt="m", outputs="out"), (np.ones((3, 4)), np.zeros(3)),
             r"needs a tape", peaks.py_func.__code__.co_firstlineno + 2)
    _refusal(ember.vjp(gk.newton, wrt="x", outputs="out"), (x + 1, y),
             r"`while` loop inside a GPU prange loop in reverse mode",
             gk.newton.py_func.__code__.co_firstlineno + 6)
    _refusal(ember.jvp(counted, wrt="x"), (x,), r"also sums integers",
             counted.py_func.__code__.co_firstlineno + 4)
    with pytest.raises(TypeError, match="checkpoint= is for CPU kernels"):
        ember.grad(counted, checkpoint="binomial")(x)


def test_forward_mode_in_place(on_stand_in):
    """jvp has no reverse pass: nests that overwrite their inputs are fine."""
    d = ember.jvp(in_place, wrt="x", outputs="x")
    on_stand_in.add_derivative(d)
    x, v = np.linspace(-1, 1, 9), np.linspace(0, 2, 9)
    _, tangent = d(x.copy(), np.zeros(9), tangents=(v,))
    np.testing.assert_allclose(tangent, 8 * x * v, rtol=1e-14)


def test_bundle_checks_on_the_stand_in(on_stand_in, tmp_path):
    """The check bundle's derivative cases (check_gpu.py build_grads, expected values from
    the CPU derivatives) pass on the stand-in, and a wrong expected gradient is reported."""
    import pickle
    from types import SimpleNamespace

    import check_gpu

    from ember.runtime import cuda

    assert check_gpu.build_grads(tmp_path) == len(gk.GRAD_CASES)
    with open(tmp_path / "grads.pkl", "rb") as f:
        grads = pickle.load(f)
    for name in grads:
        on_stand_in.add_derivative(gk.derivative(name))
    loader = SimpleNamespace(_runtime=cuda)  # what the AOT loader exposes
    outcomes = dict(check_gpu.grad_checks(loader, grads))
    assert outcomes == {f"derivative same as CPU: {n}": "ok" for n in grads}
    grads["heat_vjp"]["after"][1][5, 5] += 1e-6  # the shadow of u: the gradient
    bad = dict(check_gpu.grad_checks(loader, {"heat_vjp": grads["heat_vjp"]}))
    assert bad["derivative same as CPU: heat_vjp"].startswith("FAILED: AssertionError")


def test_ember_build_exports_gpu_derivatives(on_stand_in, tmp_path, monkeypatch):
    """`ember build --target gpu` writes the derivatives of GPU kernels into the loader
    (numpy + cuda-python only); they are called like the JIT derivatives."""
    import importlib.util

    kernels = [gk.energy, ember.value_and_grad(gk.energy, wrt=("x", "a")),
               ember.jvp(gk.heat, wrt="u", outputs="out"),
               ember.vjp(in_place, wrt="x", outputs="x")]
    result = ember.build(kernels, str(tmp_path), target="gpu")
    assert result["compiled"] == ["energy", "value_and_grad_energy", "jvp_heat"]
    assert result["skipped"] == ["vjp_in_place"]  # refused on the GPU: not exported
    spec = importlib.util.spec_from_file_location("_grads_bundle", tmp_path / "kernels.py")
    loader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loader)
    monkeypatch.setattr(loader._runtime, "device", lambda: on_stand_in)
    for d in kernels[1:3]:
        on_stand_in.add_derivative(d)
    x, w = np.linspace(-1, 1, 50), np.linspace(0, 1, 50)
    value, (gx, ga) = loader.value_and_grad_energy(x, w, 0.3)
    want_value, (want_gx, want_ga) = kernels[1](x, w, 0.3)
    assert value == pytest.approx(want_value, rel=1e-14) and ga == pytest.approx(want_ga)
    np.testing.assert_allclose(gx, want_gx, rtol=1e-13)
    u, v = np.random.default_rng(40).random((6, 7)), np.ones((6, 7))
    _, tangent = loader.jvp_heat(u, np.zeros((6, 7)), 0.2, tangents=(v,))
    np.testing.assert_allclose(tangent, kernels[2](u, np.zeros((6, 7)), 0.2,
                                                   tangents=(v,))[1], rtol=1e-14)


def test_device_arrays(on_stand_in):
    """Arrays the derivative neither differentiates nor writes may be device arrays (used in
    place); one that needs a shadow must be a numpy array (a TypeError, not a gradient
    written into the argument)."""
    from emulator import FakeCudaArray

    d = ember.grad(gk.energy, wrt="a")
    on_stand_in.add_derivative(d)
    x, w = np.linspace(-1, 1, 64), np.linspace(0, 1, 64)
    assert d(FakeCudaArray(x), FakeCudaArray(w), 0.3) == pytest.approx(d(x, w, 0.3), rel=1e-14)
    dx = ember.grad(gk.energy, wrt="x")
    on_stand_in.add_derivative(dx)
    with pytest.raises(TypeError, match="argument 'x' must be a numpy array"):
        dx(FakeCudaArray(x.copy()), w, 0.3)
