"""Error golden: a list of lists."""

from ember import kernel


@kernel
def f(x: float) -> float:
    rows = [[x, 1.0], [2.0, x]]
    return rows[0][0]


_ERRORS = """
File "list_nested.py", line 8, in f:
    rows = [[x, 1.0], [2.0, x]]
            ^^^^^^^^
error: lists of lists are not supported in kernels; use a 2-D array, e.g. np.array([[1.0, 2.0], [3.0, 4.0]]) or np.zeros((m, n))
"""
