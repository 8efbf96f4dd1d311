"""Run-time checks: what `boundscheck=True`, `error_model="python"` and `assert` cost, vs Numba.

    python benchmarks/bench_checks.py            # full run (~5 minutes), prints a Markdown section
    python benchmarks/bench_checks.py --quick    # smaller inputs and fewer repeats (a smoke test)
    python benchmarks/bench_checks.py --write    # also writes "## Run-time checks" in BENCHMARKS.md

All in one process on the same inputs. Each kernel (most from `core_kernels.py`, three written
here) is compiled with and without each option by Ember (`ember.kernel(fn, boundscheck=True)`,
`ember.kernel(fn, error_model="python")`) and by Numba (`numba.njit(fn, boundscheck=True)`,
`numba.njit(fn, error_model="python")`); every variant must give the same result (bitwise within
one compiler, rtol 1e-9 between Ember, Numba and CPython) before it is timed. Times are medians
of interleaved, calibrated batches (`bench_report.median_times`), so background load hits all
variants of a kernel alike. The per-call overhead (the cost of the setjmp frame that an entry
thunk opens for a kernel that can raise) is `timeit` on tiny kernels, interleaved the same way.
"""

from __future__ import annotations

import argparse
import atexit
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

# A fresh disk cache, so no variant is loaded from an earlier run (as in bench_core.py).
if "EMBER_CACHE_DIR" not in os.environ:
    os.environ["EMBER_CACHE_DIR"] = tempfile.mkdtemp(prefix="ember-bench-checks-")
    atexit.register(shutil.rmtree, os.environ["EMBER_CACHE_DIR"], ignore_errors=True)
os.environ.pop("EMBER_BOUNDSCHECK", None)  # the unchecked variants must not check
os.environ.pop("NUMBA_BOUNDSCHECK", None)

LOAD_AT_START = os.getloadavg()

import core_kernels as K  # noqa: E402
import numba  # noqa: E402
import numpy as np  # noqa: E402
from bench_report import (  # noqa: E402
    assert_same,
    machine_info,
    median_times,
    outcome,
    table,
    write_section,
)

import ember  # noqa: E402
from ember import f64, i64  # noqa: E402

# --- Kernels written here (the others come from core_kernels.py) ------------------------------


def gemm(a: f64[:, :], b: f64[:, :], c: f64[:, :]) -> None:
    """c = a @ b, the textbook i-j-k loop (Ember register-tiles it when nothing can raise)."""
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            s = 0.0
            for k in range(a.shape[1]):
                s += a[i, k] * b[k, j]
            c[i, j] = s


def int_divmod(a: i64[:], b: i64[:], q: i64[:], r: i64[:]) -> None:
    """Element-wise floor division and modulo by run-time divisors (signed, never zero here)."""
    for i in range(len(a)):
        q[i] = a[i] // b[i]
        r[i] = a[i] % b[i]


def scale_sqrt(x: f64[:], out: f64[:], c: float) -> None:
    """out = c * sqrt(x): a loop that vectorizes."""
    for i in range(len(x)):
        out[i] = c * math.sqrt(x[i])


def scale_sqrt_assert(x: f64[:], out: f64[:], c: float) -> None:
    """scale_sqrt with a user `assert` on every element."""
    for i in range(len(x)):
        assert x[i] >= 0.0, "negative input"
        out[i] = c * math.sqrt(x[i])


def add1(x: float) -> float:
    return x + 1.0


def add1_raise(x: float) -> float:
    if x != x:
        raise ValueError("x is nan")
    return x + 1.0


def first(x: f64[:]) -> float:
    return x[0] + 1.0


def first_raise(x: f64[:]) -> float:
    if x.shape[0] == 0:
        raise ValueError("empty array")
    return x[0] + 1.0


# --- Inputs -----------------------------------------------------------------------------------


def _gemm_args(n: int) -> tuple:
    rng = np.random.default_rng(20261121)
    return (rng.random((n, n)), rng.random((n, n)), np.zeros((n, n)))


def _divmod_args(n: int) -> tuple:
    rng = np.random.default_rng(20261121)
    b = rng.integers(1, 1000, n) * rng.choice([-1, 1], n)  # never zero, both signs
    return (rng.integers(-(10**9), 10**9, n), b, np.zeros(n, np.int64), np.zeros(n, np.int64))


