"""Error golden: assigning a list to another name (an alias in Python)."""

from ember import kernel


@kernel
def f(x: float) -> float:
    b = [x]
    c = b
    return c[0]


_ERRORS = """
File "list_alias.py", line 9, in f:
    c = b
        ^
error: assigning a list to another name (an alias in Python) is not supported in kernels; copy it with b.copy()
"""
