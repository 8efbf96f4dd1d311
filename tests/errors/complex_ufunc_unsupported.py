"""Error golden: a NumPy function Ember has no complex loop for."""

import numpy as np

from ember import c128, kernel


@kernel
def f(z: c128) -> c128:
    return np.floor(z)


_ERRORS = """
File "complex_ufunc_unsupported.py", line 10, in f:
    return np.floor(z)
           ^^^^^^^^^^^
error: np.floor() is not supported on complex values in kernels; apply it to z.real, z.imag or abs(z)
"""
