"""Error golden: `np.iinfo` of a float dtype."""

import numpy as np

from ember import kernel


@kernel
def f(x: int) -> int:
    return np.iinfo(np.float64).max


_ERRORS = """
File "iinfo_float_dtype.py", line 10, in f:
    return np.iinfo(np.float64).max
                    ^^^^^^^^^^
error: np.iinfo() needs an integer dtype, not float64
"""