def _sqrt_args(n: int) -> tuple:
    return (np.random.default_rng(20261121).random(n), np.zeros(n), 0.5)


@dataclass(frozen=True)
class Bench:
    """A kernel, its input sizes, and whether `error_model` applies (it divides)."""

    case: K.Case
    what: str
    divides: str = ""
    """Where the kernel divides (for the error-model table); "" when it does not."""


_CORE = {c.name: c for c in K.CASES}
BENCHES: tuple[Bench, ...] = (
    Bench(_CORE["pairwise_energy"], "3 nested loops, 2-D reads", "1.0 / sqrt(r2) per pair"),
    Bench(_CORE["heat_step"], "2-D 5-point stencil"),
    Bench(_CORE["matvec"], "2-D reads, row reduction"),
    Bench(
        K.Case(gemm, _gemm_args, big=256, quick=96, small=24, outputs=(2,), unit="(n x n)"),
        "matmul, i-j-k loop (written here)",
    ),
    Bench(_CORE["conv1d"], "1-D stencil, inner loop of 16"),
    Bench(_CORE["dot"], "reduction"),
    Bench(_CORE["histogram"], "indirect (data-dependent) index", "nbins / (hi - lo), once"),
    Bench(
        K.Case(int_divmod, _divmod_args, big=2_000_000, quick=200_000, small=5_000,
               outputs=(2, 3)),
        "integer // and % (written here)",
        "a[i] // b[i], a[i] % b[i]",
    ),
)
ASSERT_CASE = K.Case(
    scale_sqrt, _sqrt_args, big=4_000_000, quick=400_000, small=5_000, outputs=(1,)
)

# Option sets. Numba's own default is error_model="python"; "numpy" is Ember's default, so the
# unchecked baseline of both compilers is error_model="numpy" (Numba's default njit() is the
# error_model="python" column).
EMBER_OPTS = {
    "plain": {"boundscheck": False},
    "bounds": {"boundscheck": True},
    "python": {"boundscheck": False, "error_model": "python"},
}
NUMBA_OPTS = {
    "plain": {"error_model": "numpy"},
    "bounds": {"boundscheck": True, "error_model": "numpy"},
    "python": {"error_model": "python"},
}


@dataclass
class Options:
    quick: bool
    min_time: float
    """Seconds one timing batch lasts at least."""
    repeats: int


@dataclass
class Results:
    rows: list[dict] = field(default_factory=list)
    assert_row: dict = field(default_factory=dict)
    overhead: list[dict] = field(default_factory=list)
    opts: Options | None = None
    seconds: float = 0.0


# --- Checking ---------------------------------------------------------------------------------


def copy_args(args: tuple) -> tuple:
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def same_bits(got: list, want: list) -> bool:
    return all(np.array_equal(np.asarray(g), np.asarray(w)) for g, w in zip(got, want, strict=True))


def check_variants(case: K.Case, fns: dict[str, Callable], args: tuple, small: tuple) -> str:
    """Asserts that every variant gives the same result: bitwise equal to the same compiler's
    unchecked kernel, close to the other compiler's and (on the small input) to CPython's.
    Returns a note for the results column."""
    want_small = outcome(case, case.fn, small)
    results = {name: outcome(case, fn, args) for name, fn in fns.items()}
    for name, fn in fns.items():
        assert_same(outcome(case, fn, small), want_small, f"{case.name} {name} vs CPython")
        base = results[name.split("_")[0] + "_plain"]
        assert same_bits(results[name], base), f"{case.name}: {name} changes the result"
        assert_same(results[name], results["ember_plain"], f"{case.name} {name} vs ember")
    if same_bits(results["ember_plain"], results["numba_plain"]):
        return "all bitwise equal"
    return "bitwise equal per compiler; Ember vs Numba within rtol 1e-9"


