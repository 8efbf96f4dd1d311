"""Error golden: reading a module-level numpy array.
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
           ^^^^^
error: global array 'table' cannot be used in a kernel; pass it as a parameter
"""
