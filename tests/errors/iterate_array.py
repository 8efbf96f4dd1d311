"""Error golden: a for loop over a 2-D array (its items would be rows; 1-D arrays iterate)."""

from ember import f64, kernel


@kernel
def f(a: f64[:, :]) -> float:
    s = 0.0
    for row in a:
        s += row
    return s


_ERRORS = """
File "iterate_array.py", line 9, in f:
    for row in a:
               ^
error: cannot iterate over the 2-D array 'a': its items would be rows, which kernels do not support; loop over range(a.shape[0]) and index every dimension
"""
