"""Error golden: a list method kernels do not support."""

from ember import kernel


@kernel
def f(x: float) -> float:
    b = [x, 1.0]
    b.insert(0, x)
    return b[0]


_ERRORS = """
File "list_method.py", line 9, in f:
    b.insert(0, x)
    ^^^^^^^^^^^^^^
error: list method 'insert' is not supported in kernels; lists support append, extend, pop, copy, clear, sort, reverse, index and count
"""
