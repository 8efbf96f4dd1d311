"""Error golden: `//` is not defined on complex numbers (CPython's TypeError wording)."""

from ember import kernel


@kernel
def f(z: complex) -> complex:
    return z // 2


_ERRORS = """
File "complex_floordiv.py", line 8, in f:
    return z // 2
           ^^^^^^
error: unsupported operand type(s) for //: 'complex' and 'int'
"""
