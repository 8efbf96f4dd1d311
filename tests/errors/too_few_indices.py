"""Error golden: one index into a 2-D array."""

from ember import f64, kernel


@kernel
def f(a: f64[:, :], i: int) -> float:
    return a[i]


_ERRORS = """
File "too_few_indices.py", line 8, in f:
    return a[i]
           ^^^^
error: wrong number of indices for 'a': it has 2 dimension(s), got 1 index(es)
"""
