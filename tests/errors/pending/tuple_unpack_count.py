"""Error golden: unpacking three values into two names.

PENDING (compiler bug, kept out of the suite until fixed): Observed: compiles; f(2.0) returns 2.0 (the third value is dropped); CPython raises ValueError (too many values to unpack). Expected: a CompileError naming the count mismatch.
"""

from ember import kernel


@kernel
def f(x: float) -> float:
    a, b = x, x, x
    return a + b


_ERRORS = """
"""
