"""NumPy-style kernels (issue 13): the same function compiled by Ember and Numba, and run as NumPy.

    python benchmarks/bench_numpy.py [--quick] [--repeats 21] [--only softmax,sum]
    python benchmarks/bench_numpy.py --write     # writes "## NumPy style (issue 13)" in
                                                 # BENCHMARKS.md (the rest of the file is kept)

Every kernel below is written once with whole-array NumPy syntax and Ember annotations, then
compiled by `ember.kernel(fn)` and `numba.njit(fn)` (Numba ignores the annotations) and called
as plain Python (the NumPy column: CPython running NumPy calls). Single thread everywhere
(OPENBLAS/OMP/MKL_NUM_THREADS=1 are set before numpy loads). Each result is checked against the
NumPy run before timing; times are medians of interleaved batches (bench_report.median_times),
so background load affects the three alike.

Aims (issue 13, item 4): `a * b + c * d - e` in at most 0.55x NumPy's time; reductions at most
NumPy's time; `a @ b` (512^2) within 1.1x of numpy.dot; the suite kernels at most Numba's time;
an array-returning call under 1 µs.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
from bench_report import (  # noqa: E402
    fmt_ratio,
    fmt_time,
    machine_info,
    median_times,
    table,
    write_section,
)

import ember  # noqa: E402
from ember import f64  # noqa: E402

LOAD_AT_START = os.getloadavg()
HEADING = "NumPy style (issue 13)"


# --- (a) one fused elementwise expression ----------------------------------------------------
def expr_out(a: f64[:], b: f64[:], c: f64[:], d: f64[:], e: f64[:], out: f64[:]) -> None:
    out[:] = a * b + c * d - e


def expr_ret(a: f64[:], b: f64[:], c: f64[:], d: f64[:], e: f64[:]) -> f64[:]:
    return a * b + c * d - e


# --- (b) reductions ----------------------------------------------------------------------------
def r_sum(a: f64[:]) -> float:
    return np.sum(a)


def r_max(a: f64[:]) -> float:
    return np.max(a)


def r_min(a: f64[:]) -> float:
    return np.min(a)


def r_mean(a: f64[:]) -> float:
    return np.mean(a)


def r_argmax(a: f64[:]) -> int:
    return np.argmax(a)


def r_sum_axis0(m: f64[:, :]) -> f64[:]:
    return m.sum(axis=0)


def r_sum_axis1(m: f64[:, :]) -> f64[:]:
    return m.sum(axis=1)


def r_sum_prod(a: f64[:], b: f64[:]) -> float:
    return np.sum(a * b)


def r_var(a: f64[:]) -> float:
    return np.var(a)


# --- (c) matrix product ------------------------------------------------------------------------
def matmul(a: f64[:, :], b: f64[:, :]) -> f64[:, :]:
    return a @ b


# --- (d) suite kernels in NumPy style ----------------------------------------------------------
def jacobi_2d(a: f64[:, :], b: f64[:, :], tsteps: int) -> None:
    for _ in range(tsteps):
        b[1:-1, 1:-1] = 0.2 * (
            a[1:-1, 1:-1] + a[1:-1, :-2] + a[1:-1, 2:] + a[2:, 1:-1] + a[:-2, 1:-1]
        )
        a[1:-1, 1:-1] = 0.2 * (
            b[1:-1, 1:-1] + b[1:-1, :-2] + b[1:-1, 2:] + b[2:, 1:-1] + b[:-2, 1:-1]
        )


def heat_3d(a: f64[:, :, :], b: f64[:, :, :], tsteps: int) -> None:
    for _ in range(tsteps):
        b[1:-1, 1:-1, 1:-1] = (
            0.125 * (a[2:, 1:-1, 1:-1] - 2.0 * a[1:-1, 1:-1, 1:-1] + a[:-2, 1:-1, 1:-1])
            + 0.125 * (a[1:-1, 2:, 1:-1] - 2.0 * a[1:-1, 1:-1, 1:-1] + a[1:-1, :-2, 1:-1])
            + 0.125 * (a[1:-1, 1:-1, 2:] - 2.0 * a[1:-1, 1:-1, 1:-1] + a[1:-1, 1:-1, :-2])
            + a[1:-1, 1:-1, 1:-1]
        )
        a[1:-1, 1:-1, 1:-1] = (
            0.125 * (b[2:, 1:-1, 1:-1] - 2.0 * b[1:-1, 1:-1, 1:-1] + b[:-2, 1:-1, 1:-1])
            + 0.125 * (b[1:-1, 2:, 1:-1] - 2.0 * b[1:-1, 1:-1, 1:-1] + b[1:-1, :-2, 1:-1])
            + 0.125 * (b[1:-1, 1:-1, 2:] - 2.0 * b[1:-1, 1:-1, 1:-1] + b[1:-1, 1:-1, :-2])
            + b[1:-1, 1:-1, 1:-1]
        )


def softmax(x: f64[:, :], out: f64[:, :]) -> None:
    for i in range(x.shape[0]):
        row = x[i]
        e = np.exp(row - row.max())
        out[i] = e / e.sum()


def covariance(data: f64[:, :]) -> f64[:, :]:
    n = data.shape[0]
    x = data - data.sum(axis=0) / n
    return x.T @ x / (n - 1)


def gemver(alpha: float, beta: float, a: f64[:, :], u1: f64[:], v1: f64[:], u2: f64[:],
           v2: f64[:], y: f64[:], z: f64[:]) -> f64[:]:
    b = a + np.outer(u1, v1) + np.outer(u2, v2)
    x = beta * b.T @ y + z
    return alpha * b @ x


def gemver_grouped(alpha: float, beta: float, a: f64[:, :], u1: f64[:], v1: f64[:],
                   u2: f64[:], v2: f64[:], y: f64[:], z: f64[:]) -> f64[:]:
    """gemver with the scalars applied to the products' vectors, not to the matrix."""
    b = a + np.outer(u1, v1) + np.outer(u2, v2)
    x = beta * (b.T @ y) + z
    return alpha * (b @ x)


