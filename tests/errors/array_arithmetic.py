"""Error golden: whole-array arithmetic."""

from ember import f64, kernel


@kernel
def f(a: f64[:], b: f64[:]) -> float:
    c = a + b
    return c[0]


_ERRORS = """
File "array_arithmetic.py", line 8, in f:
    c = a + b
        ^^^^^
error: unsupported operand types for +: float64[:] and float64[:]; whole-array arithmetic is not supported, write a loop
"""
