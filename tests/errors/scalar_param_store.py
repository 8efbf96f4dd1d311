"""Error golden: storing into a scalar parameter as if it were an array."""

from ember import kernel


@kernel
def f(x: float) -> None:
    x[0] = 1


_ERRORS = """
File "scalar_param_store.py", line 8, in f:
    x[0] = 1
    ^^^^
error: cannot store into 'x': it is a float, not an array
"""
