"""Error golden: try/except is outside the subset."""

from ember import kernel


@kernel
def f(x: float) -> float:
    try:
        y = 1.0 / x
    except ZeroDivisionError:
        y = 0.0
    return y


_ERRORS = """
File "try_stmt.py", line 8, in f:
    try:
    ^^^^
error: try/except statements are not supported in kernels; test the condition with 'if' first (kernels can 'raise'), or catch the error around the kernel call
"""
