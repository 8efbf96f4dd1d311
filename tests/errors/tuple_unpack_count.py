"""Error golden: unpacking three values into two names.
"""

from ember import kernel


@kernel
def f(x: float) -> float:
    a, b = x, x, x
    return a + b


_ERRORS = """
File "tuple_unpack_count.py", line 9, in f:
    a, b = x, x, x
           ^^^^^^^
error: cannot unpack 3 values into 2 names; unpack a tuple of that length or an array
"""
