"""Error golden: a kernel declared -> float that can fall off its end without returning.

PENDING (compiler bug, kept out of the suite until fixed): Observed: compiles; f(-1.0) returns 0.0; CPython returns None. Expected: a CompileError (a '-> float' kernel may end without returning a value).
"""

from ember import kernel


@kernel
def f(x: float) -> float:
    if x > 0.0:
        return x


_ERRORS = """
"""
