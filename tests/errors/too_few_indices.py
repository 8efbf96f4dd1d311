"""Error golden: one index into a 2-D array is a row (a view), not the float the kernel returns."""

from ember import f64, kernel


@kernel
def f(a: f64[:, :], i: int) -> float:
    return a[i]


_ERRORS = """
File "too_few_indices.py", line 8, in f:
    return a[i]
    ^^^^^^^^^^^
error: cannot return float64[:] from a kernel declared to return float
"""
