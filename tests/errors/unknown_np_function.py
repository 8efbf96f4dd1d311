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
error: 'np.linalg.norm' (_ArrayFunctionDispatcher) cannot be called in a kernel
"""
