"""Error golden: a list of arrays (lists hold numbers)."""

from ember import f64, kernel


@kernel
def f(a: f64[:], b: f64[:]) -> float:
    parts = [a, b]
    return parts[0][0]


_ERRORS = """
File "list_of_arrays.py", line 8, in f:
    parts = [a, b]
             ^
error: lists in kernels hold numbers (of one type), not float64[:]; for a list of arrays use a 2-D array, e.g. np.zeros((k, n)) filled row by row
"""
