"""Error golden: appending an array to a list."""

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    parts = [1.0]
    parts.append(a)
    return parts[0]


_ERRORS = """
File "list_append_array.py", line 9, in f:
    parts.append(a)
                 ^
error: lists in kernels hold numbers (of one type), not float64[:]; for a list of arrays use a 2-D array, e.g. np.zeros((k, n)) filled row by row
"""
