"""Error golden: a variable assigned an array and then a float."""

import numpy as np

from ember import kernel


@kernel
def f(n: int) -> float:
    a = np.zeros(n)
    a = 1.5
    return a


_ERRORS = """
File "type_conflict.py", line 11, in f:
    a = 1.5
    ^^^^^^^
error: 'a' is assigned float here but float64[:] at line 10; a variable keeps one type
note: first assignment: File "type_conflict.py", line 10, in f:
    a = np.zeros(n)
    ^^^^^^^^^^^^^^^
"""
