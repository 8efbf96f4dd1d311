"""Error golden: a float variable used as an index."""

from ember import f64, kernel


@kernel
def f(a: f64[:], x: float) -> float:
    return a[x]


_ERRORS = """
File "float_index_var.py", line 8, in f:
    return a[x]
             ^
error: array index must be an integer, not float
"""
