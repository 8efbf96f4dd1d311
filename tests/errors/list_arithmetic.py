"""Error golden: a list in arithmetic (Python would concatenate or repeat it)."""

from ember import kernel


@kernel
def f(x: float) -> float:
    b = [x, 1.0]
    c = b * 2
    return c[0]


_ERRORS = """
File "list_arithmetic.py", line 9, in f:
    c = b * 2
        ^
error: list 'b' cannot be used here; lists in kernels support len(), indexing, iteration, 'in', sum/min/max, append, extend, pop, copy, clear, sort, reverse, index and count, np.array(b) and NumPy functions of them
"""
