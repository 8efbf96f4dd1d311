"""Error golden: np.max of a complex array (NumPy orders complex values lexicographically)."""

import numpy as np

from ember import c128, kernel


@kernel
def f(a: c128[:]) -> complex:
    return np.max(a)


_ERRORS = """
File "complex_reduce_max.py", line 10, in f:
    return np.max(a)
           ^^^^^^^^^
error: max() of a complex array is not supported in kernels; reduce np.abs(a), a.real or a.imag instead
"""
