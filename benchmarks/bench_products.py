"""Array products (issue 13): `a @ b` and friends written with NumPy syntax in a kernel, vs
numpy.dot on the same arrays.

    python benchmarks/bench_products.py [--n 512] [--repeats 15]

Single thread (OPENBLAS/OMP/MKL_NUM_THREADS=1 are set before numpy loads). Every result is
checked against NumPy before it is timed; times are medians of interleaved batches
(bench_report.median_times), so background load affects Ember and NumPy alike.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import numpy as np  # noqa: E402
from bench_report import median_times  # noqa: E402

import ember  # noqa: E402
from ember import f64  # noqa: E402


@ember.kernel
def matmul(a: f64[:, :], b: f64[:, :]) -> f64[:, :]:
    return a @ b


@ember.kernel
def matmul_at(a: f64[:, :], b: f64[:, :]) -> f64[:, :]:
    return a.T @ b


@ember.kernel
def matmul_bt(a: f64[:, :], b: f64[:, :]) -> f64[:, :]:
    return a @ b.T


@ember.kernel
def matvec(a: f64[:, :], x: f64[:]) -> f64[:]:
    return a @ x


@ember.kernel
def dot(x: f64[:], y: f64[:]) -> float:
    return np.dot(x, y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.n
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    x, y = rng.standard_normal(1_000_000), rng.standard_normal(1_000_000)
    v = rng.standard_normal(n)
    cases = {
        f"a @ b ({n}x{n})": (lambda: matmul(a, b), lambda: np.dot(a, b)),
        f"a.T @ b ({n}x{n})": (lambda: matmul_at(a, b), lambda: np.dot(a.T, b)),
        f"a @ b.T ({n}x{n})": (lambda: matmul_bt(a, b), lambda: np.dot(a, b.T)),
        f"a @ v ({n}x{n})": (lambda: matvec(a, v), lambda: np.dot(a, v)),
        "np.dot(x, y) (1e6)": (lambda: dot(x, y), lambda: np.dot(x, y)),
    }
    opts = SimpleNamespace(min_time=0.05, repeats=args.repeats)
    print("| product | Ember | numpy.dot | Ember/numpy |\n|---|---|---|---|")
    for name, (ours, theirs) in cases.items():
        np.testing.assert_allclose(ours(), theirs(), rtol=1e-9, atol=1e-9)
        t = median_times({"ember": ours, "numpy": theirs}, opts)
        print(f"| {name} | {t['ember'] * 1e3:.3f} ms | {t['numpy'] * 1e3:.3f} ms | "
              f"{t['ember'] / t['numpy']:.2f} |")


if __name__ == "__main__":
    main()
