"""Error golden: bit_length() with an argument."""

from ember import kernel


@kernel
def f(n: int) -> int:
    return n.bit_length(2)


_ERRORS = """
File "bit_length_args.py", line 8, in f:
    return n.bit_length(2)
           ^^^^^^^^^^^^^^^
error: bit_length() takes no arguments; write n.bit_length()
"""
