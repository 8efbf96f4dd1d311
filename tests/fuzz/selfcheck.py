"""Checks of the generator itself, without Ember: CPython raises only through the program's
own `raise`/`assert` statements, and ints stay in i64.

`check_python(seed)` runs every function of the program on its argument sets under CPython
with a line tracer that looks at every local int (Python or numpy) and every int array: none
may leave +-2**62, or Ember's wrapping arithmetic would differ for a reason that is not a bug.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from tests.fuzz.generator import generate
from tests.fuzz.inputs import TRIALS, make_args
from tests.fuzz.runner import Failure, call, load, own_raise

LIMIT = 2**62


class IntRangeError(OverflowError):
    """An int left the i64 range (never mistaken for the program's own OverflowError)."""


def _tracer(frame, event, arg):
    if not frame.f_code.co_filename.endswith(".py") or "ember_fuzz_" not in \
            frame.f_code.co_filename:
        return None
    for name, value in frame.f_locals.items():
        if isinstance(value, int | np.integer) and not isinstance(value, bool):
            if abs(int(value)) > LIMIT:
                raise IntRangeError(f"int local {name} = {value} leaves the i64 range")
        elif (isinstance(value, np.ndarray) and value.dtype.kind == "i" and value.size
              and np.abs(value).max() > LIMIT):
            raise IntRangeError(f"int array {name} leaves the i64 range")
    return _tracer


def check_python(seed: int, trace: bool = True) -> tuple[list[Failure], float, int]:
    """Failures of the generator on `seed`, the CPython run time in seconds, and the number
    of calls that raised (through the program's own raise/assert statements)."""
    program = generate(seed)
    module = load(program.python_source, f"py{seed}")
    failures = []
    raised = 0
    start = time.perf_counter()
    for fn in program.functions:
        for trial in range(TRIALS):
            if trace:
                sys.settrace(_tracer)
            try:
                out = call(getattr(module, fn.name), make_args(seed, fn, trial))
            finally:
                sys.settrace(None)
            raised += own_raise(out.error)
            if out.error is not None and not own_raise(out.error):
                failures.append(Failure(seed, "python-error", fn.name, trial, out.trace,
                                        program.python_source))
                break
    return failures, time.perf_counter() - start, raised
