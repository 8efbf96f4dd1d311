"""Error golden: returning a module-level numpy array (frozen, read-only)."""

import numpy as np

from ember import f64, kernel

table = np.arange(10.0)


@kernel
def f(i: int) -> f64[:]:
    return table


_ERRORS = """
File "global_array_returned.py", line 12, in f:
    return table
    ^^^^^^^^^^^^
error: module-level array 'table' is frozen into the kernel as a read-only constant and cannot be returned; return a copy (table.copy())
"""
