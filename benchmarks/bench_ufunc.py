"""NumPy ufuncs (issue 17): `ember.vectorize`/`guvectorize` against Numba's `@vectorize`/
`@guvectorize` on the same Python functions and against the NumPy expression, on contiguous,
strided and small inputs, float64 and float32, serial and `target="parallel"`.

    python benchmarks/bench_ufunc.py          # ~30 seconds; prints a Markdown table

Times: wall time (`time.perf_counter`: the parallel rows use other threads), the three
calls alternated in one process, the median of REPEATS rounds of INNER calls each. The ratio
column is Numba's time over Ember's (above 1: Ember is faster). Outputs are preallocated
(`out=`) so allocation does not hide the loops.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numba
import numpy as np
from ufunc_kernels import bump, dot, fma1, matmul

import ember

REPEATS = 15
INNER = 10


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(INNER):
        fn()
    return (time.perf_counter() - start) / INNER


def medians(*fns: Callable[[], object]) -> list[float]:
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(REPEATS):
        for t, fn in zip(times, fns, strict=True):
            t.append(_time(fn))
    return [statistics.median(t) for t in times]


def _both(make: Callable[..., Callable[[Callable[..., object]], object]], func: Callable[..., object],
          *args: object, **kwargs: object) -> tuple[object, object]:
    return make(*args, **kwargs)(func), getattr(numba, make.__name__)(*args, **kwargs)(func)


def rows() -> list[tuple[str, Callable[[], object], Callable[[], object], Callable[[], object]]]:
    rng = np.random.default_rng(0)
    sigs2 = ["float64(float64, float64)", "float32(float32, float32)"]
    ev, nv = _both(ember.vectorize, fma1, sigs2)
    eb, nb = _both(ember.vectorize, bump, ["float64(float64)"])
    ebp, nbp = _both(ember.vectorize, bump, ["float64(float64)"], target="parallel")
    gsig = ["void(float64[:], float64[:], float64[:])"]
    ed, nd = _both(ember.guvectorize, dot, gsig, "(n),(n)->()")
    em, nm = _both(ember.guvectorize, matmul, ["void(float64[:,:], float64[:,:], float64[:,:])"],
                   "(m,n),(n,p)->(m,p)")
    x, y = rng.random(1_000_000), rng.random(1_000_000)
    xf, yf = x.astype(np.float32), y.astype(np.float32)
    o, of = np.empty_like(x), np.empty_like(xf)
    xs, os_ = x[::2], np.empty(500_000)
    xb, ob = rng.random(4_000_000) - 0.5, np.empty(4_000_000)
    s, so = x[:100], np.empty(100)
    A, B, d = rng.random((10_000, 100)), rng.random(100), np.empty(10_000)
    M, N, P = rng.random((5_000, 8, 8)), rng.random((8, 8)), np.empty((5_000, 8, 8))
    return [
        ("vectorize `x*y+1`, f64, 1e6", lambda: ev(x, y, out=o), lambda: nv(x, y, out=o),
         lambda: np.add(np.multiply(x, y, out=o), 1.0, out=o)),
        ("vectorize `x*y+1`, f32, 1e6", lambda: ev(xf, yf, out=of),
         lambda: nv(xf, yf, out=of, signature="ff->f"),
         lambda: np.add(np.multiply(xf, yf, out=of), np.float32(1), out=of)),
        ("vectorize `x*y+1`, f64, stride 2", lambda: ev(xs, 2.0, out=os_),
         lambda: nv(xs, 2.0, out=os_), lambda: np.add(np.multiply(xs, 2.0, out=os_), 1.0,
                                                      out=os_)),
        ("vectorize `x*y+1`, f64, 100 elements", lambda: ev(s, s, out=so),
         lambda: nv(s, s, out=so), lambda: np.add(np.multiply(s, s, out=so), 1.0, out=so)),
        ("vectorize exp/sqrt, f64, 1e6", lambda: eb(x, out=o), lambda: nb(x, out=o),
         lambda: np.add(np.exp(-x * x), np.sqrt(np.abs(x)), out=o)),
        ("vectorize exp/sqrt, parallel, 4e6", lambda: ebp(xb, out=ob), lambda: nbp(xb, out=ob),
         lambda: np.add(np.exp(-xb * xb), np.sqrt(np.abs(xb)), out=ob)),
        ("guvectorize dot (n),(n)->(), 1e4 x 100", lambda: ed(A, B, out=d),
         lambda: nd(A, B, out=d), lambda: np.matmul(A, B, out=d)),
        ("guvectorize matmul, 5000 x (8x8 @ 8x8)", lambda: em(M, N, out=P),
         lambda: nm(M, N, out=P), lambda: np.matmul(M, N, out=P)),
    ]


def main() -> None:
    print(f"numba {numba.__version__}, numpy {np.__version__}")
    print("| ufunc | Ember (us) | Numba (us) | NumPy (us) | Numba / Ember |")
    print("|---|---|---|---|---|")
    for name, e, n, p in rows():
        te, tn, tp = medians(e, n, p)
        print(f"| {name} | {te * 1e6:.1f} | {tn * 1e6:.1f} | {tp * 1e6:.1f} | {tn / te:.2f} |")


if __name__ == "__main__":
    main()
