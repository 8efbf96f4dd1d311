"""Error golden: returning a view of a parameter (not supported yet)."""

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> f64[:]:
    return a[1:]


_ERRORS = """
File "return_view.py", line 8, in f:
    return a[1:]
           ^^^^^
error: returning a view of a parameter (a slice, row or transpose) is not supported yet; return a copy (x[1:].copy()) or a view of an array the kernel allocates
"""
