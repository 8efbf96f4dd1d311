"""Error golden: a for loop over a scalar."""

from ember import kernel


@kernel
def f(x: float) -> float:
    s = 0.0
    for v in x:
        s += v
    return s


_ERRORS = """
File "iterate_scalar.py", line 9, in f:
    for v in x:
             ^
error: cannot iterate over 'x' of type float; for loops iterate over range(...), arrays, tuples, enumerate(...) and zip(...)
"""
