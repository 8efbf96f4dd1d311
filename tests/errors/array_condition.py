"""Error golden: an array used as an if condition."""

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    if a:
        return 1.0
    return 0.0


_ERRORS = """
File "array_condition.py", line 8, in f:
    if a:
       ^
error: condition must be a scalar, not float64[:]; whole-array operations are not supported, write a loop
"""
