"""Error golden: assigning to an array's shape."""

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> None:
    a.shape = (3,)


_ERRORS = """
File "store_shape.py", line 8, in f:
    a.shape = (3,)
    ^^^^^^^
error: unsupported assignment target in kernel
"""
