"""Error golden: np.tile (building an array from others)."""

import numpy as np

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    b = np.tile(a, 2)
    return b[0]


_ERRORS = """
File "np_build_array.py", line 10, in f:
    b = np.tile(a, 2)
        ^^^^^^^
error: np.tile is not supported in kernels; allocate with np.empty(n) (or np.zeros, np.full) and fill the array in a loop
"""
