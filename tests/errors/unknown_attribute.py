"""Error golden: an attribute the math module does not have."""

import math

from ember import kernel


@kernel
def f(x: float) -> float:
    return math.foo(x)


_ERRORS = """
File "unknown_attribute.py", line 10, in f:
    return math.foo(x)
           ^^^^^^^^
error: 'math' has no attribute 'foo'
"""
