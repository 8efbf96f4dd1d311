"""Error golden: np.dot with a scalar operand (write the multiplication)."""

import numpy as np

from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    return np.dot(a, 2.0)[0]


_ERRORS = """
File "product_scalar.py", line 10, in f:
    return np.dot(a, 2.0)[0]
           ^^^^^^^^^^^^^^
error: np.dot: operand 1 is float; products need arrays here (write a * b to scale by a scalar)
"""
