"""Error golden: reading a module-level numpy array.

PENDING (compiler bug, kept out of the suite until fixed): Observed: `cannot index 'table' of type ndarray; kernels accept numpy arrays and scalars` -- misleading, `table` IS a numpy array. Expected: a message saying module-level (global) arrays cannot be used inside a kernel and should be passed as a parameter.
"""

import numpy as np

from ember import kernel

table = np.arange(10.0)


@kernel
def f(i: int) -> float:
    return table[i]


_ERRORS = """
File "global_array.py", line 13, in f:
    return table[i]
           ^^^^^^^^
error: cannot index 'table' of type ndarray; kernels accept numpy arrays and scalars
"""
