"""Benchmark suite: Ember vs Numba vs NumPy vs C on 28 PolyBench/NPBench-style loop kernels.

    python benchmarks/bench_suite.py            # full run (~5 minutes), prints a Markdown report
    python benchmarks/bench_suite.py --quick    # small inputs, few repeats (~40 s)
    python benchmarks/bench_suite.py --write    # also writes the "## Suite" section of
                                                # BENCHMARKS.md (the rest of the file is kept)
    python benchmarks/bench_suite.py --only gemm,lcs   # a subset (never written)

Everything runs in one process on the same inputs, except the disk-cache figures, which need
fresh processes (this script re-runs itself with --cache-probe). The kernels, their NumPy
versions and inputs live in `suite_kernels.py`; the C versions in `c/<kernel>.c`, compiled once
with `gcc -O3 -march=native` into a shared library and called through ctypes with precomputed
pointers. Timing and checking helpers come from `bench_core.py` (calibrated batches,
interleaved between implementations, median of repeats).
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

# A fresh Ember disk cache (bench_core would make one too; making it here names it clearly), and
# single-threaded BLAS: Ember, Numba and C run on one core, so NumPy's matrix products do too.
if "EMBER_CACHE_DIR" not in os.environ:
    os.environ["EMBER_CACHE_DIR"] = tempfile.mkdtemp(prefix="ember-bench-suite-cache-")
    atexit.register(shutil.rmtree, os.environ["EMBER_CACHE_DIR"], ignore_errors=True)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import bench_core as BC  # noqa: E402  (imports ember, numba, numpy)
import bench_report  # noqa: E402
import numba  # noqa: E402
import numpy as np  # noqa: E402
import suite_kernels as K  # noqa: E402
import suite_report as R  # noqa: E402

EMBER = BC.EMBER
LOAD_AT_START = BC.LOAD_AT_START
FASTMATH_RTOL = 1e-6
"""Tolerance of the fastmath results (reassociated sums, approximate math functions)."""
LOAD_PROCESSES = 3
"""Fresh processes that load every kernel from the disk caches (the median is reported)."""

IMPLS = ("ember", "ember_fm", "numba", "numba_fm", "numpy", "c")
"""Column keys: Ember, Ember fastmath, Numba, Numba fastmath, NumPy, C (gcc -O3 -march=native)."""


# --- Checking -------------------------------------------------------------------------------


def outcome(case: K.Case, fn: Callable, args: tuple) -> list:
    """What a kernel produced: its return value followed by the arrays it writes."""
    return [fn(*args), *(args[i] for i in case.outputs)]


def assert_close(got: list, want: list, rtol: float, what: str) -> None:
    """Integers exactly; floats within rtol, relative to each output's largest magnitude."""
    for g, w in zip(got, want, strict=True):
        if w is None:
            assert g is None, f"{what}: returned {g!r}, expected None"
            continue
        w = np.asarray(w)
        if w.dtype.kind in "biu":
            np.testing.assert_array_equal(g, w, err_msg=what)
        else:
            scale = float(np.max(np.abs(w))) if w.size else 0.0
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * scale, err_msg=what)


def expected(case: K.Case, args: tuple, numba_fn: Callable) -> tuple[list, str]:
    """The expected outcome on `args` and where it comes from. Without a NumPy reference,
    Numba is first checked against CPython on the small input, then serves as the reference."""
    if case.numpy is not None:
        return outcome(case, case.numpy, BC.fresh(args)), "NumPy"
    if case.reference is not None:
        return case.reference(*BC.fresh(args)), case.reference.__name__
    small = case.make(case.small)
    assert_close(
        outcome(case, numba_fn, BC.fresh(small)),
        outcome(case, case.fn, small),
        case.rtol,
        f"{case.name} numba vs CPython",
    )
    return outcome(case, numba_fn, BC.fresh(args)), "Numba (checked vs CPython)"


def check_small_vs_cpython(case: K.Case, fn: Callable, what: str) -> None:
    """Kernels without a NumPy reference: also compare with CPython on the small input."""
    if case.numpy is None and case.reference is None:
        small = case.make(case.small)
        assert_close(
            outcome(case, fn, BC.fresh(small)),
            outcome(case, case.fn, BC.fresh(small)),
            case.rtol,
            f"{what} vs CPython (small input)",
        )


# --- The C versions -----------------------------------------------------------------------------


def build_c_library(tmp: str) -> tuple[ctypes.CDLL | None, str]:
    """Compile benchmarks/c/*.c once with gcc -O3 -march=native; (library, note)."""
    sources = sorted(str(p) for p in (HERE / "c").glob("*.c"))
    out = os.path.join(tmp, "libsuite.so")
    cmd = ["gcc", "-O3", "-march=native", "-shared", "-fPIC", *sources, "-o", out, "-lm"]
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        return None, f"C versions not built: {getattr(exc, 'stderr', '') or exc}"
    return ctypes.CDLL(out), f"{len(sources)} files, `gcc -O3 -march=native -shared -fPIC`"


