"""Per-example gradients: `vmap(grad(f))` on a batch of 256 against 256 separate `grad(f)`
calls (the acceptance figure of issue 16: at least 5x), on logistic regression (16 features)
and a tiny MLP (8 tanh units over 16 inputs), both written as loops; plus `vmap(f)` against a
loop of kernel calls; then where the MLP's time goes (`mlp_breakdown`).

    python benchmarks/bench_vmap.py          # ~20 seconds; prints a Markdown table

Times: CPU time of the calling thread (`time.thread_time`; steadier than wall time on a shared
machine); A and B called alternately in one process, the median of REPEATS rounds of INNER calls.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

import numpy as np

from ember import f64, grad, kernel, vmap

REPEATS = 21
INNER = 20
BATCH = 256


@kernel
def logistic(w: f64[:], x: f64[:], y: float) -> float:
    z = 0.0
    for j in range(len(w)):
        z += w[j] * x[j]
    p = 1.0 / (1.0 + math.exp(-z))
    return -(y * math.log(p) + (1.0 - y) * math.log(1.0 - p))


@kernel
def mlp(w1: f64[:, :], w2: f64[:], x: f64[:], y: float) -> float:
    h = np.zeros(w1.shape[0])
    for i in range(w1.shape[0]):
        s = 0.0
        for j in range(w1.shape[1]):
            s += w1[i, j] * x[j]
        h[i] = math.tanh(s)
    o = 0.0
    for i in range(len(w2)):
        o += w2[i] * h[i]
    return (o - y) ** 2


@kernel
def empty_mlp(w1: f64[:, :], w2: f64[:], x: f64[:], y: float) -> float:
    """The MLP's signature, no work: what 256 `grad` calls cost besides the gradients."""
    return w1[0, 0] * x[0] + w2[0] * y


@kernel
def mlp_square(w1: f64[:, :], w2: f64[:], x: f64[:], y: float) -> float:
    """The MLP with `tanh(s)` replaced by `s * s`: what its 2048 `tanh` cost in one call."""
    h = np.zeros(w1.shape[0])
    for i in range(w1.shape[0]):
        s = 0.0
        for j in range(w1.shape[1]):
            s += w1[i, j] * x[j]
        h[i] = s * s
    o = 0.0
    for i in range(len(w2)):
        o += w2[i] * h[i]
    return (o - y) ** 2


@kernel
def mlp_batch_inner(w1: f64[:, :, :], w2: f64[:, :], x: f64[:, :], y: f64[:]) -> float:
    """The MLP's summed loss over a batch on the LAST axis, the batch loop innermost in each
    statement (the form issue 16 suggests generating): bitwise the same gradients."""
    n = x.shape[1]
    h = np.zeros((w1.shape[0], n))
    s = np.empty(n)
    for i in range(w1.shape[0]):
        for b in range(n):
            s[b] = 0.0
        for j in range(w1.shape[1]):
            for b in range(n):
                s[b] += w1[i, j, b] * x[j, b]
        for b in range(n):
            h[i, b] = math.tanh(s[b])
    o = np.zeros(n)
    for i in range(w2.shape[0]):
        for b in range(n):
            o[b] += w2[i, b] * h[i, b]
    total = 0.0
    for b in range(n):
        total += (o[b] - y[b]) ** 2
    return total


def _time(fn: Callable[[], object]) -> float:
    start = time.thread_time()
    for _ in range(INNER):
        fn()
    return (time.thread_time() - start) / INNER


def medians(*fns: Callable[[], object]) -> tuple[float, ...]:
    """The median time of each of `fns`, called alternately."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(REPEATS):
        for fn, got in zip(fns, times, strict=True):
            got.append(_time(fn))
    return tuple(statistics.median(got) for got in times)


def ratio(loop: Callable[[], object], one: Callable[[], object]) -> tuple[float, float]:
    a, b = medians(loop, one)
    return a, b


def main() -> None:
    rng = np.random.default_rng(0)
    xs, ys = rng.standard_normal((BATCH, 16)), (rng.random(BATCH) > 0.5).astype(float)
    w, w1, w2 = rng.standard_normal(16) * 0.1, rng.standard_normal((8, 16)) * 0.3, \
        rng.standard_normal(8)
    g1, g2 = grad(logistic), grad(mlp, wrt=("w1", "w2"))
    p1, p2 = vmap(g1, in_axes=(None, 0, 0)), vmap(g2, in_axes=(None, None, 0, 0))
    v1 = vmap(logistic, in_axes=(None, 0, 0))
    rows = [
        ("per-example grad, logistic (16)", lambda: [g1(w, xs[b], ys[b]) for b in range(BATCH)],
         lambda: p1(w, xs, ys)),
        ("per-example grad, MLP (8x16)",
         lambda: [g2(w1, w2, xs[b], ys[b]) for b in range(BATCH)], lambda: p2(w1, w2, xs, ys)),
        ("values, logistic (16)", lambda: [logistic(w, xs[b], ys[b]) for b in range(BATCH)],
         lambda: v1(w, xs, ys)),
    ]
    print(f"| batch of {BATCH} | {BATCH} calls (us) | one vmap call (us) | ratio |")
    print("|---|---|---|---|")
    for name, loop, one in rows:
        a, b = ratio(loop, one)
        print(f"| {name} | {a * 1e6:.0f} | {b * 1e6:.0f} | {a / b:.1f}x |")
    mlp_breakdown(w1, w2, xs, ys, p2)


def mlp_breakdown(w1: np.ndarray, w2: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                  batched: Callable[..., object]) -> None:
    """Where the MLP's time goes (BENCHMARKS.md): the call overhead of 256 `grad` calls and of
    one `vmap(grad)` call (the no-work kernel), the share of `tanh` (the MLP with `s * s`),
    and `vmap(grad)` against the batch-innermost form's gradient (inputs laid out once)."""
    ge, gi = grad(empty_mlp, wrt=("w1", "w2")), grad(mlp_batch_inner, wrt=("w1", "w2"))
    pe = vmap(ge, in_axes=(None, None, 0, 0))
    ps = vmap(grad(mlp_square, wrt=("w1", "w2")), in_axes=(None, None, 0, 0))
    fixed, square, full = medians(lambda: pe(w1, w2, xs, ys), lambda: ps(w1, w2, xs, ys),
                                  lambda: batched(w1, w2, xs, ys))
    print(f"\nMLP: one `vmap(grad)` call of a no-work kernel {fixed * 1e6:.0f} us (the zeroed "
          f"per-example gradients, the call); with `s * s` for `tanh` {square * 1e6:.0f} us, "
          f"with `tanh` {full * 1e6:.0f} us")
    big1 = np.ascontiguousarray(np.broadcast_to(w1[:, :, None], (*w1.shape, BATCH)))
    big2 = np.ascontiguousarray(np.broadcast_to(w2[:, None], (*w2.shape, BATCH)))
    xt = np.ascontiguousarray(xs.T)
    want = batched(w1, w2, xs, ys)[0]
    assert np.array_equal(np.moveaxis(gi(big1, big2, xt, ys)[0], -1, 0), want)
    a, b = ratio(lambda: [ge(w1, w2, xs[k], ys[k]) for k in range(BATCH)],
                 lambda: gi(big1, big2, xt, ys))
    print(f"MLP: {BATCH} `grad` calls of a no-work kernel {a * 1e6:.0f} us; gradient of the "
          f"batch-innermost form {b * 1e6:.0f} us (inputs laid out, no copies)")


if __name__ == "__main__":
    main()
