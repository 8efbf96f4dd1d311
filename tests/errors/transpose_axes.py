"""Error golden: transpose() with axes that are not a permutation."""

from ember import f64, kernel


@kernel
def f(a: f64[:, :]) -> float:
    t = a.transpose(1, 1)
    return t[0, 0]


_ERRORS = """
File "transpose_axes.py", line 8, in f:
    t = a.transpose(1, 1)
        ^^^^^^^^^^^^^^^^^
error: transpose() takes a permutation of the 2 axes as constant integers (a.transpose(1, 0)), got (1, 1)
"""
