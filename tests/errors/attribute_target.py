"""Error golden: assigning to an attribute."""

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    a.scale = 2.0
    return a[0]


_ERRORS = """
File "attribute_target.py", line 8, in f:
    a.scale = 2.0
    ^^^^^^^
error: cannot assign to an attribute ('a.scale'); kernels assign to names and array elements (a[i] = ...)
"""
