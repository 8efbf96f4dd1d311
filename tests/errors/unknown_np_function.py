"""Error golden: a numpy function kernels do not support."""

import numpy as np

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    return np.linalg.norm(a)


_ERRORS = """
File "unknown_np_function.py", line 10, in f:
    return np.linalg.norm(a)
           ^^^^^^^^^^^^^^
error: whole-array function np.linalg.norm is not supported in kernels; write a loop over the elements
"""
