"""Error golden: float() of a string CPython rejects."""

from ember import kernel


@kernel
def f(x: float) -> float:
    return x + float("one")


_ERRORS = """
File "float_string.py", line 8, in f:
    return x + float("one")
                     ^^^^^
error: could not convert string to float: 'one'; kernels take float() of a number literal or of 'inf', '-inf', 'nan'
"""