def check_options_live() -> None:
    """The checked variants really check: an index past the end and a zero divisor raise."""
    a, b = np.ones(10), np.ones(9)
    for make in (lambda f: ember.kernel(f, boundscheck=True), lambda f: numba.njit(f,
                 boundscheck=True)):
        try:
            make(K.dot)(a, b)
        except IndexError:
            pass
        else:
            raise AssertionError("boundscheck=True did not catch dot(a[10], b[9])")
    x, d, q, r = _divmod_args(8)
    d[3] = 0
    for make in (lambda f: ember.kernel(f, error_model="python"),
                 lambda f: numba.njit(f, error_model="python")):
        try:
            make(int_divmod)(x, d, q, r)
        except ZeroDivisionError:
            pass
        else:
            raise AssertionError("error_model='python' did not catch a zero divisor")
    for make in (lambda f: ember.kernel(f, boundscheck=False), lambda f: numba.njit(
                 f, error_model="numpy")):
        make(int_divmod)(x, d, q, r)
        assert q[3] == 0 and r[3] == 0, "error_model='numpy': x // 0 should give 0"


# --- Steady state -----------------------------------------------------------------------------


def variants(fn: Callable, divides: bool) -> dict[str, Callable]:
    names = ["plain", "bounds"] + (["python"] if divides else [])
    out = {f"ember_{n}": ember.kernel(fn, **EMBER_OPTS[n]) for n in names}
    return out | {f"numba_{n}": numba.njit(**NUMBA_OPTS[n])(fn) for n in names}


def bound(fn: Callable, args: tuple) -> Callable[[], object]:
    return lambda: fn(*args)


def vectorized(fn: Callable) -> bool:
    """Whether the optimized LLVM IR of a compiled kernel loads vectors (SIMD loops)."""
    if hasattr(fn, "inspect_llvm"):  # a Numba dispatcher, already compiled by the checks
        ir = "\n".join(fn.inspect_llvm().values())
    else:
        ir = fn.inspect("llvm")
    return re.search(r"= load <\d+ x ", ir) is not None


def time_case(case: K.Case, fns: dict[str, Callable], opts: Options) -> dict:
    size = case.quick if opts.quick else case.big
    args = case.make(size)
    row = {"kernel": case.name, "size": f"{size:,} {case.unit}"}
    row["check"] = check_variants(case, fns, args, case.make(case.small))
    row["simd"] = {name: vectorized(fn) for name, fn in fns.items()}
    # All variants run on the same arrays (every kernel rewrites its whole output), so no
    # variant gets luckier addresses or alignment than another.
    calls = {name: bound(fn, args) for name, fn in fns.items()}
    return row | median_times(calls, opts)


def run_steady(opts: Options, res: Results) -> None:
    for bench in BENCHES:
        print(f"  {bench.case.name}", file=sys.stderr, flush=True)
        fns = variants(bench.case.fn, bool(bench.divides))
        row = time_case(bench.case, fns, opts)
        res.rows.append(row | {"what": bench.what, "divides": bench.divides})
    print("  assert in a loop", file=sys.stderr, flush=True)
    fns = {
        "ember_plain": ember.kernel(scale_sqrt),
        "ember_assert": ember.kernel(scale_sqrt_assert),
        "numba_plain": numba.njit(scale_sqrt),
        "numba_assert": numba.njit(scale_sqrt_assert),
    }
    res.assert_row = time_case(ASSERT_CASE, fns, opts)


# --- Per-call overhead ------------------------------------------------------------------------


OVERHEAD_ROWS = (
    ("scalar `add1(x: float) -> float`", add1, {}),
    ("scalar, with a `raise` (`if x != x: raise ValueError`)", add1_raise, {}),
    ("1 array `first(x: f64[:]) -> float`", first, {}),
    ("1 array, with a `raise` (`if x.shape[0] == 0: raise ...`)", first_raise, {}),
    ("1 array, `boundscheck=True` (no `raise`)", first, {"boundscheck": True}),
)


def call_repeats(opts: Options) -> int:
    return 7 if opts.quick else 21


def ns_per_call(stmts: dict[str, tuple[str, dict]], opts: Options) -> dict[str, float]:
    """Median ns per call of each statement; the timeit repeats are interleaved."""
    timers = {k: timeit.Timer(stmt, globals=env) for k, (stmt, env) in stmts.items()}
    numbers = {k: t.autorange()[0] for k, t in timers.items()}
    samples: dict[str, list[float]] = {k: [] for k in timers}
    for _ in range(call_repeats(opts)):
        for k, t in timers.items():
            samples[k].append(t.timeit(numbers[k]) / numbers[k] * 1e9)
    return {k: statistics.median(v) for k, v in samples.items()}


