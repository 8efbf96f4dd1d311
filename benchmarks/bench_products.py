"""Array products (issue 13): `a @ b` and friends written with NumPy syntax in a kernel, vs
NumPy evaluating the same expression on the same arrays (numpy.dot; for the chains also
np.linalg.multi_dot, which reorders as Ember does; the epilogue cases as NumPy writes them,
with a temporary for the product).

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
from collections.abc import Callable  # noqa: E402
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


@ember.kernel
def chain_vec(a: f64[:, :], b: f64[:, :], x: f64[:]) -> f64[:]:
    return a @ b @ x  # run-time order: a @ (b @ x), two matrix-vector products


@ember.kernel
def chain3(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> f64[:, :]:
    return a @ b @ c


@ember.kernel
def gemm(alpha: float, a: f64[:, :], b: f64[:, :], beta: float, c: f64[:, :]) -> f64[:, :]:
    return alpha * (a @ b) + beta * c  # one product, the epilogue in its stores


@ember.kernel
def dense(a: f64[:, :], w: f64[:, :], bias: f64[:]) -> f64[:, :]:
    return np.maximum(a @ w + bias, 0.0)  # a dense layer with ReLU, in the product's stores


@ember.kernel
def accumulate(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    c += a @ b  # the tiles start from c: no array for a @ b


def _updated(c: np.ndarray, update: Callable[[], object]) -> np.ndarray:
    update()
    return c


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
    big, big2 = rng.standard_normal((1000, 1000)), rng.standard_normal((1000, 1000))
    u = rng.standard_normal(1000)
    tall, wide = rng.standard_normal((2 * n, 16)), rng.standard_normal((16, 2 * n))
    c = rng.standard_normal((n, n))
    c1, c2 = c.copy(), c.copy()
    cases = {
        f"a @ b ({n}x{n})": (lambda: matmul(a, b), lambda: np.dot(a, b)),
        f"a.T @ b ({n}x{n})": (lambda: matmul_at(a, b), lambda: np.dot(a.T, b)),
        f"a @ b.T ({n}x{n})": (lambda: matmul_bt(a, b), lambda: np.dot(a, b.T)),
        f"a @ v ({n}x{n})": (lambda: matvec(a, v), lambda: np.dot(a, v)),
        "np.dot(x, y) (1e6)": (lambda: dot(x, y), lambda: np.dot(x, y)),
        "A @ B @ x (1000x1000)": (lambda: chain_vec(big, big2, u), lambda: big @ big2 @ u),
        "A @ B @ x vs multi_dot": (lambda: chain_vec(big, big2, u),
                                   lambda: np.linalg.multi_dot([big, big2, u])),
        f"A @ B @ C ({2 * n}x16, 16x{2 * n}, {2 * n}x16)": (
            lambda: chain3(tall, wide, tall), lambda: tall @ wide @ tall),
        "A @ B @ C vs multi_dot": (lambda: chain3(tall, wide, tall),
                                   lambda: np.linalg.multi_dot([tall, wide, tall])),
        f"2.0 * (a @ b) - 0.5 * c ({n}x{n})": (lambda: gemm(2.0, a, b, -0.5, c),
                                                lambda: 2.0 * (a @ b) - 0.5 * c),
        f"np.maximum(a @ b + v, 0.0) ({n}x{n})": (lambda: dense(a, b, v),
                                                  lambda: np.maximum(a @ b + v, 0.0)),
        f"c += a @ b ({n}x{n})": (lambda: _updated(c1, lambda: accumulate(a, b, c1)),
                                  lambda: _updated(c2, lambda: np.add(c2, a @ b, out=c2))),
    }
    opts = SimpleNamespace(min_time=0.05, repeats=args.repeats)
    print("| product | Ember | NumPy (same expression) | Ember/numpy |\n|---|---|---|---|")
    for name, (ours, theirs) in cases.items():
        np.testing.assert_allclose(ours(), theirs(), rtol=1e-9, atol=1e-8)
        t = median_times({"ember": ours, "numpy": theirs}, opts)
        print(f"| {name} | {t['ember'] * 1e3:.3f} ms | {t['numpy'] * 1e3:.3f} ms | "
              f"{t['ember'] / t['numpy']:.2f} |")


if __name__ == "__main__":
    main()
