"""Error golden: `dtype=` given a scalar variable."""

import numpy as np

from ember import kernel


@kernel
def f(n: int) -> float:
    a = np.zeros(3, dtype=n)
    return a[0]


_ERRORS = """
File "dtype_not_a_dtype.py", line 10, in f:
    a = np.zeros(3, dtype=n)
                          ^
error: dtype must be a dtype (np.float64, 'f8', a.dtype, ...), not the value 'n'
"""
