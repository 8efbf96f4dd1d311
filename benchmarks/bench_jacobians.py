"""`jacrev` of an n-output kernel against n gradients of the same computation reduced to a
scalar (the acceptance figure of issue 16: jacrev <= n x 1.2 gradients), on a moderate kernel
(10 outputs of a loop over 1e4 elements), a smaller one and a tiny one (3 outputs of 8
elements); `jacfwd` against one `jvp` call per input element where the input is small. A
Jacobian call is one call of its native loop (runtime/jacnative.py); the "row by row" column
is `jacrev` by the Python loop, one derivative call per row (`Jacobian.rows`).

    python benchmarks/bench_jacobians.py          # ~30 seconds; prints a Markdown table

Times: CPU time of the calling thread (`time.thread_time`; steadier than wall time on a shared
machine); A and B called alternately in one process, the median of REPEATS rounds.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

import numpy as np

from ember import f64, grad, jacfwd, jacrev, jvp

REPEATS = 9


def outputs(x: f64[:], n: int) -> f64[:]:
    out = np.zeros(n)
    for i in range(x.shape[0]):
        out[i % n] += math.sin(x[i]) * x[i]
    return out


def reduced(x: f64[:], n: int, c: f64[:]) -> f64:
    out = np.zeros(n)
    for i in range(x.shape[0]):
        out[i % n] += math.sin(x[i]) * x[i]
    total = 0.0
    for k in range(n):
        total += out[k] * c[k]
    return total


def _time(f: Callable[[], object], inner: int) -> float:
    start = time.thread_time()
    for _ in range(inner):
        f()
    return (time.thread_time() - start) / inner


def measure(size: int, n: int) -> dict[str, float]:
    x = np.linspace(0.1, 2.0, size)
    jr, jf = jacrev(outputs, wrt="x"), jacfwd(outputs, wrt="x")
    g, t = grad(reduced, wrt="x"), jvp(outputs, wrt="x")
    c, e = np.zeros(n), np.zeros(size)
    e[0] = 1.0
    np.testing.assert_allclose(jr(x, n), jf(x, n), rtol=1e-12)  # compiles, warms up
    rows = [g(x, n, np.eye(n)[k]) for k in range(n)]
    np.testing.assert_allclose(jr(x, n), np.array(rows), rtol=1e-12)
    inner = max(2, 20_000 // size)
    jobs = {"jacrev": lambda: jr(x, n),
            "n grads": lambda: [g(x, n, c) for _ in range(n)],
            "rows": lambda: jr.rows(x, n)}
    if size <= 1000:  # jacfwd: one jvp per input element
        jobs.update({"jacfwd": lambda: jf(x, n),
                     "size jvps": lambda: [t(x, n, tangents=(e,)) for _ in range(size)]})
    times: dict[str, list[float]] = {k: [] for k in jobs}
    for _ in range(REPEATS):
        for name, job in jobs.items():
            times[name].append(_time(job, inner))
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    print("| kernel | jacrev / (n x grad) | row by row / (n x grad) | jacfwd / (size x jvp) "
          "| jacrev (s) | grad (s) |")
    print("|---|---|---|---|---|---|")
    for size, n in ((10_000, 10), (1000, 10), (8, 3)):
        m = measure(size, n)
        fwd = f"{m['jacfwd'] / m['size jvps']:.2f}" if "jacfwd" in m else "-"
        print(f"| {n} outputs, {size} elements | {m['jacrev'] / m['n grads']:.2f} | "
              f"{m['rows'] / m['n grads']:.2f} | {fwd} | "
              f"{m['jacrev']:.2e} | {m['n grads'] / n:.2e} |")


if __name__ == "__main__":
    main()
