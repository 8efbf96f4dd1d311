"""Error golden: storing through a float index."""

from ember import i64, kernel


@kernel
def f(a: i64[:], x: float) -> None:
    a[x] = 1


_ERRORS = """
File "array_store_float_index.py", line 8, in f:
    a[x] = 1
      ^
error: array index must be an integer, not float
"""
