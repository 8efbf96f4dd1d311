"""Error golden: np.array of nested lists of different lengths."""

import numpy as np

from ember import kernel


@kernel
def f(x: float) -> float:
    a = np.array([[x, x], [x]])
    return a[0, 0]


_ERRORS = """
File "array_ragged_list.py", line 10, in f:
    a = np.array([[x, x], [x]])
                          ^^^
error: np.array() needs nested lists of one shape (NumPy: the requested array has an inhomogeneous shape)
"""
