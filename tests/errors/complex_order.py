"""Error golden: complex numbers have no order (CPython's TypeError wording)."""

from ember import kernel


@kernel
def f(z: complex, w: complex) -> bool:
    return z < w


_ERRORS = """
File "complex_order.py", line 8, in f:
    return z < w
           ^^^^^
error: '<' not supported between instances of 'complex' and 'complex'; complex numbers have no order: compare abs(z) or z.real
"""
