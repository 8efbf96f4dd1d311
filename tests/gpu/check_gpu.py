"""The GPU test suite from prebuilt artefacts, for a GPU machine without Ember's toolchain.

    python tests/gpu/check_gpu.py build DIR   # here, with Ember: the AOT GPU build of
                                              # gpu_kernels.py, every case's inputs and the CPU
                                              # build's results (DIR/cases.pkl), this script
    python DIR/check_gpu.py                   # there: numpy + cuda-python (+ CuPy, PyTorch)

The run mode imports only numpy, pickle, the generated loader (numpy + cuda-python) and, if
present, CuPy and PyTorch. It runs every kernel of gpu_kernels.py on the GPU and compares the
result and the written arrays with the CPU build's (as tests/gpu/test_device.py does with
Ember installed); then device arrays in place (`to_device`, CuPy, PyTorch) and large inputs
(10M-element saxpy and strided reductions: many warps, many iterations per thread; array
code) against NumPy; then the derivatives of grad_kernels.py (jvp, grad, vjp of GPU kernels:
their manifests, the derivative entry's arguments with shadows and seeds, and the CPU
derivative's results and gradients, in DIR/grads.pkl). One line per check; exit status 0 if
all pass, 1 if one fails, 2 without a GPU.
"""

from __future__ import annotations

import importlib.util
import math
import pickle
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent


def same(got: Any, want: Any, rtol: float, what: str = "result") -> None:
    """GPU and CPU results (and mutated arguments) agree to `rtol` (exactly for ints)."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), what
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            same(g, w, rtol, f"{what}[{k}]")
        return
    if want is None:
        assert got is None, f"{what}: {got!r}"
        return
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray) and got.shape == want.shape, what
        assert got.dtype == want.dtype, what
    else:
        assert type(got) is type(want), f"{what}: {type(got)} vs {type(want)}"
    if rtol == 0 or np.asarray(want).dtype.kind in "biu":
        np.testing.assert_array_equal(got, want, err_msg=what)
    else:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, err_msg=what)


def copies(args: tuple) -> tuple:
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


# --- here: build the bundle (needs Ember) ----------------------------------------------------
def build(out: Path) -> None:
    import shutil

    import gpu_kernels
    from cases import CASES, RACY_ON_CPU

    import ember

    result = ember.build(str(HERE / "gpu_kernels.py"), str(out), target="gpu")
    data = {}
    for name, (make, rtol) in CASES.items():
        fn = getattr(gpu_kernels, name).py_func
        cpu = fn if name in RACY_ON_CPU else ember.kernel(fn)
        args = make()
        after = copies(args)
        data[name] = {"args": args, "result": cpu(*after), "after": after, "rtol": rtol}
    with open(out / "cases.pkl", "wb") as f:
        pickle.dump(data, f)
    shutil.copy(Path(__file__), out / "check_gpu.py")
    print(f"wrote {out}: loader, {len(result['ptx'])} PTX files, {len(data)} cases")
    print(f"wrote {out}: {build_grads(out)} derivative cases")


def build_grads(out: Path) -> int:
    """DIR/grads.pkl: per case of grad_kernels.py, the GPU derivative's manifest, its entry's
    arguments (primal arguments, shadows, seed) and the CPU derivative entry's results and
    arguments after the call (the shadows hold the gradients)."""
    import grad_kernels as gk

    from ember.runtime.derivcall import _Seeds

    data = {}
    for name, (_, kind, _, _, make, seeds, rtol) in gk.GRAD_CASES.items():
        gpu, cpu = gk.derivative(name), gk.derivative(name, cpu=True)
        args, _ = _Seeds(gpu.info(), seeds if kind == "jvp" else None,
                         seeds if kind == "vjp" else None).arguments(make())
        after = copies(tuple(args))
        data[name] = {"manifest": gpu.compile().main.manifest.to_json(), "args": tuple(args),
                      "result": cpu.compile().main.entry(*after), "after": after, "rtol": rtol}
    with open(out / "grads.pkl", "wb") as f:
        pickle.dump(data, f)
    return len(data)


# --- there: run the checks ---------------------------------------------------------------------
def load(folder: Path) -> Any:
    spec = importlib.util.spec_from_file_location("_gpu_kernels_bundle", folder / "gpu_kernels.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def case_checks(m: Any, data: dict) -> dict[str, Callable[[], None]]:
    """One check per kernel: the CPU build's results on the same inputs."""
    def check(name: str) -> Callable[[], None]:
        def run() -> None:
            case = data[name]
            args = copies(case["args"])
            same(getattr(m, name)(*args), case["result"], case["rtol"])
            for k, (g, w) in enumerate(zip(args, case["after"], strict=True)):
                if isinstance(w, np.ndarray):
                    same(g, w, case["rtol"], f"argument {k} after the call")
        return run
    return {f"same as CPU: {name}": check(name) for name in sorted(data)}


def grad_checks(m: Any, grads: dict) -> list[tuple[str, str]]:
    """(name, outcome) per derivative case: the GPU derivative against the CPU's."""
    def check(case: dict) -> None:
        rt = m._runtime
        fn = rt.GpuFunction(rt.GpuManifest.from_json(case["manifest"]))
        args = copies(case["args"])
        same(fn(*args), case["result"], case["rtol"])
        for k, (g, w) in enumerate(zip(args, case["after"], strict=True)):
            if isinstance(w, np.ndarray):
                same(g, w, case["rtol"], f"argument {k} after the call")

    return _outcomes({f"derivative same as CPU: {name}": (lambda c=case: check(c))
                      for name, case in sorted(grads.items())})


