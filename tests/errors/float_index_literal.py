"""Error golden: a float literal used as an index."""

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    return a[1.5]


_ERRORS = """
File "float_index_literal.py", line 8, in f:
    return a[1.5]
             ^^^
error: array index must be an integer, not float
"""
