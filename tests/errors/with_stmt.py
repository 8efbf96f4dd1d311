"""Error golden: with is outside the subset."""

from ember import kernel


@kernel
def f(x: float) -> float:
    with open("log.txt"):
        x += 1.0
    return x


_ERRORS = """
File "with_stmt.py", line 8, in f:
    with open("log.txt"):
    ^^^^^^^^^^^^^^^^^^^^^
error: 'with' statements are not supported in kernels; enter the context around the kernel call
"""