_C_RESTYPES = {"float": ctypes.c_double, "int": ctypes.c_int64, "None": None}


def c_call(lib: ctypes.CDLL, case: K.Case, args: tuple) -> Callable[[], object]:
    """The C entry applied to `args` (kept alive by the closure), pointers precomputed."""
    fn = getattr(lib, case.name)
    fn.restype = _C_RESTYPES[str(case.fn.__annotations__.get("return"))]
    cargs = []
    for a in args:
        if isinstance(a, np.ndarray):
            assert a.flags.c_contiguous
            cargs.append(ctypes.c_void_p(a.ctypes.data))
        elif isinstance(a, float):
            cargs.append(ctypes.c_double(a))
        else:
            cargs.append(ctypes.c_int64(a))
    cargs += [ctypes.c_int64(d) for d in case.c_dims(args)]
    return lambda keep=args: fn(*cargs)  # `keep`: the arrays must outlive the pointers


# --- First calls: compile time ------------------------------------------------------------------


def ember_fastmath_first_call() -> float | str:
    """Seconds of a first `ember.kernel(add1, fastmath=True)` call, or why there is none."""
    if EMBER is None:
        return "Ember could not be imported"
    try:
        return BC.first_call(lambda: EMBER.kernel(K.add1, fastmath=True, cache=False), (1.0,))
    except TypeError as exc:
        return f"`kernel(fn, fastmath=True)` not accepted yet ({exc})"


def makers(fastmath_ok: bool) -> dict[str, Callable[[Callable], Callable]]:
    """How each compiled column builds a fresh dispatcher with nothing cached."""
    out = {"numba": numba.njit, "numba_fm": lambda f: numba.njit(f, fastmath=True)}
    if EMBER is not None:
        out["ember"] = lambda f: EMBER.kernel(f, cache=False)
        if fastmath_ok:
            out["ember_fm"] = lambda f: EMBER.kernel(f, fastmath=True, cache=False)
    return out


def compile_case(case: K.Case, make: dict, row: dict, failures: list) -> dict[str, Callable]:
    """First call of each fresh dispatcher on the small input; returns the compiled ones."""
    compiled = {}
    for impl, maker in make.items():
        args = BC.fresh(case.make(case.small))
        gc.collect()  # a full collection of earlier garbage must not land on this kernel
        try:
            start = time.perf_counter()
            fn = maker(case.fn)
            fn(*args)
            row["compile"][impl] = time.perf_counter() - start
            compiled[impl] = fn
        except Exception as exc:
            failures.append(R.failure(case, impl, "compile", BC.short_error(exc)))
    return compiled


# --- Steady state -------------------------------------------------------------------------------


def implementations(case: K.Case, compiled: dict, lib) -> dict[str, Callable]:
    """impl -> (private copy of the arguments -> timing closure over them)."""
    out: dict[str, Callable] = {}
    for impl in IMPLS:
        if impl in compiled:
            out[impl] = lambda mine, f=compiled[impl]: lambda: f(*mine)
        elif impl == "numpy" and case.numpy is not None:
            out[impl] = lambda mine: lambda: case.numpy(*mine)
        elif impl == "c" and lib is not None and case.c_dims is not None:
            out[impl] = lambda mine: c_call(lib, case, mine)
    return out


def checked_calls(
    case: K.Case, compiled: dict, lib, args: tuple, row: dict, failures: list
) -> dict[str, Callable[[], object]]:
    """Timing closures of the implementations whose results match the reference. Each works on
    its own copy of the arguments; kernels are idempotent, so checking one call is enough."""
    want, row["reference"] = expected(case, args, compiled["numba"])
    calls = {}
    for impl, bind in implementations(case, compiled, lib).items():
        mine = BC.fresh(args)
        call = bind(mine)
        rtol = max(case.rtol, FASTMATH_RTOL) if impl.endswith("_fm") else case.rtol
        try:
            got = [call(), *(mine[i] for i in case.outputs)]
            assert_close(got, want, rtol, f"{case.name} {impl}")
            if impl in compiled:
                check_small_vs_cpython(case, compiled[impl], f"{case.name} {impl}")
            calls[impl] = call
        except Exception as exc:
            failures.append(R.failure(case, impl, "wrong result", BC.short_error(exc)))
    return calls


