"""Error golden: a whole-array NumPy reduction."""

import numpy as np

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    return np.sum(a)


_ERRORS = """
File "np_whole_array.py", line 10, in f:
    return np.sum(a)
           ^^^^^^
error: whole-array function np.sum is not supported in kernels; write a loop over the elements
"""
