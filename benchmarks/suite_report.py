"""Markdown rendering of `bench_suite.py`'s figures: the "## Suite" section of BENCHMARKS.md.

`SuiteReport` holds every measured figure (seconds) and every failure; `render` turns it into the
section, with the method description, the tables, the summary figures and one line per missed aim.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import time
from dataclasses import dataclass, field

from bench_report import fmt_time, machine_info, table

GEOMEAN_AIM = 0.9
"""Issue #5 aim: geometric mean of Ember time / Numba time over the suite at most 0.9."""
KERNEL_AIM = 1.25
"""Issue #5 aim: no kernel's Ember time above 1.25x Numba's."""
CACHED_LOAD_AIM = 0.020
"""Issue #5 aim: a kernel loaded from Ember's disk cache in under 20 ms (first call)."""

LABELS = {
    "ember": "Ember",
    "ember_fm": "Ember fastmath",
    "numba": "Numba",
    "numba_fm": "Numba fastmath",
    "numpy": "NumPy",
    "c": "C",
}


@dataclass
class SuiteReport:
    rows: list[dict] = field(default_factory=list)
    """Per kernel: name, group, size, reference, times {impl: s}, compile {what: s}."""
    notes: dict = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    quick: bool = False
    ember_missing: str = ""
    fastmath_missing: str = ""
    c_missing: str = ""
    machine: list[tuple[str, str]] = field(default_factory=list)
    wall_seconds: float = 0.0


def failure(case, impl: str, stage: str, message: str) -> str:
    """One failure line, with the command that reproduces it."""
    repro = f"`python benchmarks/bench_suite.py --quick --only {case.name}`"
    return f"- FAILED: `{case.name}` {LABELS.get(impl, impl)} ({stage}): {message}; repro: {repro}"


def _gcc_version() -> str:
    try:
        out = subprocess.run(["gcc", "--version"], capture_output=True, text=True, check=True)
        return out.stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError):
        return "not available"


def machine_rows(ember: object, load_at_start: tuple[float, ...]) -> list[tuple[str, str]]:
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    return machine_info(ember, load_at_start) + [
        ("C compiler", f"{_gcc_version()}, `-O3 -march=native`"),
        (
            "NumPy BLAS threads",
            f"{threads} (OPENBLAS/OMP/MKL_NUM_THREADS; Ember, Numba, C: 1 core)",
        ),
    ]


# --- Figures ------------------------------------------------------------------------------------


def ratio(row: dict, num: str, den: str) -> float | None:
    t = row["times"]
    if isinstance(t.get(num), float) and isinstance(t.get(den), float) and t[den] > 0:
        return t[num] / t[den]
    return None


def geomean(values: list[float]) -> float | None:
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else None


def ratios(rows: list[dict], num: str, den: str) -> list[float]:
    return [r for r in (ratio(row, num, den) for row in rows) if r is not None]


