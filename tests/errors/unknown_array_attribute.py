"""Error golden: an array attribute kernels do not support."""

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    return a.sum()


_ERRORS = """
File "unknown_array_attribute.py", line 8, in f:
    return a.sum()
           ^^^^^^^
error: array method 'sum' is not supported in kernels; write a loop over the elements
"""
