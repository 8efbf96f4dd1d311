"""Error golden: a list comprehension."""

from ember import kernel


@kernel
def f(n: int) -> int:
    v = [i * i for i in range(n)]
    return v[0]


_ERRORS = """
File "list_comprehension.py", line 8, in f:
    v = [i * i for i in range(n)]
        ^^^^^^^^^^^^^^^^^^^^^^^^^
error: list comprehensions are not supported in kernels; use a loop and an array
"""
