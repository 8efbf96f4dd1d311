"""Error golden: two indices into a 1-D array."""

from ember import f64, kernel


@kernel
def f(a: f64[:], i: int) -> float:
    return a[i, 0]


_ERRORS = """
File "too_many_indices.py", line 8, in f:
    return a[i, 0]
           ^^^^^^^
error: too many indices for array 'a': it has 1 dimension(s), but 2 were indexed
"""
