"""prange scaling: serial `range` vs `prange` versions of the same kernels, in one process.

    python benchmarks/bench_parallel.py [--write]   # --write: the "## Parallel loops" section

Checks that the parallel results equal the serial ones (bitwise without reductions), reports
the median time of each and the speedup on this machine's cores (OMP_NUM_THREADS unset).
"""

from __future__ import annotations

import argparse
import math
import os
import pathlib
import statistics
import time

import numpy as np
from bench_report import write_section

import ember
from ember import f64, prange

ROOT = pathlib.Path(__file__).resolve().parents[1]


def sin_map(x: f64[:], out: f64[:]) -> None:
    for i in range(len(x)):
        v = x[i]
        for _ in range(40):
            v = math.sin(v) + 0.5
        out[i] = v


def sin_map_par(x: f64[:], out: f64[:]) -> None:
    for i in prange(len(x)):
        v = x[i]
        for _ in range(40):
            v = math.sin(v) + 0.5
        out[i] = v


def pairwise(pos: f64[:, :], out: f64[:]) -> None:
    for i in range(pos.shape[0]):
        e = 0.0
        for j in range(pos.shape[0]):
            if i != j:
                d = 0.0
                for k in range(pos.shape[1]):
                    t = pos[i, k] - pos[j, k]
                    d += t * t
                e += 1.0 / math.sqrt(d + 1e-9)
        out[i] = e


def pairwise_par(pos: f64[:, :], out: f64[:]) -> None:
    for i in prange(pos.shape[0]):
        e = 0.0
        for j in range(pos.shape[0]):
            if i != j:
                d = 0.0
                for k in range(pos.shape[1]):
                    t = pos[i, k] - pos[j, k]
                    d += t * t
                e += 1.0 / math.sqrt(d + 1e-9)
        out[i] = e


def total(x: f64[:]) -> float:
    s = 0.0
    for i in range(len(x)):
        s += math.exp(-x[i] * x[i])
    return s


def total_par(x: f64[:]) -> float:
    s = 0.0
    for i in prange(len(x)):
        s += math.exp(-x[i] * x[i])
    return s


def _median(f, args, repeats: int = 7) -> float:
    f(*args)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f(*args)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random(2_000_000)
    pos = rng.random((2000, 3))
    cases = [("sin_map (2M elements)", sin_map, sin_map_par, lambda: (x, np.zeros_like(x)), True),
             ("pairwise (2000 bodies)", pairwise, pairwise_par,
              lambda: (pos, np.zeros(2000)), True),
             ("sum of exp (2M, reduction)", total, total_par, lambda: (x,), False)]
    rows = ["| kernel | serial | prange | speedup | results |", "|---|---|---|---|---|"]
    for name, serial, parallel, make, bitwise in cases:
        ks, kp = ember.kernel(serial), ember.kernel(parallel)
        a, b = make(), make()
        rs, rp = ks(*a), kp(*b)
        if bitwise:
            same = "bitwise equal" if np.array_equal(a[-1], b[-1]) else "DIFFERENT"
        else:
            same = f"rel. diff {abs(rs - rp) / abs(rs):.1e}"
        ts, tp = _median(ks, a), _median(kp, b)
        rows.append(f"| {name} | {ts * 1e3:.1f} ms | {tp * 1e3:.1f} ms | {ts / tp:.2f}x | {same} |")
    text = "\n".join(["## Parallel loops", "",
                      f"`python benchmarks/bench_parallel.py --write`; {os.cpu_count()} cores, "
                      "median of 7 runs, `prange` on OpenMP threads (libgomp).", "", *rows, ""])
    print(text)
    if args.write:
        write_section("Parallel loops", text)


if __name__ == "__main__":
    main()
