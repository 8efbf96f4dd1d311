"""Error golden: calling the result of a call."""

import math

from ember import kernel


@kernel
def f(x: float) -> float:
    return math.sin(x)(2.0)


_ERRORS = """
File "call_of_call.py", line 10, in f:
    return math.sin(x)(2.0)
           ^^^^^^^^^^^^^^^^
error: calling the result of a call ('math.sin(x)') is not supported in kernels; kernels call functions and other kernels by name
"""
