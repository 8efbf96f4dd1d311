"""Error golden: an array attribute kernels do not support."""

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    return a.tobytes()


_ERRORS = """
File "unknown_array_attribute.py", line 8, in f:
    return a.tobytes()
           ^^^^^^^^^^^
error: array method 'tobytes' is not supported in kernels; docs/numpy.md lists the array methods kernels support; write a loop over the elements
"""
