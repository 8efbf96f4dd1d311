"""Error golden: a for loop over an array instead of range()."""

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    s = 0.0
    for v in a:
        s += v
    return s


_ERRORS = """
File "iterate_array.py", line 9, in f:
    for v in a:
             ^
error: kernels loop over range(stop), range(start, stop), range(start, stop, step) or prange(...) only
"""
