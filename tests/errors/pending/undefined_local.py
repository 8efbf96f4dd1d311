"""Error golden: a local used before any assignment.

PENDING (compiler bug, kept out of the suite until fixed): Observed: compiles and silently reads 0.0 for `z` (f(2.0) returns 2.0); CPython raises UnboundLocalError. Expected: a CompileError at `z` (local used before assignment).
"""
# ruff: noqa: F821, F841

from ember import kernel


@kernel
def f(x: float) -> float:
    y = z + x
    z = 1.0
    return y


_ERRORS = """
"""
