"""Error golden: the @ operator."""

from ember import f64, kernel


@kernel
def f(a: f64[:, :], b: f64[:, :]) -> float:
    c = a @ b
    return c[0, 0]


_ERRORS = """
File "matmul_operator.py", line 8, in f:
    c = a @ b
        ^^^^^
error: matrix multiplication '@' is not supported in kernels
"""
