"""Error golden: `~` of a complex number (CPython's TypeError wording)."""

from ember import kernel


@kernel
def f(z: complex) -> complex:
    return ~z


_ERRORS = """
File "complex_invert.py", line 8, in f:
    return ~z
           ^^
error: bad operand type for unary ~: 'complex'
"""
