"""Error golden: a method of an int without a kernel form (`n.bit_count()`)."""

from ember import kernel


@kernel
def f(n: int) -> int:
    return n.bit_count()


_ERRORS = """
File "scalar_method.py", line 8, in f:
    return n.bit_count()
           ^^^^^^^^^^^^^
error: method 'bit_count' of int is not supported in kernels; count the bits in a loop (bits += n & 1; n >>= 1)
"""
