"""Error golden: math.factorial() of a float."""

import math

from ember import kernel


@kernel
def f(x: float) -> int:
    return math.factorial(x)


_ERRORS = """
File "factorial_float.py", line 10, in f:
    return math.factorial(x)
           ^^^^^^^^^^^^^^^^^
error: math.factorial() takes integers in kernels, not float (CPython: 'float' object cannot be interpreted as an integer); write int(x)
"""
