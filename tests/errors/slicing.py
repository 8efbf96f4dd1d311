"""Error golden: slicing an array."""

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    b = a[1:3]
    return b[0]


_ERRORS = """
File "slicing.py", line 8, in f:
    b = a[1:3]
          ^^^
error: slicing is not supported in kernels; index one element at a time
"""
