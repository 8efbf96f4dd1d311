"""Error golden: a method of a call result."""

import numpy as np

from ember import kernel


@kernel
def f(x: float) -> float:
    return np.float64(x).item()


_ERRORS = """
File "method_of_call.py", line 10, in f:
    return np.float64(x).item()
           ^^^^^^^^^^^^^^^^^^^^
error: method 'item' of float64 is not supported in kernels; the value is already a scalar; drop .item()
"""
