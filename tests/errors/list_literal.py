"""Error golden: a list literal."""

from ember import kernel


@kernel
def f(x: float) -> float:
    v = [x, x]
    return v[0]


_ERRORS = """
File "list_literal.py", line 8, in f:
    v = [x, x]
        ^^^^^^
error: lists are not supported in kernels; use a numpy array
"""
