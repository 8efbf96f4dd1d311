"""Error golden: a tuple parameter indexed out of range with a constant."""

from ember import kernel


@kernel
def f(t: tuple[int, int]) -> int:
    return t[2]


_ERRORS = """
File "tuple_parameter.py", line 8, in f:
    return t[2]
           ^^^^
error: tuple parameter 't' has 2 items; index it from -2 to 1
"""
