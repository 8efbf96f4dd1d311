"""Error golden: math.* functions take real numbers only; cmath and np take complex."""

import math

from ember import kernel


@kernel
def f(z: complex) -> float:
    return math.exp(z)


_ERRORS = """
File "complex_math_function.py", line 10, in f:
    return math.exp(z)
           ^^^^^^^^^^^
error: math.exp() needs a real number, not complex; use cmath.exp() or np.exp() for complex values
"""
