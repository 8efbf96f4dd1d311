"""Error golden: the @ operator on an operand of more than 2 dimensions (not yet)."""

from ember import f64, kernel


@kernel
def f(a: f64[:, :, :], b: f64[:, :]) -> float:
    c = a @ b
    return c[0, 0, 0]


_ERRORS = """
File "matmul_operator.py", line 8, in f:
    c = a @ b
        ^^^^^
error: matmul: operand 0 has 3 dimension(s); matmul in kernels takes a 1-D or 2-D array
"""
