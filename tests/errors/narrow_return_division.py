"""Error golden: `/` returned from a kernel declared `-> int` (CPython gives 3.5 for n=7)."""

from ember import kernel


@kernel
def f(n: int) -> int:
    return n / 2


_ERRORS = """
File "narrow_return_division.py", line 8, in f:
    return n / 2
           ^^^^^
error: this return value has type float, but kernel 'f' is declared to return int; write int(...) to convert it explicitly (or '//' for floor division)
"""
