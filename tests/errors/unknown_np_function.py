"""Error golden: a numpy function kernels do not support."""

import numpy as np

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    return np.median(a)


_ERRORS = """
File "unknown_np_function.py", line 10, in f:
    return np.median(a)
           ^^^^^^^^^
error: whole-array function np.median is not supported in kernels; write a loop over the elements
"""
