"""Error golden: a list display where kernels take none (not assigned to a name)."""

from ember import kernel


@kernel
def f(x: float) -> float:
    return [x, x][0]


_ERRORS = """
File "list_literal.py", line 8, in f:
    return [x, x][0]
           ^^^^^^
error: a list display must be assigned to a name (b = [...]), iterated over, tested with 'in' or given to np.array(...) in kernels
"""
