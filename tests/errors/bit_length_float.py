"""Error golden: bit_length() of a float."""

from ember import kernel


@kernel
def f(x: float) -> int:
    return x.bit_length()


_ERRORS = """
File "bit_length_float.py", line 8, in f:
    return x.bit_length()
           ^^^^^^^^^^^^^^
error: bit_length() is a method of integers, not of float; write int(x).bit_length()
"""
