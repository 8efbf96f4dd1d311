"""Error golden: a math function outside Ember's builtins."""

import math

from ember import kernel


@kernel
def f(n: int) -> int:
    return math.gcd(n, 4)


_ERRORS = """
File "math_unsupported.py", line 10, in f:
    return math.gcd(n, 4)
           ^^^^^^^^
error: math.gcd is not supported in kernels; kernels call math's functions of floats (math.sin, math.exp, math.floor, ...); write the computation out
"""
