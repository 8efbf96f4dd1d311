"""Error golden: a slice whose step is the constant zero."""

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    b = a[::0]
    return b[0]


_ERRORS = """
File "slice_step_zero.py", line 8, in f:
    b = a[::0]
            ^
error: slice step cannot be zero
"""