def run_overhead(opts: Options, res: Results) -> None:
    x = np.ones(8)
    stmts, frames = {}, []
    for i, (_label, fn, extra) in enumerate(OVERHEAD_ROWS):
        ember_fn = ember.kernel(fn, **({"boundscheck": False} | extra))
        numba_fn = numba.njit(**({"error_model": "numpy"} | extra))(fn)
        arg, stmt = (1.0, "f(1.0)") if fn.__name__.startswith("add1") else (x, "f(x)")
        assert ember_fn(arg) == numba_fn(arg) == fn(arg), fn.__name__
        frames.append("_setjmp(" in ember_fn.inspect("llvm"))
        stmts[f"ember{i}"] = (stmt, {"f": ember_fn, "x": x})
        stmts[f"numba{i}"] = (stmt, {"f": numba_fn, "x": x})
    ns = ns_per_call(stmts, opts)
    for i, (label, *_rest) in enumerate(OVERHEAD_ROWS):
        res.overhead.append(
            {"call": label, "ember": ns[f"ember{i}"], "numba": ns[f"numba{i}"], "frame": frames[i]}
        )


# --- Report -----------------------------------------------------------------------------------


def fmt_time(seconds: float) -> str:
    """3 significant digits in s, ms, µs or ns (rounded first: 999.7 µs is 1 ms)."""
    seconds = float(f"{seconds:.3g}")
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def fr(value: float | None, bold: bool = False) -> str:
    if value is None:
        return "—"
    text = f"{value:.2f}"
    return f"**{text}**" if bold else text


def geomean(values: list[float]) -> float | None:
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else None


def option_rows(res: Results, key: str) -> list[dict]:
    """Per kernel timed with option `key` ('bounds' or 'python'): times and the three ratios."""
    out = []
    for r in res.rows:
        if f"ember_{key}" not in r:
            continue
        out.append(r | {
            "ember_ratio": r[f"ember_{key}"] / r["ember_plain"],
            "numba_ratio": r[f"numba_{key}"] / r["numba_plain"],
            "vs_numba": r[f"ember_{key}"] / r[f"numba_{key}"],
            "plain_vs_numba": r["ember_plain"] / r["numba_plain"],
        })
    return out


def simd(row: dict, key: str) -> str:
    """'yes -> no; yes -> yes': vector loads in Ember's, then Numba's IR, unchecked -> checked."""
    yn = lambda name: "yes" if row["simd"][name] else "no"  # noqa: E731
    return "; ".join(f"{yn(c + '_plain')} → {yn(c + '_' + key)}" for c in ("ember", "numba"))


def option_table(rows: list[dict], key: str, label: str, extra: str) -> list[str]:
    header = [
        "kernel", "input", extra, "Ember", f"Ember {label}", f"**Ember {label} / Ember**",
        "Numba", f"Numba {label}", f"**Numba {label} / Numba**", f"Ember {label} / Numba {label}",
        "SIMD: Ember; Numba",
    ]
    body = [
        [
            f"`{r['kernel']}`", r["size"], r["divides"] if key == "python" else r["what"],
            fmt_time(r["ember_plain"]), fmt_time(r[f"ember_{key}"]), fr(r["ember_ratio"], True),
            fmt_time(r["numba_plain"]), fmt_time(r[f"numba_{key}"]), fr(r["numba_ratio"], True),
            fr(r["vs_numba"]), simd(r, key),
        ]
        for r in rows
    ]
    means = [geomean([r[k] for r in rows]) for k in ("ember_ratio", "numba_ratio", "vs_numba")]
    body.append([
        "**geomean**", "", "", "", "", fr(means[0], True), "", "", fr(means[1], True),
        fr(means[2]), "",
    ])
    return table(header, body)


def assert_table(res: Results) -> list[str]:
    r = res.assert_row
    header = ["compiler", "input", "without `assert`", "with `assert`", "**with / without**",
              "SIMD"]
    yn = lambda name: "yes" if r["simd"][name] else "no"  # noqa: E731
    rows = [
        [tool.capitalize(), r["size"], fmt_time(r[f"{tool}_plain"]),
         fmt_time(r[f"{tool}_assert"]), fr(r[f"{tool}_assert"] / r[f"{tool}_plain"], True),
         f"{yn(tool + '_plain')} → {yn(tool + '_assert')}"]
        for tool in ("ember", "numba")
    ]
    return table(header, rows)


