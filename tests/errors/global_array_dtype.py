"""Error golden: a module-level array of a dtype kernels do not have."""

import numpy as np

from ember import kernel

names = np.array(["a", "b"])


@kernel
def f(i: int) -> int:
    return len(names)


_ERRORS = """
File "global_array_dtype.py", line 12, in f:
    return len(names)
               ^^^^^
error: module-level array 'names' has dtype <U1, which kernels do not support; convert it (np.asarray(..., np.float64)) or pass it as a parameter
"""
