"""Error golden: wrong number of arguments to a math function."""

import math

from ember import kernel


@kernel
def f(x: float, y: float) -> float:
    return math.sqrt(x, y)


_ERRORS = """
File "builtin_arity.py", line 10, in f:
    return math.sqrt(x, y)
           ^^^^^^^^^^^^^^^
error: math.sqrt() takes 1 argument(s), got 2
"""
