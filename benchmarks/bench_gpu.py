"""GPU benchmark from prebuilt AOT artefacts: saxpy bandwidth vs the device's peak, a prange
dot product (a scalar reduction) vs CuPy / PyTorch, a 2-D stencil, and a prange matmul vs
CuPy / PyTorch matmul (when importable).

    python bench_gpu.py --build DIR   # here, with Ember: PTX + loader into DIR
    python bench_gpu.py DIR           # on the GPU machine: numpy + cuda-python only

The run mode loads DIR/gpu_kernels_bench.py (the generated loader) by path and never imports
Ember, so it runs on a machine (e.g. Python 3.12 + cuda-python + CuPy + PyTorch) that cannot
install Ember's toolchain. Arrays live on the device (`to_device`), so timings exclude
host <-> device copies; each kernel call ends with a stream synchronization.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
NAME = "gpu_kernels_bench"


def build(out: Path) -> None:
    import ember

    result = ember.build(str(HERE / f"{NAME}.py"), str(out), target="gpu")
    print(f"wrote {result['loader']} and {len(result['ptx'])} PTX files")


def load(folder: Path):
    spec = importlib.util.spec_from_file_location(f"_{NAME}", folder / f"{NAME}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert "ember" not in sys.modules, "the loader must not import ember"
    return module


def best(fn, repeat: int = 20) -> float:
    fn()  # warm-up: module load, first launch
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_bandwidth(m) -> float:
    """GB/s from the memory clock (kHz) and bus width (bits), double data rate."""
    dev = m._runtime.device()
    try:
        clock = dev.attribute("CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE")
        width = dev.attribute("CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH")
    except RuntimeError:
        return float("nan")
    return 2 * clock * 1e3 * width / 8 / 1e9


def bench_saxpy(m, n: int) -> None:
    x = m.to_device(np.random.default_rng(0).random(n, np.float32))
    y = m.to_device(np.ones(n, np.float32))
    t = best(lambda: m.saxpy(np.float32(2.0), x, y))
    gbs = 3 * 4 * n / t / 1e9  # read x, read y, write y
    peak = peak_bandwidth(m)
    print(f"saxpy   n={n:>11,}  {t * 1e3:8.3f} ms  {gbs:7.1f} GB/s  "
          f"({100 * gbs / peak:.0f}% of {peak:.0f} GB/s peak)")


def bench_dot(m, n: int) -> None:
    rng = np.random.default_rng(3)
    x_h, y_h = rng.random(n, np.float32), rng.random(n, np.float32)
    x, y = m.to_device(x_h), m.to_device(y_h)
    t = best(lambda: m.dot(x, y))
    want = float(np.dot(x_h.astype(np.float64), y_h))
    got = m.dot(x, y)
    print(f"dot     n={n:>11,}  {t * 1e3:8.3f} ms  {2 * 4 * n / t / 1e9:7.1f} GB/s  "
          f"(relative error {abs(got - want) / want:.1e})")
    try:
        import cupy as cp

        a, b = cp.asarray(x_h), cp.asarray(y_h)
        t = best(lambda: float(cp.dot(a, b)))
        print(f"        cupy  dot    {t * 1e3:8.3f} ms  {2 * 4 * n / t / 1e9:7.1f} GB/s")
    except ImportError:
        print("        (cupy not installed)")
    try:
        import torch

        if torch.cuda.is_available():
            a, b = torch.from_numpy(x_h).cuda(), torch.from_numpy(y_h).cuda()
            t = best(lambda: float(torch.dot(a, b)))
            print(f"        torch dot    {t * 1e3:8.3f} ms  {2 * 4 * n / t / 1e9:7.1f} GB/s")
    except ImportError:
        print("        (torch not installed)")


def bench_stencil(m, n: int) -> None:
    u = m.to_device(np.random.default_rng(1).random((n, n)))
    out = m.to_device(np.zeros((n, n)))
    t = best(lambda: m.heat_step(u, out, 0.1))
    gbs = 2 * 8 * n * n / t / 1e9
    print(f"stencil {n}x{n}  {t * 1e3:8.3f} ms  {gbs:7.1f} GB/s (1 read + 1 write per point)")


def bench_matmul(m, n: int) -> None:
    rng = np.random.default_rng(2)
    a_h, b_h = rng.random((n, n), np.float32), rng.random((n, n), np.float32)
    a, b, c = m.to_device(a_h), m.to_device(b_h), m.to_device(np.zeros((n, n), np.float32))
    t = best(lambda: m.matmul(a, b, c), repeat=5)
    flops = 2 * n**3
    print(f"matmul  {n}x{n}  ember prange {t * 1e3:8.2f} ms  {flops / t / 1e12:6.2f} TFLOP/s")
    np.testing.assert_allclose(m.from_device(c), a_h @ b_h, rtol=1e-3)
    _library_matmul(a_h, b_h, flops)


def _library_matmul(a_h, b_h, flops) -> None:
    try:
        import cupy as cp

        a, b = cp.asarray(a_h), cp.asarray(b_h)
        t = best(lambda: (a @ b, cp.cuda.get_current_stream().synchronize()), repeat=5)
        print(f"        cupy  a @ b  {t * 1e3:8.2f} ms  {flops / t / 1e12:6.2f} TFLOP/s")
    except ImportError:
        print("        (cupy not installed)")
    try:
        import torch

        if torch.cuda.is_available():
            a, b = torch.from_numpy(a_h).cuda(), torch.from_numpy(b_h).cuda()
            t = best(lambda: (a @ b, torch.cuda.synchronize()), repeat=5)
            print(f"        torch a @ b  {t * 1e3:8.2f} ms  {flops / t / 1e12:6.2f} TFLOP/s")
    except ImportError:
        print("        (torch not installed)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="artefact folder")
    parser.add_argument("--build", action="store_true", help="build the artefacts (needs Ember)")
    parser.add_argument("--n", type=int, default=1 << 26, help="saxpy length")
    args = parser.parse_args()
    if args.build:
        build(args.folder)
        return 0
    m = load(args.folder)
    if not m.is_available():
        print("no CUDA driver/GPU found; nothing to measure", file=sys.stderr)
        return 1
    bench_saxpy(m, args.n)
    bench_dot(m, args.n)
    bench_stencil(m, 4096)
    bench_matmul(m, 1024)
    return 0


if __name__ == "__main__":
    sys.exit(main())
