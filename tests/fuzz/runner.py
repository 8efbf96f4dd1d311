"""Differential runner: a generated program under CPython and under Ember, compared.

The program is written to two real files (Ember needs `inspect.getsource`): one with
`@kernel` from Ember, one where `kernel` is the identity. Every function is called on
`TRIALS` argument sets, each side on its own fresh copies; results and every array argument
afterwards must agree (exactly for ints and bools, to `RTOL` for floats, nan equal to nan).
When CPython raises through one of the program's own `raise`/`assert` statements, Ember must
raise the same exception type with the same `str(exc)`, and the arrays must agree after the
exception too (writes done before it are kept on both sides). A disagreement, an Ember
exception where CPython returned, or any other CPython exception (a generator bug) is a
`Failure` whose `report` is a self-contained reproducer.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import os
import sys
import tempfile
import traceback
import warnings
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from tests.fuzz.defaults import KwArg
from tests.fuzz.generator import Function, Program, generate
from tests.fuzz.inputs import TRIALS, call_args_code, make, make_args, params_code, split

RTOL = 1e-9
_DIR = tempfile.mkdtemp(prefix="ember-fuzz-")
_COUNTER = itertools.count()


@dataclass
class Failure:
    seed: int
    kind: str  # mismatch | ember-error | compile-error | python-error | crash | timeout
    function: str
    trial: int
    message: str
    report: str = ""

    def summary(self) -> str:
        first = self.message.strip().splitlines()[-1] if self.message.strip() else ""
        return f"seed {self.seed}: {self.kind} in {self.function} (args {self.trial}): {first}"


@dataclass
class Outcome:
    value: object = None
    args: list = field(default_factory=list)
    error: BaseException | None = None
    trace: str = ""


def load(source: str, tag: str) -> ModuleType:
    """Import `source` from a real file under a unique module name."""
    name = f"ember_fuzz_{tag}_{next(_COUNTER)}"
    path = os.path.join(_DIR, name + ".py")
    with open(path, "w") as f:
        f.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def own_raise(error: BaseException | None) -> bool:
    """Whether `error` comes from a `raise`/`assert` statement of a generated program."""
    if error is None:
        return False
    frames = traceback.extract_tb(error.__traceback__)
    if not frames or "ember_fuzz_" not in frames[-1].filename:
        return False
    line, name = (frames[-1].line or "").strip(), type(error).__name__
    if name == "AssertionError" and line.startswith("assert "):
        return True
    return line == f"raise {name}" or line.startswith(f"raise {name}(")


def call(fn, recipes: list) -> Outcome:
    """`fn` on fresh copies of `recipes` (keyword ones, KwArg, last); `Outcome.args` holds
    the positional arguments, then the keyword ones."""
    args, kwargs = split([make(r) for r in recipes])
    made = args + list(kwargs.values())
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return Outcome(fn(*args, **kwargs), made)
        except Exception as e:  # noqa: BLE001 - every exception is a finding
            return Outcome(None, made, e, traceback.format_exc(limit=-3))


# --- comparison ------------------------------------------------------------------------------
def _float_same(g: float, w: float) -> bool:
    if math.isnan(w):
        return math.isnan(g)
    if g == w:
        return w != 0.0 or math.copysign(1.0, g) == math.copysign(1.0, w)  # -0.0 is not 0.0
    return abs(g - w) <= RTOL * max(abs(g), abs(w))


def difference(got, want, what: str = "result") -> str | None:
    """None if `got` (Ember) matches `want` (CPython), else a description of the first gap."""
    if isinstance(want, tuple):
        if not isinstance(got, tuple) or len(got) != len(want):
            return f"{what}: {got!r} != {want!r}"
        for i, (g, w) in enumerate(zip(got, want, strict=False)):
            d = difference(g, w, f"{what}[{i}]")
            if d:
                return d
        return None
    if want is None:
        return None if got is None else f"{what}: {got!r} is not None"
    if isinstance(want, np.ndarray):
        if not isinstance(got, np.ndarray):
            return f"{what}: expected an ndarray, got {type(got).__name__}"
        if got.shape != want.shape or got.dtype != want.dtype:
            return f"{what}: {got.dtype}{got.shape} != {want.dtype}{want.shape}"
        for index in np.ndindex(want.shape):
            d = difference(got[index].item(), want[index].item(), f"{what}{list(index)}")
            if d:
                return d
        return None
    return _scalar_difference(got, want, what)


def _scalar_difference(got, want, what: str) -> str | None:
    if isinstance(want, bool | np.bool_):
        ok = isinstance(got, bool | np.bool_) and bool(got) == bool(want)
    elif isinstance(want, int | np.integer):
        ok = isinstance(got, int | np.integer) and not isinstance(got, bool) and got == want
    elif isinstance(want, float | np.floating):
        ok = (isinstance(got, float | np.floating)
              and _float_same(float(got), float(want)))
    else:
        ok = False
    return None if ok else f"{what}: Ember {got!r} != CPython {want!r}"


# --- one program -----------------------------------------------------------------------------
def check_program(program: Program, trials: int = TRIALS,
                  stats: dict | None = None) -> list[Failure]:
    """Run every function of `program` on its argument sets under both; all failures.

    `stats` (if given) counts the calls made and those that raised in CPython."""
    failures: list[Failure] = []
    try:
        py_mod = load(program.python_source, f"py{program.seed}")
    except Exception:  # noqa: BLE001
        return [Failure(program.seed, "python-error", "<module>", 0, traceback.format_exc())]
    try:
        em_mod = load(program.ember_source, f"em{program.seed}")
    except Exception:  # noqa: BLE001
        return [Failure(program.seed, "ember-error", "<module>", 0, traceback.format_exc())]
    for fn in program.functions:
        for trial in range(trials):
            failure = check_call(program, fn, trial, getattr(py_mod, fn.name),
                                 getattr(em_mod, fn.name), stats)
            if failure is not None:
                failures.append(failure)
                break  # one failure per function is enough
    return failures


def check_call(program: Program, fn: Function, trial: int, py_fn, em_fn,
               stats: dict | None = None) -> Failure | None:
    recipes = make_args(program.seed, fn, trial)
    want = call(py_fn, recipes)
    if stats is not None:
        stats["calls"] = stats.get("calls", 0) + 1
        stats["raised"] = stats.get("raised", 0) + own_raise(want.error)
    if want.error is not None and not own_raise(want.error):
        return _failure(program, fn, trial, "python-error", want.trace, recipes, want, None)
    got = call(em_fn, recipes)
    if type(got.error).__name__ == "CompileError":
        return _failure(program, fn, trial, "compile-error", got.trace, recipes, want, got)
    if got.error is not None and want.error is None:
        return _failure(program, fn, trial, "ember-error", got.trace, recipes, want, got)
    problem = compare(want, got, [p.name for p in fn.params])
    if problem is None:
        return None
    return _failure(program, fn, trial, "mismatch", problem, recipes, want, got)


def compare(want: Outcome, got: Outcome, names: list[str]) -> str | None:
    """The first difference of `got` (Ember) from `want` (CPython): the exception or the
    result, then every array argument after the call; None if they agree."""
    if want.error is not None:
        w, g = want.error, got.error
        problem = None if g is not None and type(g) is type(w) and str(g) == str(w) else (
            f"exception: Ember {_raised(g)} != CPython {_raised(w)}"
            + (f"\n{got.trace}" if g is not None and type(g) is not type(w) else ""))
    else:
        problem = difference(got.value, want.value) or sharing(want, got, names)
    for name, g, w in zip(names, got.args, want.args, strict=False):
        if problem is None and isinstance(w, np.ndarray):
            problem = difference(g, w, f"argument {name} after the call")
    return problem


def _arrays(value, path: str = "result") -> list[tuple[str, np.ndarray]]:
    if isinstance(value, tuple):
        return [x for i, v in enumerate(value) for x in _arrays(v, f"{path}[{i}]")]
    return [(path, value)] if isinstance(value, np.ndarray) else []


def sharing(want: Outcome, got: Outcome, names: list[str]) -> str | None:
    """Every array of the result shares memory with an argument in Ember exactly when it
    does in CPython (a returned parameter or view of one), else a description."""
    pairs = zip(_arrays(want.value), _arrays(got.value), strict=False)
    for (path, w), (_, g) in pairs:
        for name, wa, ga in zip(names, want.args, got.args, strict=False):
            if isinstance(wa, np.ndarray) and isinstance(ga, np.ndarray):
                expect = np.shares_memory(w, wa)
                if bool(np.shares_memory(g, ga)) != bool(expect):
                    return (f"{path}: Ember's {'does not share' if expect else 'shares'} "
                            f"memory with argument {name} (CPython's "
                            f"{'does' if expect else 'does not'})")
    return None


def _raised(error: BaseException | None) -> str:
    return "returned" if error is None else f"raised {type(error).__name__}({str(error)!r})"


def assert_same_outcome(kernel_fn, *args, **kwargs) -> None:
    """For reproducers: `kernel_fn` (an Ember kernel) and its Python function, each on fresh
    copies of `args` and `kwargs` (same strides), return the same result or raise the same
    exception, and leave the same arrays behind."""
    def fresh() -> list:
        return [_fresh(a) if isinstance(a, np.ndarray) else a for a in args] + [
            KwArg(k, _fresh(a) if isinstance(a, np.ndarray) else a) for k, a in kwargs.items()]
    want, got = call(kernel_fn.py_func, fresh()), call(kernel_fn, fresh())
    problem = compare(want, got, [f"#{i}" for i in range(len(args))])
    assert problem is None, problem


def _fresh(a: np.ndarray) -> np.ndarray:
    """A copy of the view `a`: the same view of a copy of the array it views."""
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    offset = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return np.ndarray(a.shape, a.dtype, buffer=root.copy(order="K"), offset=offset,
                      strides=a.strides)


def _failure(program, fn, trial, kind, message, recipes, want, got) -> Failure:
    failure = Failure(program.seed, kind, fn.name, trial, message)
    failure.report = reproducer(program, fn, recipes, failure, want, got)
    return failure


def _show(outcome: Outcome | None, params) -> str:
    if outcome is None:
        return "(not run)"
    if outcome.error is not None:
        return f"raised {type(outcome.error).__name__}: {outcome.error}"
    lines = [f"returned {outcome.value!r}"]
    for p, a in zip(params, outcome.args, strict=False):
        if isinstance(a, np.ndarray):
            lines.append(f"{p.name} after: {a.tolist()!r}")
    return "\n#   ".join(lines)


def reproducer(program: Program, fn: Function, recipes: list, failure: Failure,
               want: Outcome | None, got: Outcome | None) -> str:
    """A self-contained script: the program, the arguments, both outcomes as comments."""
    names = call_args_code(fn.params, recipes)
    return "\n".join([
        f"# Ember fuzz seed {program.seed}: {failure.kind} in {fn.name} (argument set "
        f"{failure.trial})",
        "# " + failure.message.strip().replace("\n", "\n# "),
        program.ember_source,
        "",
        params_code(fn.params, recipes),
        f"# CPython: {_show(want, fn.params)}",
        f"# Ember:   {_show(got, fn.params)}",
        "from tests.fuzz.runner import assert_same_outcome",
        f"assert_same_outcome({fn.name}, {names})",
    ])


def check_seed(seed: int) -> list[Failure]:
    return check_program(generate(seed))
