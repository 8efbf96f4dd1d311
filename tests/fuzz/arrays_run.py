"""Differential runner of array programs (arrays.py): Ember vs NumPy, on runner.py's machinery.

Each trial runs the kernel and its Python function on fresh copies of the same argument views.
Results and every array argument afterwards must agree: same shape and dtype for arrays, the
same kind (bool/int/float) for scalars, ints and bools exactly, floats to a dtype-aware
tolerance (`RTOL`, relative to the largest value of the expected array, so that a reordered
sum agrees; float32's for every float of a program that uses float32), NaN where NumPy has
NaN. A program that ends in an incompatible broadcast must raise the same ValueError, with
the same message, on both sides. `reduce_seed` minimizes a failure with reduce.py.
"""

from __future__ import annotations

import re
import time
import traceback

import numpy as np

from tests.fuzz.arrays import TRIALS, ArrayProgram, generate
from tests.fuzz.inputs import make, params_code
from tests.fuzz.runner import Failure, Outcome, _raised, _show, call, load

RTOL = {"float64": 1e-9, "float32": 2e-4}


def difference(got, want, what: str = "result", loose: bool = False) -> str | None:
    """None if `got` (Ember) matches `want` (NumPy), else the first gap. `loose`: float64
    values to float32's tolerance (they went through float32 math, whose last bits differ
    between Ember's libm and NumPy's own loops)."""
    if isinstance(want, np.ndarray) and want.ndim == 0:  # np.where of scalars: a 0-d array
        want = want[()]
    if isinstance(want, np.ndarray):
        if not isinstance(got, np.ndarray):
            return f"{what}: expected an ndarray, got {type(got).__name__} {got!r}"
        if got.shape != want.shape or got.dtype != want.dtype:
            return f"{what}: Ember {got.dtype}{got.shape} != NumPy {want.dtype}{want.shape}"
        return None if _same_values(got, want, want.dtype, loose) else \
            f"{what}: Ember {got.tolist()!r} != NumPy {want.tolist()!r}"
    if want is None:
        return None if got is None else f"{what}: {got!r} is not None"
    kind = np.asarray(want).dtype.kind
    if isinstance(got, np.ndarray) or np.asarray(got).dtype.kind != kind:
        return f"{what}: Ember {got!r} != NumPy {want!r} (kind)"
    ok = _same_values(np.asarray(got), np.asarray(want), np.asarray(want).dtype, loose)
    return None if ok else f"{what}: Ember {got!r} != NumPy {want!r}"


def _same_values(got: np.ndarray, want: np.ndarray, dtype: np.dtype, loose: bool) -> bool:
    if dtype.kind != "f":
        return bool(np.array_equal(got, want))
    rtol = RTOL["float32" if loose else dtype.name]
    got, want = got.astype(np.float64), want.astype(np.float64)
    nan = np.isnan(want)
    if not np.array_equal(np.isnan(got), nan):
        return False
    scale = max(1.0, float(np.abs(want[np.isfinite(want)]).max(initial=0.0)))
    g, w = got[~nan], want[~nan]
    close = (g == w) | (np.abs(g - w) <= rtol * scale)
    return bool(np.all(close))


def compare(want: Outcome, got: Outcome, names: list[str], loose: bool = False) -> str | None:
    if want.error is not None:
        w, g = want.error, got.error
        problem = None if g is not None and type(g) is type(w) and str(g) == str(w) else (
            f"exception: Ember {_raised(g)} != NumPy {_raised(w)}"
            + (f"\n{got.trace}" if g is not None and type(g) is not type(w) else ""))
    elif got.error is not None:
        problem = f"exception: Ember {_raised(got.error)} != NumPy returned\n{got.trace}"
    else:
        problem = difference(got.value, want.value, loose=loose)
    for name, g, w in zip(names, got.args, want.args, strict=False):
        if problem is None and isinstance(w, np.ndarray):
            problem = difference(g, w, f"argument {name} after the call", loose)
    return problem


def check_program(program: ArrayProgram, stats: dict | None = None) -> list[Failure]:
    """Every trial of `program` under NumPy and under Ember; the first failure, if any."""
    try:
        py_fn = load(program.python_source, f"apy{program.seed}").f
    except Exception:  # noqa: BLE001
        return [Failure(program.seed, "python-error", "<module>", 0, traceback.format_exc())]
    try:
        em_fn = load(program.ember_source, f"aem{program.seed}").f
    except Exception:  # noqa: BLE001
        return [Failure(program.seed, "ember-error", "<module>", 0, traceback.format_exc())]
    for trial in range(TRIALS):
        failure = check_call(program, trial, py_fn, em_fn, stats)
        if failure is not None:
            return [failure]
    return []


