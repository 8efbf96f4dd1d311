"""Parallel gradients: `grad` of `prange` kernels against `grad` of the same kernels with
`range`, in one process, calls alternated (A, B, A, B, ...), median of the repeats.

    python benchmarks/bench_parallel_grad.py [--repeats N]

Checks first that both gradients agree (rows private: bitwise; shared shadows: to 1e-12) and
that two parallel runs are bitwise identical; then prints the wall time of each and the ratio
serial / parallel (OMP_NUM_THREADS unset: all cores), and the load average before and after.
On a loaded machine the wall ratio says little; the CPU time of the calling thread does not
depend on the load: with OMP_WAIT_POLICY=passive (no spinning at the barrier) serial CPU /
parallel calling-thread CPU is the speedup balanced chunks give on free cores.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

import numpy as np

import ember
from ember import f64, prange


def map_par(x: f64[:], w: f64[:]) -> float:
    s = 0.0
    for i in prange(x.shape[0]):
        s += math.sin(x[i]) * w[i % 4] + math.exp(math.cos(x[i]) * 0.1)
    return s


def map_ser(x: f64[:], w: f64[:]) -> float:
    s = 0.0
    for i in range(x.shape[0]):
        s += math.sin(x[i]) * w[i % 4] + math.exp(math.cos(x[i]) * 0.1)
    return s


def rows_par(a: f64[:, :], v: f64[:]) -> float:
    s = 0.0
    for i in prange(a.shape[0]):
        acc = 0.0
        for j in range(a.shape[1]):
            acc += math.tanh(a[i, j] * v[j])
        s += acc * acc
    return s


def rows_ser(a: f64[:, :], v: f64[:]) -> float:
    s = 0.0
    for i in range(a.shape[0]):
        acc = 0.0
        for j in range(a.shape[1]):
            acc += math.tanh(a[i, j] * v[j])
        s += acc * acc
    return s


def _time(f: object, args: tuple[object, ...]) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.thread_time()
    f(*args)  # type: ignore[operator]
    return time.perf_counter() - start, time.thread_time() - cpu


def compare(name: str, par: object, ser: object, args: tuple[object, ...],
            wrt: tuple[str, ...], repeats: int) -> float:
    gp, gs = ember.grad(par, wrt=wrt), ember.grad(ser, wrt=wrt)
    first, second, serial = gp(*args), gp(*args), gs(*args)
    assert all(np.array_equal(p, q) for p, q in zip(first, second, strict=True))
    for p, q in zip(first, serial, strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-12)
    tp, ts = [], []
    for _ in range(repeats):
        tp.append(_time(gp, args))
        ts.append(_time(gs, args))
    p, s = (statistics.median(t[0] for t in tp), statistics.median(t[0] for t in ts))
    pc, sc = (statistics.median(t[1] for t in tp), statistics.median(t[1] for t in ts))
    print(f"{name:30s} wall: parallel {p * 1e3:7.2f} ms serial {s * 1e3:7.2f} ms ratio "
          f"{s / p:.2f} | calling thread CPU: {pc * 1e3:7.2f} ms {sc * 1e3:7.2f} ms ratio "
          f"{sc / pc:.2f}")
    return s / p


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=21)
    repeats = parser.parse_args().repeats
    rng = np.random.default_rng(0)
    print(f"load average before: {os.getloadavg()}, cores: {os.cpu_count()}")
    compare("grad, 1e6 elements (sin/exp)", map_par, map_ser,
            (rng.standard_normal(1_000_000), rng.standard_normal(4)), ("x", "w"), repeats)
    compare("grad, 2000x500 rows (tanh)", rows_par, rows_ser,
            (rng.standard_normal((2000, 500)), rng.standard_normal(500)), ("a", "v"), repeats)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
