"""Error golden: a whole-array NumPy function outside the supported ones."""

import numpy as np

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    return np.nansum(a)


_ERRORS = """
File "np_whole_array.py", line 10, in f:
    return np.nansum(a)
           ^^^^^^^^^
error: whole-array function np.nansum is not supported in kernels; write a loop over the elements
"""