def run_case(case: K.Case, opts: BC.Options, make: dict, lib, failures: list) -> dict:
    size = case.quick if opts.quick else case.full
    row = {
        "kernel": case.name,
        "group": case.group,
        "size": f"{size:,} {case.unit}",
        "compile": {},
        "times": {},
    }
    compiled = compile_case(case, make, row, failures)
    if "numba" not in compiled:
        return row
    args = case.make(size)
    calls = checked_calls(case, compiled, lib, args, row, failures)
    row["times"] = BC.median_times(calls, opts)
    return row


# --- Disk cache: fresh processes ----------------------------------------------------------------


def cache_probe(names: list[str]) -> dict:
    """Child mode: first call of each kernel with the disk caches on (stdout: JSON)."""
    out: dict = {"ember": {}, "numba": {}, "ember_import": BC.EMBER_IMPORT_SECONDS}
    tools = [("numba", lambda f: numba.njit(f, cache=True))]
    if EMBER is not None:
        tools.append(("ember", EMBER.kernel))
    cases = [c for c in K.CASES if c.name in names]
    for tool, make in tools:
        for fn, args in [(K.add1, (1.0,))] + [(c.fn, c.make(c.small)) for c in cases]:
            gc.collect()  # see compile_case
            try:
                out[tool][fn.__name__] = BC.cached_first_call(lambda m=make, f=fn: m(f), args)
            except Exception as exc:
                out[tool][fn.__name__] = BC.short_error(exc)
    return out


def probe_in_child(ember_dir: str, numba_dir: str, names: list[str]) -> dict:
    env = dict(os.environ, EMBER_CACHE_DIR=ember_dir, NUMBA_CACHE_DIR=numba_dir)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--cache-probe", ",".join(names)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"cache probe failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cache_rounds(rows: list[dict], notes: dict, failures: list, processes: int) -> None:
    """One fresh process fills empty cache directories, the next ones load from them."""
    names = [r["kernel"] for r in rows]
    with tempfile.TemporaryDirectory(prefix="ember-bench-suite-") as tmp:
        dirs = (os.path.join(tmp, "ember"), os.path.join(tmp, "numba"))
        try:
            probe_in_child(*dirs, names)
            load = BC.median_probe([probe_in_child(*dirs, names) for _ in range(processes)])
        except Exception as exc:
            failures.append(f"- FAILED: disk-cache probe: {BC.short_error(exc)}")
            return
    notes["ember_import"] = load["ember_import"]
    for tool in ("ember", "numba"):
        notes[f"{tool}_load_first"] = load[tool].get("add1")
        for row in rows:
            value = load[tool].get(row["kernel"])
            row["compile"][f"{tool}_load"] = value
            if isinstance(value, str):
                failures.append(f"- FAILED: `{row['kernel']}` ({tool} disk cache): {value}")


# --- Main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, few repeats")
    parser.add_argument("--write", action="store_true", help="write into BENCHMARKS.md")
    parser.add_argument("--only", default="", help="comma-separated kernel names")
    parser.add_argument("--cache-probe", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> R.SuiteReport:
    opts = BC.Options(args.quick, 0.01 if args.quick else 0.15, 3 if args.quick else 7)
    only = set(filter(None, args.only.split(",")))
    cases = [c for c in K.CASES if not only or c.name in only]
    report = R.SuiteReport(quick=args.quick, ember_missing=BC.EMBER_IMPORT_ERROR)
    # One-time initialisation (LLVM, MLIR context, ...) must not land on the first kernel.
    for impl, maker in makers(False).items():
        report.notes[f"{impl}_first"] = BC.first_call(lambda m=maker: m(K.add1), (1.0,))
    fastmath = ember_fastmath_first_call()
    report.fastmath_missing = fastmath if isinstance(fastmath, str) else ""
    if not report.fastmath_missing:
        report.notes["ember_fm_first"] = fastmath
    make = makers(not report.fastmath_missing)
    with tempfile.TemporaryDirectory(prefix="ember-bench-suite-c-") as tmp:
        lib, note = build_c_library(tmp)
        report.c_missing = "" if lib is not None else note
        for case in cases:
            print(f"[bench_suite] {case.name}", file=sys.stderr, flush=True)
            report.rows.append(run_case(case, opts, make, lib, report.failures))
    print("[bench_suite] disk cache (fresh processes)", file=sys.stderr, flush=True)
    cache_rounds(report.rows, report.notes, report.failures, 1 if args.quick else LOAD_PROCESSES)
    report.machine = R.machine_rows(EMBER, LOAD_AT_START)
    return report


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.cache_probe is not None:
        print(json.dumps(cache_probe(args.cache_probe.split(","))))
        return 0
    start = time.perf_counter()
    report = run(args)
    report.wall_seconds = time.perf_counter() - start
    text = R.render(report)
    print(text)
    if args.write and not args.only:
        bench_report.write_section("Suite", text)
        print(f"[bench_suite] wrote the Suite section of {ROOT / 'BENCHMARKS.md'}", file=sys.stderr)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
