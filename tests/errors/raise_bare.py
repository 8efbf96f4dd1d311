"""Error golden: a bare `raise` (re-raise) has no exception to raise in a kernel.
"""

from ember import kernel


@kernel
def f(x: float) -> float:
    if x < 0.0:
        raise
    return x


_ERRORS = """
File "raise_bare.py", line 10, in f:
    raise
    ^^^^^
error: a bare 'raise' (re-raise) is not supported in kernels; raise an exception, e.g. raise ValueError("...")
"""