# --- (e) call overhead -------------------------------------------------------------------------
def add1(a: f64[:]) -> f64[:]:
    return a + 1.0


# --- the cases ---------------------------------------------------------------------------------
@dataclass
class Case:
    name: str
    group: str
    fn: Callable
    make: Callable[[np.random.Generator, bool], tuple]
    """Fresh arguments (rng, quick)."""
    outputs: tuple[int, ...] = ()
    """Argument positions the kernel writes (compared after the call)."""
    size: str = ""


def _vecs(k: int, n: int) -> Callable[[np.random.Generator, bool], tuple]:
    return lambda rng, quick: tuple(rng.standard_normal(n // (10 if quick else 1))
                                    for _ in range(k))


def _mat(rows: int, cols: int) -> Callable[[np.random.Generator, bool], tuple]:
    return lambda rng, quick: (rng.standard_normal((rows // (4 if quick else 1), cols)),)


def _expr_out(rng: np.random.Generator, quick: bool) -> tuple:
    return (*_vecs(5, 1_000_000)(rng, quick), np.empty(1_000_000 // (10 if quick else 1)))


def _stencil(shape: tuple[int, ...], tsteps: int) -> Callable:
    def make(rng: np.random.Generator, quick: bool) -> tuple:
        s = tuple(max(8, n // 2) for n in shape) if quick else shape
        a = rng.random(s)
        return a, a.copy(), tsteps
    return make


def _softmax(rng: np.random.Generator, quick: bool) -> tuple:
    n = 250 if quick else 1000
    return rng.standard_normal((n, 1000)), np.empty((n, 1000))


def _gemver(rng: np.random.Generator, quick: bool) -> tuple:
    n = 500 if quick else 2000
    vs = [rng.standard_normal(n) / n for _ in range(6)]
    return 1.5, 1.2, rng.random((n, n)), *vs


def _matmul(rng: np.random.Generator, quick: bool) -> tuple:
    n = 256 if quick else 512
    return rng.standard_normal((n, n)), rng.standard_normal((n, n))


CASES = [
    Case("a*b + c*d - e (out[:] =)", "expr", expr_out, _expr_out, (5,), size="1e6 f64"),
    Case("a*b + c*d - e (returned)", "expr", expr_ret, _vecs(5, 1_000_000), size="1e6 f64"),
    Case("np.sum(a)", "reduce", r_sum, _vecs(1, 1_000_000), size="1e6"),
    Case("np.max(a)", "reduce", r_max, _vecs(1, 1_000_000), size="1e6"),
    Case("np.min(a)", "reduce", r_min, _vecs(1, 1_000_000), size="1e6"),
    Case("np.mean(a)", "reduce", r_mean, _vecs(1, 1_000_000), size="1e6"),
    Case("np.argmax(a)", "reduce", r_argmax, _vecs(1, 1_000_000), size="1e6"),
    Case("m.sum(axis=0)", "reduce", r_sum_axis0, _mat(1000, 1000), size="1000x1000"),
    Case("m.sum(axis=1)", "reduce", r_sum_axis1, _mat(1000, 1000), size="1000x1000"),
    Case("np.sum(a * b)", "reduce", r_sum_prod, _vecs(2, 1_000_000), size="1e6"),
    Case("np.var(a)", "reduce", r_var, _vecs(1, 1_000_000), size="1e6"),
    Case("a @ b", "matmul", matmul, _matmul, size="512x512"),
    Case("jacobi_2d (slices)", "suite", jacobi_2d, _stencil((500, 500), 20), (0, 1),
         size="500x500, 20 steps"),
    Case("heat_3d (slices)", "suite", heat_3d, _stencil((60, 60, 60), 10), (0, 1),
         size="60^3, 10 steps"),
    Case("softmax (rows)", "suite", softmax, _softmax, (1,), size="1000x1000"),
    Case("covariance", "suite", covariance, _mat(1000, 500), size="1000x500"),
    Case("gemver-like", "suite", gemver, _gemver, size="2000x2000"),
    Case("gemver-like, beta * (A.T @ y)", "suite", gemver_grouped, _gemver, size="2000x2000"),
]


def _result(fn: Callable, case: Case, args: tuple) -> list:
    return [fn(*args), *(args[i] for i in case.outputs)]


def _fresh(args: tuple, case: Case) -> tuple:
    return tuple(np.copy(x) if i in case.outputs else x for i, x in enumerate(args))


def _check(got: list, want: list, what: str) -> None:
    for g, w in zip(got, want, strict=True):
        if w is None:
            assert g is None, what
        else:
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-9, err_msg=what)


def measure(case: Case, opts: SimpleNamespace) -> dict:
    args0 = case.make(np.random.default_rng(0), opts.quick)
    impls = {"ember": ember.kernel(case.fn), "numba": numba.njit(case.fn), "numpy": case.fn}
    row: dict = {"case": case}
    want = _result(case.fn, case, _fresh(args0, case))
    calls = {}
    for name, fn in impls.items():
        try:
            _check(_result(fn, case, _fresh(args0, case)), want, f"{case.name} ({name})")
        except Exception as exc:  # noqa: BLE001 - reported in the table
            row[f"{name}_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
            continue
        args = _fresh(args0, case)  # the stencils keep smoothing their arrays: values stay bounded
        calls[name] = (lambda f, a: lambda: f(*a))(fn, args)
    row.update(median_times(calls, opts))
    return row


def call_overhead(repeats: int) -> dict:
    """ns per call of `add1` on a 4-element array (timeit median of `repeats` batches)."""
    a = np.ones(4)
    impls = {"ember": ember.kernel(add1), "numba": numba.njit(add1), "numpy": add1}
    out = {}
    for name, fn in impls.items():
        np.testing.assert_array_equal(fn(a), a + 1.0)
        t = timeit.Timer(lambda f=fn: f(a))
        number = 20_000
        out[name] = statistics.median(t.timeit(number) / number for _ in range(repeats))
    return out


# --- report ------------------------------------------------------------------------------------
AIMS = {"expr": ("numpy", 0.55), "reduce": ("numpy", 1.0), "matmul": ("numpy", 1.1),
        "suite": ("numba", 1.0)}
"""Per group: the column Ember is compared with, and the largest ratio that meets the aim."""
CALL_AIM = 1e-6


NOTES = """Reading: the 1e6-element reductions are memory-bound, so Ember and NumPy meet near the
memory bandwidth (ratios within the run-to-run noise of a shared machine, about 5%).
`np.max/min` are a vector max beside a NaN flag, `np.argmax` works by blocks (a vector max
per block, an exact scan only of blocks that improve), `m.sum(axis=0)` accumulates row by row
(ir/reductions.py). In `gemver-like`, `beta * A.T @ y` is `(beta * A.T) @ y`: Ember reads
the matrix expression where the product needs its elements, column by column along A's
memory (ir/products.py), where NumPy and Numba make a temporary. Its
`A + np.outer(u1, v1) + np.outer(u2, v2)` is one loop (np.outer of two arrays is
`u[:, None] * v[None, :]`, fused into the sum), where NumPy and Numba materialize both outer
products. In `covariance`, NumPy recognizes `X.T @ X` and computes half of the symmetric
result (BLAS syrk); Ember computes the tiles on and above the diagonal in bands of 128
columns and mirrors the rest (ir/products.py), Numba computes all of it."""


def _cell(row: dict, name: str) -> str:
    if f"{name}_error" in row:
        return "**failed**"
    return fmt_time(row.get(name))


def _verdict(row: dict) -> str:
    col, aim = AIMS[row["case"].group]
    e, o = row.get("ember"), row.get(col)
    if not isinstance(e, float) or not isinstance(o, float):
        return "—"
    return f"{'met' if e <= aim * o else 'MISSED'} (≤ {aim} x {col})"


def render(rows: list[dict], call: dict, opts: SimpleNamespace) -> str:
    mode = "--quick" if opts.quick else "full"
    lines = [
        f"## {HEADING}",
        "",
        "Generated by `benchmarks/bench_numpy.py --write`: each kernel is written once in NumPy",
        "style with Ember annotations, compiled by `ember.kernel(fn)` and `numba.njit(fn)`, and",
        "run as plain Python + NumPy (the NumPy column). Single thread (BLAS threads = 1);",
        "results checked against the NumPy run (rtol 1e-9) before timing; medians of",
        f"{opts.repeats} interleaved batches. Ratios below 1 mean Ember is faster.",
        "",
        f"### Results ({time.strftime('%Y-%m-%d')}, {mode} run)",
        "",
        "| machine | |",
        "|---|---|",
        *table(["", ""], [list(kv) for kv in machine_info(ember, LOAD_AT_START)])[2:],
        "",
    ]
    header = ["kernel", "input", "Ember", "NumPy", "Numba", "Ember/NumPy", "Ember/Numba",
              "aim"]
    body = [[f"`{r['case'].name}`", r["case"].size, _cell(r, "ember"), _cell(r, "numpy"),
             _cell(r, "numba"), fmt_ratio(r.get("ember"), r.get("numpy")),
             fmt_ratio(r.get("ember"), r.get("numba")), _verdict(r)] for r in rows]
    if call:
        ns = {k: f"{v * 1e9:,.0f} ns" for k, v in call.items()}
        verdict = "met" if call["ember"] <= CALL_AIM else "MISSED"
        body.append(["`return a + 1.0` (per call)", "4 f64", ns["ember"], ns["numpy"],
                     ns["numba"], fmt_ratio(call["ember"], call["numpy"]),
                     fmt_ratio(call["ember"], call["numba"]), f"{verdict} (< 1 µs)"])
    lines += table(header, body)
    lines += ["", NOTES]
    errors = [f"- {r['case'].name}: {r[k]}" for r in rows for k in r if k.endswith("_error")]
    if errors:
        lines += ["", "Failures:", "", *errors]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    parser.add_argument("--write", action="store_true", help="write into BENCHMARKS.md")
    parser.add_argument("--repeats", type=int, default=0)
    parser.add_argument("--only", default="", help="comma-separated substrings of case names")
    args = parser.parse_args(argv)
    opts = SimpleNamespace(quick=args.quick, min_time=0.02 if args.quick else 0.05,
                           repeats=args.repeats or (5 if args.quick else 21))
    warnings.simplefilter("ignore", numba.NumbaPerformanceWarning)
    only = [s for s in args.only.split(",") if s]
    rows = []
    for case in CASES:
        if only and not any(s in case.name for s in only):
            continue
        rows.append(measure(case, opts))
        print(render(rows[-1:], {}, opts).rsplit("\n", 2)[-2], flush=True)
    call = call_overhead(opts.repeats) if not only or "call" in only else {}
    text = render(rows, call, opts)
    print(text)
    if args.write and not only:
        write_section(HEADING, text)


if __name__ == "__main__":
    main(sys.argv[1:])