def check_call(program: ArrayProgram, trial: int, py_fn, em_fn,
               stats: dict | None = None) -> Failure | None:
    recipes = list(program.args[trial])
    want = call(py_fn, recipes)
    if stats is not None:
        stats["raised"] = stats.get("raised", 0) + (want.error is not None)
    if want.error is not None and not (program.raises and isinstance(want.error, ValueError)):
        return _failure(program, trial, "python-error", want.trace, recipes, want, None)
    got = call(em_fn, recipes)
    if type(got.error).__name__ == "CompileError":
        return _failure(program, trial, "compile-error", got.trace, recipes, want, got)
    if got.error is not None and want.error is None:
        return _failure(program, trial, "ember-error", got.trace, recipes, want, got)
    loose = bool(re.search(r"f32|float32", program.body))
    problem = compare(want, got, [p.name for p in program.functions[0].params], loose)
    if problem is None:
        return None
    return _failure(program, trial, "mismatch", problem, recipes, want, got)


def _failure(program, trial, kind, message, recipes, want, got) -> Failure:
    failure = Failure(program.seed, kind, "f", trial, message)
    fn = program.functions[0]
    names = ", ".join(p.name for p in fn.params)
    failure.report = "\n".join([
        f"# Ember array fuzz seed {program.seed}: {kind} (argument set {trial})",
        "# " + message.strip().replace("\n", "\n# "),
        program.ember_source, "",
        params_code(fn.params, recipes),
        f"# NumPy: {_show(want, fn.params)}",
        f"# Ember: {_show(got, fn.params)}",
        "from tests.fuzz.arrays_run import assert_same_outcome",
        f"assert_same_outcome(f, {names})",
    ])
    return failure


def assert_same_outcome(kernel_fn, *args) -> None:
    """For reproducers: the kernel and its Python function agree on copies of `args`."""
    from tests.fuzz.runner import _fresh
    def fresh() -> list:
        return [_fresh(a) if isinstance(a, np.ndarray) else a for a in args]
    want, got = call(kernel_fn.py_func, fresh()), call(kernel_fn, fresh())
    loose = any(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in args)
    problem = compare(want, got, [f"#{i}" for i in range(len(args))], loose)
    assert problem is None, problem


def check_python(seed: int) -> tuple[list[Failure], float, int]:
    """The generator's invariant: the program runs under NumPy (raising only where meant to)."""
    program = generate(seed)
    py_fn = load(program.python_source, f"apy{seed}").f
    failures, raised = [], 0
    start = time.perf_counter()
    for trial in range(TRIALS):
        out = call(py_fn, [make(a) for a in program.args[trial]])
        raised += out.error is not None
        if (out.error is not None) != program.raises:
            failures.append(Failure(seed, "python-error", "f", trial,
                                    out.trace or "returned", program.python_source))
            break
    return failures, time.perf_counter() - start, raised


def reduce_seed(seed: int) -> str:
    """Minimize the first failure of `seed` with reduce.py's greedy AST reducer; the
    reproducer of the smallest program that still fails the same way."""
    import dataclasses
    import warnings

    from tests.fuzz.reduce import _greedy, _time_limit, same_failure
    program = generate(seed)
    failures = check_program(program)
    if not failures or failures[0].function == "<module>":
        return f"seed {seed}: nothing to reduce ({failures[0].summary() if failures else 'passes'})"
    failure = failures[0]

    def run(candidate: ArrayProgram) -> Failure | None:
        warnings.simplefilter("ignore", SyntaxWarning)
        py_fn, em_fn = (load(candidate.python_source, "arpy").f,
                        load(candidate.ember_source, "arem").f)
        with _time_limit(10.0):
            return check_call(candidate, failure.trial, py_fn, em_fn)

    def fails(body: str) -> bool:
        try:
            return same_failure(failure, run(dataclasses.replace(program, body=body)))
        except Exception:  # noqa: BLE001 - e.g. a deleted definition: not interesting
            return False

    small = _greedy(program, "f", fails, print)
    final = run(dataclasses.replace(program, body=small.body))
    return final.report if final else "reduction lost the failure (flaky?)"