def overhead_table(res: Results) -> list[str]:
    header = ["call", "Ember", "Ember opens a frame (`_setjmp` in its IR)", "Numba"]
    rows = [
        [r["call"], f"{r['ember']:,.0f} ns", "yes" if r["frame"] else "no", f"{r['numba']:,.0f} ns"]
        for r in res.overhead
    ]
    return table(header, rows)


def frame_costs(res: Results) -> tuple[float, float, float]:
    """Ember's extra ns per call from a `raise` (scalar, 1 array) and from boundscheck=True."""
    o = [r["ember"] for r in res.overhead]
    return o[1] - o[0], o[3] - o[2], o[4] - o[2]


def span(rows: list[dict], key: str) -> str:
    lo = min(rows, key=lambda r: r[key])
    hi = max(rows, key=lambda r: r[key])
    return f"{lo[key]:.2f}x (`{lo['kernel']}`) to {hi[key]:.2f}x (`{hi['kernel']}`)"


def reading(res: Results) -> list[str]:
    """A short, data-driven reading of the figures."""
    bounds, python = option_rows(res, "bounds"), option_rows(res, "python")
    gm = lambda rows, k: geomean([r[k] for r in rows])  # noqa: E731
    fast = [r for r in bounds if r["plain_vs_numba"] < 0.7 and r["ember_ratio"] > 1.5]
    lines = [
        f"- **boundscheck=True** costs Ember {gm(bounds, 'ember_ratio'):.2f}x (geomean; "
        f"{span(bounds, 'ember_ratio')}) and Numba {gm(bounds, 'numba_ratio'):.2f}x "
        f"({span(bounds, 'numba_ratio')}); checked Ember takes {gm(bounds, 'vs_numba'):.2f}x "
        "checked Numba's time (geomean).",
    ]
    if fast:
        names = ", ".join(
            f"`{r['kernel']}` {r['plain_vs_numba']:.2f} -> {r['vs_numba']:.2f}" for r in fast
        )
        lines.append(
            "- The kernels where unchecked Ember is well ahead of Numba lose that lead when "
            "checked: unroll-and-jam, fusion, interchange and matmul tiling skip loops that can "
            "raise, and a check in the loop body stops vectorization (SIMD column; Ember/Numba "
            f"time, unchecked -> checked: {names})."
        )
    kept = [r for r in bounds if r["simd"]["ember_plain"] and not r["simd"]["ember_bounds"]
            and r["simd"]["numba_bounds"]]
    if kept:
        names = ", ".join(
            f"`{r['kernel']}` (Ember {r['ember_ratio']:.2f}x, Numba {r['numba_ratio']:.2f}x)"
            for r in kept
        )
        lines.append(
            f"- Numba's checked loop stays vectorized where Ember's does not: {names}: the "
            "optimized IR of Ember's checked kernel has no vector loads, Numba's has."
        )
    lines.append(
        f"- **error_model=\"python\"** costs Ember {gm(python, 'ember_ratio'):.2f}x (geomean; "
        f"{span(python, 'ember_ratio')}) and Numba {gm(python, 'numba_ratio'):.2f}x "
        f"({span(python, 'numba_ratio')}), on the kernels that divide; it changes nothing in "
        "kernels without a division or modulo, so those are not timed with it."
    )
    a = res.assert_row
    scalar, array, bc = frame_costs(res)
    o = res.overhead
    numba_diff = (o[1]["numba"] - o[0]["numba"], o[3]["numba"] - o[2]["numba"])
    lines += [
        f"- An `assert` on every element of a vectorizable loop costs Ember "
        f"{a['ember_assert'] / a['ember_plain']:.2f}x and Numba "
        f"{a['numba_assert'] / a['numba_plain']:.2f}x.",
        f"- The error frame (setjmp in the entry thunk of a kernel that can raise) changes "
        f"Ember's time per call by {scalar:+.0f} ns for the scalar kernel and {array:+.0f} ns "
        f"for the one-array kernel ({bc:+.0f} ns with `boundscheck=True`); kernels that cannot "
        "raise keep the "
        "frameless thunk. Numba has no frame (its kernels return a status code): its `raise` "
        f"rows differ from the plain ones by {numba_diff[0]:+.0f} ns and {numba_diff[1]:+.0f} "
        "ns.",
    ]
    return lines


