"""Error golden: a reshape with two unknown (-1) sizes."""

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    b = a.reshape(-1, -1)
    return b[0, 0]


_ERRORS = """
File "reshape_two_unknown.py", line 8, in f:
    b = a.reshape(-1, -1)
        ^^^^^^^^^^^^^^^^^
error: can only specify one unknown dimension
"""
