"""Error golden: assigning to an array's shape."""

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> None:
    a.shape = (3,)


_ERRORS = """
File "store_shape.py", line 8, in f:
    a.shape = (3,)
    ^^^^^^^
error: cannot assign to an attribute ('a.shape'); kernels assign to names and array elements (a[i] = ...)
"""
