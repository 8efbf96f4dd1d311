"""Error golden: an array of more dimensions than the slice it is assigned to."""

from ember import f64, kernel


@kernel
def f(a: f64[:], b: f64[:, :]) -> None:
    a[1:3] = b[:2]


_ERRORS = """
File "slicing.py", line 8, in f:
    a[1:3] = b[:2]
             ^^^^^
error: cannot assign a 2-dimensional array to 'a[1:3]', which has 1 dimension(s)
"""