INTRO = """## Run-time checks

Generated by `benchmarks/bench_checks.py`; regenerate this section with

    python benchmarks/bench_checks.py --write    # ~5 minutes; --quick for a smoke test

What each opt-in check costs at run time, Ember beside Numba's equivalent option, all in one
process on the same inputs. Kernels from `benchmarks/core_kernels.py` plus three written in the
script (`gemm`, `int_divmod`, `scale_sqrt`). Each is compiled unchecked and with the option:

- **Ember**: `ember.kernel(fn)` (error_model `"numpy"`, no bounds checks: Ember's default);
  **Ember bounds**: `boundscheck=True` (IndexError naming array, axis, index, extent);
  **Ember python**: `error_model="python"` (ZeroDivisionError on division or modulo by zero).
- **Numba**: `numba.njit(fn, error_model="numpy")`, the same semantics as Ember's default.
  Numba's own default `njit(fn)` is `error_model="python"`, i.e. the **Numba python** column;
  **Numba bounds**: `njit(fn, boundscheck=True, error_model="numpy")`.
- *X checked / X* is the slowdown the option causes in compiler X (1.00: free); *Ember checked /
  Numba checked* below 1 means checked Ember is faster than checked Numba. Geomeans are over the
  kernels of the table.
- *SIMD*: whether the kernel's optimized LLVM IR loads vectors (a vectorized loop), unchecked →
  checked, from Ember's `kernel.inspect("llvm")` and Numba's `inspect_llvm()`.

Every variant's result is asserted equal before timing: bitwise to the same compiler's unchecked
kernel, within rtol 1e-9 of the other compiler's and of CPython's (on a small input); and the
script checks that the options are live (an index past the end raises IndexError, a zero divisor
ZeroDivisionError, and gives 0 under `"numpy"`). Times are medians over interleaved batches of
all variants of one kernel (each batch at least {min_time} s); the per-call rows are `timeit`,
interleaved, median of {call_repeats} repeats. On this shared 2-core machine timings vary by
10-20% from run to run; ratios within about 0.9-1.1 are noise.
"""


def render(res: Results, machine: list[tuple[str, str]]) -> str:
    opts = res.opts
    mode = "--quick (smaller inputs, fewer repeats)" if opts.quick else "full"
    lines = [INTRO.format(min_time=opts.min_time, call_repeats=call_repeats(opts)).rstrip()]
    lines += ["", f"### Results ({time.strftime('%Y-%m-%d')}, {mode} run, "
              f"{res.seconds / 60:.1f} minutes, median of {opts.repeats} batches)", ""]
    lines += ["| machine | |", "|---|---|", *table(["", ""], machine)[2:]]
    lines += ["", "#### Reading", "", *reading(res)]
    lines += ["", "#### boundscheck=True", ""]
    lines += option_table(option_rows(res, "bounds"), "bounds", "bounds", "what")
    lines += ["", "#### error_model=\"python\" (kernels that divide)", ""]
    lines += option_table(option_rows(res, "python"), "python", "python", "divides")
    lines += ["", f"#### `assert` in a loop: `{ASSERT_CASE.name}` vs `{ASSERT_CASE.name}_assert` "
              "(`assert x[i] >= 0.0` per element)", "", *assert_table(res)]
    lines += ["", "#### Per-call overhead (ns per call, timeit median): the error frame", ""]
    lines += overhead_table(res)
    checks = sorted({r["check"] for r in [*res.rows, res.assert_row]})
    lines += ["", "Results: " + "; ".join(checks) + ".", ""]
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    parser.add_argument("--write", action="store_true", help="write the BENCHMARKS.md section")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    res = Results(opts=Options(args.quick, 0.02 if args.quick else 0.2, 3 if args.quick else 15))
    print("[bench_checks] options live", file=sys.stderr, flush=True)
    check_options_live()
    print("[bench_checks] steady state", file=sys.stderr, flush=True)
    run_steady(res.opts, res)
    print("[bench_checks] per-call overhead", file=sys.stderr, flush=True)
    run_overhead(res.opts, res)
    res.seconds = time.perf_counter() - start
    text = render(res, machine_info(ember, LOAD_AT_START))
    print(text)
    if args.write:
        write_section("Run-time checks", text)
        print("[bench_checks] wrote the Run-time checks section of BENCHMARKS.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
