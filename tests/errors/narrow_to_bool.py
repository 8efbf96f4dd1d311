"""Error golden: an int returned from a kernel declared `-> bool` (CPython returns the int)."""

from ember import kernel


@kernel
def f(n: int) -> bool:
    return n


_ERRORS = """
File "narrow_to_bool.py", line 8, in f:
    return n
           ^
error: this return value has type int, but kernel 'f' is declared to return bool; write bool(...) to convert it explicitly
"""
