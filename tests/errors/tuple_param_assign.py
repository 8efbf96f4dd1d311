"""Error golden: assigning to a tuple parameter (the items are the native parameters)."""

from ember import kernel


@kernel
def f(t: tuple[float, float]) -> float:
    t = (1.0, 2.0)
    return t[0]


_ERRORS = """
File "tuple_param_assign.py", line 8, in f:
    t = (1.0, 2.0)
    ^
error: cannot assign to tuple parameter 't'; store the new value in a new variable
"""
