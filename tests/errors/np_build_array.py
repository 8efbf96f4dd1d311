"""Error golden: np.meshgrid (building an array from others)."""

import numpy as np

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    b = np.meshgrid(a, a)
    return b[0][0, 0]


_ERRORS = """
File "np_build_array.py", line 10, in f:
    b = np.meshgrid(a, a)
        ^^^^^^^^^^^
error: np.meshgrid is not supported in kernels; allocate with np.empty(n) (or np.zeros, np.full) and fill the array in a loop
"""
