"""Error golden: a string value."""

from ember import kernel


@kernel
def f(x: float) -> float:
    s = "hello"
    return len(s)


_ERRORS = """
File "string_literal.py", line 8, in f:
    s = "hello"
        ^^^^^^^
error: constant 'hello' is not supported in kernels; kernels compute with numbers, tuples and arrays
"""
