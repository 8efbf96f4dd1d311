"""Error golden: a method of an int (`n.bit_length()`)."""

from ember import kernel


@kernel
def f(n: int) -> int:
    return n.bit_length()


_ERRORS = """
File "scalar_method.py", line 8, in f:
    return n.bit_length()
           ^^^^^^^^^^^^^^
error: method 'bit_length' of int is not supported in kernels; count the bits in a loop (while n > 0: n >>= 1; bits += 1)
"""
