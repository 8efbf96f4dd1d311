"""Error golden: an array assigned to a slice (whole-array assignment is not supported yet)."""

from ember import f64, kernel


@kernel
def f(a: f64[:], b: f64[:]) -> None:
    a[1:3] = b[:2]


_ERRORS = """
File "slicing.py", line 8, in f:
    a[1:3] = b[:2]
             ^^^^^
error: assigning an array to a slice or row is not supported yet (whole-array assignment comes with array expressions); assign a scalar, or copy the elements in a loop
"""
