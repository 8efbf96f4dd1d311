"""Error golden: a kernel declared -> float that can fall off its end without returning.
"""

from ember import kernel


@kernel
def f(x: float) -> float:
    if x > 0.0:
        return x


_ERRORS = """
File "missing_return.py", line 9, in f:
    if x > 0.0:
    ^^^^^^^^^^^
error: kernel 'f' can reach the end of its body without returning a value; add a return statement
"""
