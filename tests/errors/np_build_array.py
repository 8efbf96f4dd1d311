"""Error golden: np.arange (building an array from a range)."""

import numpy as np

from ember import kernel


@kernel
def f(n: int) -> int:
    a = np.arange(n)
    return a[0]


_ERRORS = """
File "np_build_array.py", line 10, in f:
    a = np.arange(n)
        ^^^^^^^^^
error: np.arange is not supported in kernels; allocate with np.empty(n) (or np.zeros, np.full) and fill the array in a loop
"""