def _outcomes(checks: dict[str, Callable[[], str | None]]) -> list[tuple[str, str]]:
    outcomes = []
    for name, check in checks.items():
        try:
            note = check()
            outcomes.append((name, note or "ok"))
        except Exception as err:  # report every failure, then go on
            last = traceback.format_exception_only(type(err), err)[-1].strip()
            outcomes.append((name, f"FAILED: {last}"))
    return outcomes


def _heat(u: np.ndarray, k: float) -> np.ndarray:
    out = np.zeros_like(u)
    c = u[1:-1, 1:-1]
    out[1:-1, 1:-1] = c + k * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] - 4 * c)
    return out


def _device_arrays(m: Any) -> None:
    x = np.arange(1000, dtype=np.float32)
    dx, dy = m.to_device(x), m.to_device(np.ones(1000, np.float32))
    m.saxpy(np.float32(2), dx, dy)
    np.testing.assert_array_equal(m.from_device(dy), 1 + 2 * x)


def _cupy(m: Any) -> str | None:
    try:
        import cupy as cp
    except ImportError:
        return "skipped: CuPy not installed"
    x, y = cp.arange(1000, dtype=cp.float32), cp.ones(1000, dtype=cp.float32)
    m.saxpy(np.float32(2), x, y)
    np.testing.assert_array_equal(cp.asnumpy(y), 1 + 2 * np.arange(1000, dtype=np.float32))
    assert m.total(cp.asarray(np.full(4097, 0.5))) == 4097 * 0.25
    return None


def _torch(m: Any) -> str | None:
    try:
        import torch
    except ImportError:
        return "skipped: PyTorch not installed"
    if not torch.cuda.is_available():
        return "skipped: PyTorch without CUDA"
    u = torch.rand(64, 80, dtype=torch.float64, device="cuda")
    out = torch.zeros_like(u)
    m.heat_step(u, out, 0.1)
    torch.cuda.synchronize()
    np.testing.assert_allclose(out.cpu().numpy(), _heat(u.cpu().numpy(), 0.1), rtol=1e-12,
                               atol=1e-12)
    return None


def _large_saxpy(m: Any) -> None:
    n = 10_000_019
    x = np.random.default_rng(0).random(n, np.float32)
    y = np.ones(n, np.float32)
    want = y + np.float32(3) * x
    m.saxpy(np.float32(3), x, y)
    np.testing.assert_allclose(y, want, rtol=1e-6)


def _large_reductions(m: Any) -> None:
    x = np.random.default_rng(1).random(10_000_019)
    got = m.total(x)
    assert math.isclose(got, math.fsum(x * x), rel_tol=1e-9), got
    ints = np.random.default_rng(2).integers(-1000, 1000, 10_000_019)
    assert m.count_above(ints, 100) == int(np.count_nonzero(ints > 100))
    u = np.random.default_rng(3).random((3001, 2003))
    d = u[2:, 2002:0:-3] - u[:-2, 2002:0:-3]
    e, n = m.gradient_stats(u, 3)
    assert math.isclose(e, math.fsum((d * d).ravel()), rel_tol=1e-9), e
    assert n == int(np.count_nonzero(d > 0.0)), n


def _large_arrays(m: Any) -> None:
    """Array code: whole-array statements (one thread per element) and np.sum (strided)."""
    r = np.random.default_rng(4)
    x, y = r.random(10_000_019, np.float32), r.random(10_000_019, np.float32)
    out = np.zeros_like(x)
    want = np.float32(0.5) * x + y
    m.array_saxpy(np.float32(0.5), x, y, out)
    np.testing.assert_allclose(out, want, rtol=1e-6)
    u, w = r.random((3001, 2003)), r.random(2003)
    k = r.integers(-1000, 1000, 1_000_003)
    want_s = math.fsum((u * w).ravel())
    s, n = m.array_sums(u.copy(), w, k)
    assert math.isclose(s, want_s, rel_tol=1e-9), s
    assert n == int(np.sum(k * k)), n


def extra_checks(m: Any) -> dict[str, Callable[[], str | None]]:
    checks = {"to_device / from_device": _device_arrays, "CuPy arrays in place": _cupy,
              "PyTorch CUDA tensors in place": _torch, "saxpy, 10M elements": _large_saxpy,
              "strided reductions, 10M elements and 3001x2003": _large_reductions,
              "array code, 10M elements and 3001x2003": _large_arrays}
    return {name: (lambda check=check: check(m)) for name, check in checks.items()}


def run_checks(m: Any, data: dict) -> list[tuple[str, str]]:
    """(name, 'ok' | 'skipped: ...' | 'FAILED: ...') per check."""
    return _outcomes({**case_checks(m, data), **extra_checks(m)})


def main(argv: list[str]) -> int:
    if argv[:1] == ["build"] and len(argv) == 2:
        build(Path(argv[1]))
        return 0
    folder = Path(argv[0]) if argv else HERE
    m = load(folder)
    if not m.is_available():
        try:
            m._runtime.device()
        except RuntimeError as err:
            print(f"{err}; nothing checked")
        return 2
    with open(folder / "cases.pkl", "rb") as f:
        data = pickle.load(f)
    outcomes = run_checks(m, data)
    if (folder / "grads.pkl").exists():
        with open(folder / "grads.pkl", "rb") as f:
            outcomes += grad_checks(m, pickle.load(f))
    for name, outcome in outcomes:
        status, _, detail = outcome.partition(": ")
        print(f"{status:8s} {name}" + (f" ({detail})" if detail else ""))
    failed = sum(o.startswith("FAILED") for _, o in outcomes)
    print(f"{len(outcomes) - failed} of {len(outcomes)} checks passed or skipped, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
