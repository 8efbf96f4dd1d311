"""Error golden: the del statement."""

from ember import kernel


@kernel
def f(x: float) -> float:
    y = x
    del y
    return x


_ERRORS = """
File "del_stmt.py", line 9, in f:
    del y
    ^^^^^
error: 'del' is not supported in kernels; leave the name unused (local arrays are freed after their last use)
"""
