"""Matmul-class loops and vector math: Ember's register tiles vs numpy.dot, Numba and C.

    python benchmarks/bench_matmul.py [--write] [--quick]   # --write: "## Matmul and vector math"

Single thread everywhere (OPENBLAS/OMP/MKL_NUM_THREADS=1 are set before numpy loads). Every
result is checked (against numpy.dot, or against the plain loop bitwise for Ember's default
mode) before it is timed; times are medians of interleaved batches (bench_report).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import ctypes  # noqa: E402
import math  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
from bench_report import median_times, write_section  # noqa: E402

import ember  # noqa: E402
from ember import f64  # noqa: E402


def gemm_ijk(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    """The textbook loop: a local accumulator per element."""
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            s = 0.0
            for k in range(a.shape[1]):
                s += a[i, k] * b[k, j]
            c[i, j] = s


def gemm_ikj(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    """The cache-friendly loop order (c must start at zero)."""
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            c[i, j] = 0.0
        for k in range(a.shape[1]):
            for j in range(b.shape[1]):
                c[i, j] += a[i, k] * b[k, j]


def batched(a: f64[:, :, :], b: f64[:, :, :], c: f64[:, :, :]) -> None:
    """c[n] = a[n] @ b[n]."""
    for n in range(c.shape[0]):
        for i in range(a.shape[1]):
            for j in range(b.shape[2]):
                s = 0.0
                for k in range(a.shape[2]):
                    s += a[n, i, k] * b[n, k, j]
                c[n, i, j] = s


def sum_sin_sq(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        s += math.sin(x[i] * x[i])
    return s


C_SIN = """
#include <math.h>
double sum_sin_sq(const double *x, long n) {
    double s = 0.0;
    for (long i = 0; i < n; i++) s += sin(x[i] * x[i]);
    return s;
}
"""


def _c_sum_sin_sq():
    """gcc -O3 -march=native -ffast-math (vectorizes through libmvec), or None."""
    tmp = tempfile.mkdtemp(prefix="ember-bench-")
    src, lib = os.path.join(tmp, "s.c"), os.path.join(tmp, "s.so")
    with open(src, "w") as f:
        f.write(C_SIN)
    cmd = ["gcc", "-O3", "-march=native", "-ffast-math", "-shared", "-fPIC", src, "-o", lib,
           "-lmvec", "-lm"]
    if subprocess.run(cmd, capture_output=True).returncode != 0:
        return None
    fn = ctypes.CDLL(lib).sum_sin_sq
    fn.restype, fn.argtypes = ctypes.c_double, [ctypes.c_void_p, ctypes.c_long]
    return fn


def _gemm_rows(sizes: list[int], opts: SimpleNamespace) -> tuple[list[str], list[float]]:
    rows = ["| loop | n | Ember | Ember fastmath | Ember opt_level=1 | Numba | Numba fastmath | "
            "numpy.dot | Ember/numpy.dot | Ember/Numba | GFLOP/s (Ember) |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    rng = np.random.default_rng(0)
    at_512 = []
    for fn in (gemm_ijk, gemm_ikj):
        impls = {"ember": ember.kernel(fn), "ember_fm": ember.kernel(fn, fastmath=True),
                 "ember_o1": ember.kernel(fn, opt_level=1), "numba": numba.njit(fn),
                 "numba_fm": numba.njit(fn, fastmath=True)}
        for n in sizes:
            a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
            outs = {k: np.zeros((n, n)) for k in impls}
            for k, f in impls.items():
                f(a, b, outs[k])
            assert np.array_equal(outs["ember"], outs["ember_o1"]), "tiles changed a result bit"
            for k in impls:
                np.testing.assert_allclose(outs[k], a @ b, rtol=1e-10, atol=1e-10)
            calls = {k: (lambda f=f, o=outs[k]: f(a, b, o)) for k, f in impls.items()}
            calls["numpy"] = lambda: np.dot(a, b)
            t = median_times(calls, opts)
            cells = [f"{t[k] * 1e3:.2f} ms" for k in (*impls, "numpy")]
            if n == 512:
                at_512.append(t["ember"] / t["numpy"])
            rows.append(f"| `{fn.__name__}` | {n} | {' | '.join(cells)} | "
                        f"{t['ember'] / t['numpy']:.2f} | {t['ember'] / t['numba']:.2f} | "
                        f"{2 * n**3 / t['ember'] / 1e9:.1f} |")
    return rows, at_512


def _batched_rows(opts: SimpleNamespace) -> list[str]:
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((16, 128, 128)), rng.standard_normal((16, 128, 128))
    impls = {"Ember": ember.kernel(batched),
             "Ember opt_level=1": ember.kernel(batched, opt_level=1), "Numba": numba.njit(batched)}
    outs = {k: np.zeros((16, 128, 128)) for k in impls}
    for k, f in impls.items():
        f(a, b, outs[k])
        np.testing.assert_allclose(outs[k], np.matmul(a, b), rtol=1e-10, atol=1e-10)
    assert np.array_equal(outs["Ember"], outs["Ember opt_level=1"])
    calls = {k: (lambda f=f, o=outs[k]: f(a, b, o)) for k, f in impls.items()}
    calls["numpy.matmul"] = lambda: np.matmul(a, b)
    t = median_times(calls, opts)
    rows = ["| batched 16 x 128x128 | time | vs numpy.matmul |", "|---|---|---|"]
    rows += [f"| {k} | {v * 1e3:.2f} ms | {v / t['numpy.matmul']:.2f} |" for k, v in t.items()]
    return rows


def _sin_rows(opts: SimpleNamespace) -> list[str]:
    x = np.random.default_rng(1).random(2_000_000)
    impls = {"Ember": ember.kernel(sum_sin_sq), "Ember fastmath":
             ember.kernel(sum_sin_sq, fastmath=True), "Numba": numba.njit(sum_sin_sq),
             "Numba fastmath": numba.njit(sum_sin_sq, fastmath=True)}
    calls = {k: (lambda f=f: f(x)) for k, f in impls.items()}
    c_fn = _c_sum_sin_sq()
    if c_fn is not None:
        calls["C -O3 -ffast-math"] = lambda: c_fn(x.ctypes.data, len(x))
    want = math.fsum(np.sin(x * x))
    for name, call in calls.items():
        assert abs(call() - want) <= 1e-9 * abs(want), name
    t = median_times(calls, opts)
    rows = ["| sum(sin(x²)), 2M doubles | time | vs Numba fastmath |", "|---|---|---|"]
    rows += [f"| {k} | {v * 1e3:.2f} ms | {v / t['Numba fastmath']:.2f} |" for k, v in t.items()]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    opts = SimpleNamespace(min_time=0.05 if args.quick else 0.2, repeats=3 if args.quick else 7)
    sizes = [256] if args.quick else [256, 500, 512]
    gemm, at_512 = _gemm_rows(sizes, opts)
    aim = (f"Aim from issue #5: a loop-written 512x512 GEMM within 1.3x of numpy.dot: "
           f"{'met' if at_512 and max(at_512) <= 1.3 else 'MISSED'} "
           f"({', '.join(f'{r:.2f}x' for r in at_512)})." if at_512 else "")
    uname = os.uname()
    text = "\n".join([
        "## Matmul and vector math", "",
        "`python benchmarks/bench_matmul.py --write` (one thread; median of interleaved "
        f"batches; {uname.machine}, {os.cpu_count()} cores, numpy {np.__version__}, "
        f"numba {numba.__version__}). Ember's default mode gives results bitwise equal to "
        "`opt_level=1` (checked); fastmath lets LLVM contract the multiply-adds.", "",
        *gemm, "", aim, "", *_batched_rows(opts), "", *_sin_rows(opts), ""])
    print(text)
    if args.write:
        write_section("Matmul and vector math", text)


if __name__ == "__main__":
    sys.exit(main())
