"""Error golden: a NumPy routine written in Ember that does not take complex arrays."""

import numpy as np

from ember import c128, kernel


@kernel
def f(a: c128[:]) -> float:
    return np.linalg.norm(a)


_ERRORS = """
File "complex_routine.py", line 10, in f:
    return np.linalg.norm(a)
           ^^^^^^^^^^^^^^^^^
error: np.linalg.norm() of complex values is not supported in kernels; apply it to a.real and a.imag, or np.abs(a)
"""
