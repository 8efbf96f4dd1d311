"""Error golden: a float return value among several returns of an `-> int` kernel."""

from ember import kernel


@kernel
def f(n: int, x: float) -> int:
    if n > 0:
        return n
    return x


_ERRORS = """
File "narrow_multiple_returns.py", line 10, in f:
    return x
           ^
error: this return value has type float, but kernel 'f' is declared to return int; write int(...) to convert it explicitly
"""
