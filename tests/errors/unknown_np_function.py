"""Error golden: a numpy function kernels do not support (np.fft)."""

import numpy as np

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    return np.fft.fft(a)[0]


_ERRORS = """
File "unknown_np_function.py", line 10, in f:
    return np.fft.fft(a)[0]
           ^^^^^^^^^^
error: np.fft.fft is not supported in kernels; docs/numpy.md lists the NumPy functions kernels support; write a loop over the elements
"""
