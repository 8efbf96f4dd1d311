"""Error golden: storing into a module-level numpy array (frozen, read-only)."""

import numpy as np

from ember import kernel

table = np.arange(10.0)


@kernel
def f(i: int) -> float:
    table[i] = 1.0
    return table[i]


_ERRORS = """
File "global_array.py", line 12, in f:
    table[i] = 1.0
    ^^^^^^^^
error: module-level array 'table' is frozen into the kernel as a read-only constant and cannot be written; pass the array as a parameter to modify it
"""