def _fmt(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _bold_if(x: float | None, limit: float) -> str:
    text = _fmt(x)
    return f"**{text}**" if x is not None and x > limit else text


# --- Tables -------------------------------------------------------------------------------------


def steady_table(report: SuiteReport) -> list[str]:
    header = [
        "kernel",
        "group",
        "input",
        *LABELS.values(),
        "Ember/Numba",
        "Ember fm/Numba fm",
        "Ember/C",
        "Ember/NumPy",
    ]
    rows = []
    for r in report.rows:
        t = r["times"]
        cells = [fmt_time(t[k]) if k in t else "—" for k in LABELS]
        rows.append(
            [
                f"`{r['kernel']}`",
                r["group"],
                r["size"],
                *cells,
                _bold_if(ratio(r, "ember", "numba"), KERNEL_AIM),
                _fmt(ratio(r, "ember_fm", "numba_fm")),
                _fmt(ratio(r, "ember", "c")),
                _fmt(ratio(r, "ember", "numpy")),
            ]
        )
    return table(header, rows)


def summary_lines(report: SuiteReport) -> list[str]:
    pairs = [
        ("ember", "numba", "Ember / Numba"),
        ("ember_fm", "numba_fm", "Ember fastmath / Numba fastmath"),
        ("ember", "c", "Ember / C"),
        ("numba", "c", "Numba / C"),
        ("ember", "numpy", "Ember / NumPy"),
        ("ember_fm", "ember", "Ember fastmath / Ember"),
    ]
    rows = []
    for num, den, label in pairs:
        values = ratios(report.rows, num, den)
        rows.append(
            [
                label,
                _fmt(geomean(values)),
                _fmt(min(values) if values else None),
                _fmt(max(values) if values else None),
                str(len(values)),
            ]
        )
    return table(["time ratio", "geometric mean", "min", "max", "kernels"], rows)


def compile_table(report: SuiteReport) -> list[str]:
    keys = ["ember", "numba", "ember_fm", "numba_fm", "ember_load", "numba_load"]
    header = [
        "kernel",
        "Ember cold",
        "Numba cold",
        "Ember/Numba",
        "Ember fastmath cold",
        "Numba fastmath cold",
        "Ember from disk cache",
        "Numba from disk cache",
    ]
    rows = []
    for r in report.rows:
        c = r["compile"]
        cells = [fmt_time(c.get(k)) for k in keys]
        cold = _fmt(c["ember"] / c["numba"]) if "ember" in c and "numba" in c else "—"
        rows.append([f"`{r['kernel']}`", *cells[:2], cold, *cells[2:]])
    medians = [fmt_time(median_of(report.rows, k)) for k in keys]
    rows.append(["**median**", *medians[:2], "", *medians[2:]])
    notes = report.notes
    first = ", ".join(
        f"{LABELS[k]} {fmt_time(notes.get(k + '_first'))}" for k in LABELS if k + "_first" in notes
    )
    return table(header, rows) + [
        "",
        f"One-time costs, not in the rows above: the first compile in a process (`add1`): {first};"
        f" in a fresh process, `import ember` took {fmt_time(notes.get('ember_import'))} and the"
        f" first kernel loaded from the disk cache (`add1`) {fmt_time(notes.get('ember_load_first'))}"
        f" (Numba: {fmt_time(notes.get('numba_load_first'))}).",
    ]


def median_of(rows: list[dict], key: str) -> float | None:
    values = [r["compile"][key] for r in rows if isinstance(r["compile"].get(key), float)]
    return statistics.median(values) if values else None


# --- Aims ---------------------------------------------------------------------------------------


def aim_lines(report: SuiteReport) -> list[str]:
    """One line per aim met, and one per miss (per kernel where the aim is per kernel)."""
    out = []
    values = ratios(report.rows, "ember", "numba")
    gm = geomean(values)
    if gm is not None:
        verdict = "Met" if gm <= GEOMEAN_AIM else "MISSED"
        out.append(
            f"- {verdict}: geometric mean of Ember/Numba is {gm:.2f} over {len(values)} "
            f"kernels (aim: at most {GEOMEAN_AIM})."
        )
    slow = [(r["kernel"], ratio(r, "ember", "numba")) for r in report.rows]
    slow = [(k, x) for k, x in slow if x is not None and x > KERNEL_AIM]
    out += [
        f"- MISSED: `{k}` takes {x:.2f}x Numba's time (aim: at most {KERNEL_AIM}x)."
        for k, x in slow
    ]
    if values and not slow:
        out.append(f"- Met: no kernel above {KERNEL_AIM}x Numba (worst {max(values):.2f}x).")
    out += compile_aims(report)
    return out


def compile_aims(report: SuiteReport) -> list[str]:
    out = []
    ember, numba = median_of(report.rows, "ember"), median_of(report.rows, "numba")
    if ember is not None and numba is not None:
        verdict = "Met" if ember <= numba else "MISSED"
        out.append(
            f"- {verdict}: median first-call compile time {fmt_time(ember)} with Ember vs "
            f"{fmt_time(numba)} with Numba (aim: no worse than Numba's)."
        )
    loads = [(r["kernel"], r["compile"].get("ember_load")) for r in report.rows]
    loads = [(k, x) for k, x in loads if isinstance(x, float)]
    slow = [(k, x) for k, x in loads if x >= CACHED_LOAD_AIM]
    out += [
        f"- MISSED: `{k}` first call from Ember's disk cache takes {fmt_time(x)} "
        f"(aim: under {fmt_time(CACHED_LOAD_AIM)})."
        for k, x in slow
    ]
    if loads and not slow:
        worst = max(x for _, x in loads)
        out.append(
            f"- Met: every kernel loads from Ember's disk cache in under "
            f"{fmt_time(CACHED_LOAD_AIM)} (worst {fmt_time(worst)}, median "
            f"{fmt_time(median_of(report.rows, 'ember_load'))})."
        )
    return out


def skipped_lines(report: SuiteReport) -> list[str]:
    out = []
    if report.ember_missing:
        out.append(f"- Ember could not be imported ({report.ember_missing}): no Ember figures.")
    if report.fastmath_missing:
        out.append(f"- No Ember fastmath column: {report.fastmath_missing}.")
    if report.c_missing:
        out.append(f"- No C column: {report.c_missing}")
    return out


# --- The section --------------------------------------------------------------------------------


def render(report: SuiteReport) -> str:
    mode = "--quick (small inputs, few repeats)" if report.quick else "full"
    lines = [
        INTRO,
        f"### Results ({time.strftime('%Y-%m-%d')}, {mode} run, "
        f"{report.wall_seconds / 60:.1f} minutes)",
        "",
        "| machine | |",
        "|---|---|",
    ]
    lines += table(["", ""], [[k, v] for k, v in report.machine])[2:]
    lines += ["", "#### Steady state (median seconds per call)", "", *steady_table(report)]
    lines += [
        "",
        f"Ratios are times: below 1 means Ember is faster. Bold: above the {KERNEL_AIM}x aim.",
        "",
        *summary_lines(report),
    ]
    lines += ["", "#### First call: compile time", "", *compile_table(report)]
    lines += ["", "#### Aims met and missed", "", *aim_lines(report)]
    lines += ["", "#### Failures and skipped columns", ""]
    lines += report.failures + skipped_lines(report) or ["- None."]
    return "\n".join(lines) + "\n"


INTRO = """## Suite

Generated by `benchmarks/bench_suite.py`; regenerate this section with

    python benchmarks/bench_suite.py --write      # ~5 minutes; --quick (~40 s) for a smoke test

28 PolyBench/NPBench-style kernels (`benchmarks/suite_kernels.py`): stencils (jacobi-1d/2d,
heat-3d, seidel-2d), linear algebra written as loops (gemm, gemv in float32, syrk, atax, bicg, mvt,
trisolv, cholesky, Levinson-Durbin), dynamic programming (floyd-warshall, nussinov, LCS), reductions (softmax
in float64 and float32, variance, float32 norm), physics (n-body forces, kick-drift oscillators, CSR SpMV,
great-circle distances) and string/bit work (table CRC-32 over
bytes, SWAR popcount, insertion and bitonic sort). Each is one plain annotated Python function
compiled by `ember.kernel(fn)`, `ember.kernel(fn, fastmath=True)`, `numba.njit(fn)` and
`numba.njit(fn, fastmath=True)`; where a natural vectorized version exists, NumPy runs it
(`np_<name>`, single-threaded BLAS); the C versions (`benchmarks/c/<name>.c`, the same loops, no
`restrict`) are compiled once with `gcc -O3 -march=native` (GCC's default `-ffp-contract=fast`
fuses multiply-adds) and called through ctypes with precomputed pointers.

- **Steady state**: one process, the same inputs for all; each implementation writes into its own
  copy of the arguments; every kernel rewrites all its outputs, so repeated calls do identical
  work. Time per call is the median of 7 batches (3 with `--quick`), each calibrated to last at
  least 0.15 s and interleaved between the implementations so that background load hits all
  alike (`bench_core.median_times`). Before timing, every result is checked against a reference:
  the NumPy version, or `np.linalg.solve` / `zlib.crc32` / `np.sort`; `seidel_2d`, `nussinov` and
  `lcs` have none, so they are checked against CPython running the same function on a small
  input, and against Numba on the timed input. Tolerance: rtol 1e-9 relative to each output's
  largest magnitude (float32 kernels 1e-5/1e-6, fastmath columns 1e-6), integers exactly. A
  column that fails its check is not timed and is listed under failures.
- **First call**: seconds from a fresh dispatcher to the end of its first call on a small input
  (compilation plus a short run). *Cold* is `ember.kernel(fn, cache=False)` and `numba.njit(fn)`
  without a cache; *from disk cache* is the median over 3 fresh processes (1 with `--quick`) of
  the first call in a process pointed at cache directories an earlier process filled
  (`EMBER_CACHE_DIR`, `NUMBA_CACHE_DIR` with `njit(cache=True)`). `gc.collect()` runs before
  each first call: otherwise a full collection of the process's earlier garbage (30-55 ms with
  Numba loaded) lands on whichever kernel happens to cross the threshold.

Aims from issue #5: geometric mean of Ember/Numba at most **0.9**, no kernel above **1.25**; median
first-call compile time no worse than Numba's; a cached load under **20 ms**.
"""
