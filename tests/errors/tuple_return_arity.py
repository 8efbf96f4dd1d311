"""Error golden: returning two values where the annotation says three."""

from ember import kernel


@kernel
def f(x: float) -> tuple[float, float, float]:
    return x, x


_ERRORS = """
File "tuple_return_arity.py", line 8, in f:
    return x, x
    ^^^^^^^^^^^
error: cannot return tuple[float, float] from a kernel declared to return tuple[float, float, float]
"""
