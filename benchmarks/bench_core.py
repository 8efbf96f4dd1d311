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
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

# Point Ember's disk cache at a fresh directory before Ember is imported, so no run of this
# script ever loads kernels compiled by an earlier one (or leaves any behind).
if "EMBER_CACHE_DIR" not in os.environ:
    os.environ["EMBER_CACHE_DIR"] = tempfile.mkdtemp(prefix="ember-bench-cache-")
    atexit.register(shutil.rmtree, os.environ["EMBER_CACHE_DIR"], ignore_errors=True)

import numba  # noqa: E402
import numpy as np  # noqa: E402


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
LOAD_AT_START = os.getloadavg()

import core_kernels as K  # noqa: E402  (after load_ember: it imports ember too)
from bench_report import (  # noqa: E402
    INTRO,
    Report,
    assert_same,
    machine_info,
    median_times,
    outcome,
    render,
)


@dataclass
class Options:
    quick: bool
    min_time: float
    """Seconds one timing repeat should last at least (the call count is calibrated to it)."""
    repeats: int


# --- Timing and checking --------------------------------------------------------------------


def bound(fn: Callable, args: tuple) -> Callable[[], object]:
    """`fn` applied to a private copy of `args`, ready for timing."""
    args = fresh(args)
    return lambda: fn(*args)


def fresh(args: tuple) -> tuple:
    """A private copy of the arguments, so each implementation writes its own outputs."""
    return copy.deepcopy(args)


def short_error(exc: BaseException) -> str:
    """One line: the exception type, its `error:` line if any, and where (for CompileError)."""
    lines = (str(exc).strip() or type(exc).__name__).splitlines()
    message = next((line for line in lines if line.startswith("error:")), lines[0])
    where = f" [{lines[0].rstrip(':')}]" if lines[0].startswith("File ") else ""
    return f"{type(exc).__name__}: {message}{where}"


# --- (a) Steady state -------------------------------------------------------------------------


def checked_ember(case: K.Case, inputs: dict, report: Report) -> Callable | None:
    """The Ember kernel once its results match on both inputs, else None (failure recorded)."""
    try:
        ember_fn = EMBER.kernel(case.fn)
        for label, (args, want) in inputs.items():
            assert_same(outcome(case, ember_fn, fresh(args)), want, f"{case.name} ember {label}")
        return ember_fn
    except Exception as exc:
        report.failures.append(f"`{case.name}` (steady state): {short_error(exc)}")
        return None


def steady_case(case: K.Case, opts: Options, report: Report) -> dict:
    """Times one kernel: Ember vs Numba on the big input, Python vs Ember on the small one."""
    size = case.quick if opts.quick else case.big
    row: dict = {"kernel": case.name, "size": f"{size:,} {case.unit}", "small": f"{case.small:,}"}
    big, small = case.make(size), case.make(case.small)
    numba_fn = numba.njit(case.fn)
    want_small = outcome(case, case.fn, fresh(small))
    want_big = outcome(case, numba_fn, fresh(big))  # CPython would take minutes on it
    assert_same(outcome(case, numba_fn, fresh(small)), want_small, f"{case.name} numba")
    big_calls = {"numba": bound(numba_fn, big)}
    small_calls = {"python_small": bound(case.fn, small)}
    inputs = {"(small input)": (small, want_small), "(big input)": (big, want_big)}
    ember_fn = checked_ember(case, inputs, report) if EMBER is not None else None
    if ember_fn is None:
        row["ember_error"] = EMBER is not None
    else:
        big_calls["ember"] = bound(ember_fn, big)
        small_calls["ember_small"] = bound(ember_fn, small)
    return row | median_times(big_calls, opts) | median_times(small_calls, opts)


def run_steady(opts: Options, report: Report) -> None:
    for case in K.CASES:
        print(f"  steady state: {case.name}", file=sys.stderr, flush=True)
        report.steady.append(steady_case(case, opts, report))


# --- (b) First-call compile time and the disk cache ----------------------------------------


def first_call(make: Callable[[], Callable], args: tuple) -> float:
    """Seconds from creating a fresh dispatcher to the end of its first call."""
    args = fresh(args)
    start = time.perf_counter()
    make()(*args)
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


def cached_first_call(make: Callable[[], Callable], args: tuple) -> float | str:
    """Like first_call, but a kernel that reports a disk-cache miss yields an error message."""
    kernels: list = []
    seconds = first_call(lambda: kernels.append(make()) or kernels[0], args)
    if getattr(kernels[0], "cache_hit", None) is False:  # Ember's Kernel.cache_hit
        return "not loaded from the disk cache (cache_hit is False)"
    return seconds


def cache_probe() -> dict:
    """Child mode: time each kernel's first call with the disk caches on (stdout: JSON).
    In the first process on an empty cache every Ember entry reads as a miss; the caller
    ignores that process."""
    out: dict = {"ember": {}, "numba": {}, "ember_import": EMBER_IMPORT_SECONDS}
    tools = [("numba", lambda f: numba.njit(f, cache=True))]
    if EMBER is not None:
        tools.append(("ember", EMBER.kernel))
    for name, make in tools:
        for fn, args in [(K.add1, (1.0,))] + [(c.fn, c.make(c.small)) for c in K.CASES]:
            try:
                out[name][fn.__name__] = cached_first_call(lambda m=make, f=fn: m(f), args)
            except Exception as exc:
                out[name][fn.__name__] = short_error(exc)
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


