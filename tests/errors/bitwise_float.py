"""Error golden: a bitwise operator on floats."""

from ember import kernel


@kernel
def f(x: float, y: float) -> float:
    return x & y


_ERRORS = """
File "bitwise_float.py", line 8, in f:
    return x & y
           ^^^^^
error: bitwise '&' needs integer operands, not float and float
"""
