"""Error golden: np.concatenate of arrays with different numbers of dimensions."""

import numpy as np

from ember import f64, kernel


@kernel
def f(a: f64[:, :], b: f64[:]) -> float:
    c = np.concatenate((a, b))
    return c[0, 0]


_ERRORS = """
File "selection_join_ndim.py", line 10, in f:
    c = np.concatenate((a, b))
                           ^
error: all the input arrays must have same number of dimensions, but the array at index 0 has 2 dimension(s) and the array at index 1 has 1 dimension(s)
"""
