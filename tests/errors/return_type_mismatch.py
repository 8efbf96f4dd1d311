"""Error golden: returning an array from a kernel declared -> float."""

import numpy as np

from ember import kernel


@kernel
def f(n: int) -> float:
    a = np.zeros(n)
    return a


_ERRORS = """
File "return_type_mismatch.py", line 11, in f:
    return a
    ^^^^^^^^
error: cannot return float64[:] from a kernel declared to return float
"""