LOAD_PROCESSES = 3
"""Fresh processes that each load every kernel from the disk cache (the median is reported)."""


def median_probe(probes: list[dict]) -> dict:
    """Per tool and kernel, the median of the probes' figures (or the first error message)."""
    merged: dict = {"ember_import": statistics.median(p["ember_import"] for p in probes)}
    for tool in ("ember", "numba"):
        merged[tool] = {}
        for name in probes[0][tool]:
            values = [p[tool].get(name) for p in probes]
            errors = [v for v in values if not isinstance(v, float)]
            merged[tool][name] = errors[0] if errors else statistics.median(values)
    return merged


def cache_rounds(report: Report) -> None:
    """Fresh processes on one empty cache directory: the first stores, the next ones load."""
    with tempfile.TemporaryDirectory(prefix="ember-bench-") as tmp:
        dirs = (os.path.join(tmp, "ember"), os.path.join(tmp, "numba"))
        try:
            probe_in_child(*dirs)
            load = median_probe([probe_in_child(*dirs) for _ in range(LOAD_PROCESSES)])
        except Exception as exc:
            report.failures.append(f"disk-cache probe: {short_error(exc)}")
            return
    if EMBER is not None:
        report.compile_notes["ember_import"] = load["ember_import"]
    for row in report.compile:
        for tool in ("ember", "numba"):
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
        ("array result `zeros(n) -> f64[:]`", "f(10)", K.zeros_n, None, None),
        ("tuple of arrays `zeros_pair(n) -> tuple[f64[:], f64[:]]`", "f(10)", K.zeros_pair,
         None, None),
        ("argument returned `same(a: f64[:]) -> f64[:]`", "f(a)", K.same, None, None),
        ("default omitted `scaled(x: float, p: float = 2.0)`", "f(1.0)", K.scaled, None, None),
        ("keyword `scaled(1.0, p=3.0)`", "f(1.0, p=3.0)", K.scaled, None, None),
    ]
    env = {"a": a, "b": b, "c": c, "pa": pa, "pb": pb, "pc": pc}
    for label, stmt, fn, ref, ref_stmt in rows:
        row = {"call": label, "python": ns_per_call(stmt, {**env, "f": fn}, opts)}
        row["numba"] = ns_per_call(stmt, {**env, "f": numba.njit(fn)}, opts)
        if ref is not None:  # no ctypes reference builds an array
            row["ctypes"] = ns_per_call(ref_stmt, {**env, "f": ref}, opts)
        if EMBER is not None:
            try:
                row["ember"] = ns_per_call(stmt, {**env, "f": EMBER.kernel(fn)}, opts)
            except Exception as exc:
                report.failures.append(f"`{fn.__name__}` (per-call overhead): {short_error(exc)}")
        report.overhead.append(row)
    run_derivative_overhead(opts, report)


DERIVATIVE_ROWS = (
    ("`value_and_grad` of `square(x: float) -> float`", "value_and_grad", K.square, "f(1.5)"),
    ("`grad` of `square(x: float) -> float`", "grad", K.square, "f(1.5)"),
    ("`value_and_grad` of `first(x: f64[:]) -> float`, 1 element", "value_and_grad", K.first,
     "f(a1)"),
    ("`grad` of `first(x: f64[:]) -> float`, 1 element", "grad", K.first, "f(a1)"),
)
"""Derivative calls (Ember only): the fixed cost of binding, zeroed shadows and packing."""


def run_derivative_overhead(opts: Options, report: Report) -> None:
    env = {"a1": np.ones(1)}
    for label, kind, fn, stmt in DERIVATIVE_ROWS:
        row: dict = {"call": label}
        if EMBER is not None:
            try:
                d = getattr(EMBER, kind)(EMBER.kernel(fn))
                timeit.Timer(stmt, globals={**env, "f": d}).timeit(1)  # compiles
                row["ember"] = ns_per_call(stmt, {**env, "f": d}, opts)
            except Exception as exc:
                report.failures.append(f"{kind} of `{fn.__name__}` (per-call overhead): "
                                       f"{short_error(exc)}")
        report.overhead.append(row)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    parser.add_argument("--write", action="store_true", help="write BENCHMARKS.md")
    parser.add_argument("--cache-probe", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _later_sections(old: str) -> str:
    """Sections other scripts own (bench_grad.py writes "## Gradients"); kept on rewrite."""
    match = re.search(r"^## Gradients\n.*", old, re.S | re.M)
    return "\n" + match.group(0) if match else ""


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.cache_probe:
        print(json.dumps(cache_probe()))
        return 0
    opts = Options(args.quick, 0.02 if args.quick else 0.2, 3 if args.quick else 7)
    report = Report(quick=args.quick, ember_missing=EMBER_IMPORT_ERROR)
    for title, section in (
        ("compile time", run_compile),
        ("steady state", run_steady),
        ("per-call overhead", run_overhead),
    ):
        print(f"[bench_core] {title}", file=sys.stderr, flush=True)
        section(opts, report)
    report.machine = machine_info(EMBER, LOAD_AT_START)
    text = render(report)
    print(text)
    if args.write:
        path = ROOT / "BENCHMARKS.md"
        kept = _later_sections(path.read_text()) if path.exists() else ""
        path.write_text(INTRO + "\n" + text.rstrip("\n") + "\n" + kept)
        print(f"[bench_core] wrote {ROOT / 'BENCHMARKS.md'}", file=sys.stderr)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
