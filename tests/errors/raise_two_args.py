"""Error golden: an exception in a kernel takes one message.
"""

from ember import kernel


@kernel
def f(x: float) -> float:
    if x < 0.0:
        raise ValueError("negative", x)
    return x


_ERRORS = """
File "raise_two_args.py", line 10, in f:
    raise ValueError("negative", x)
          ^^^^^^^^^^^^^^^^^^^^^^^^^
error: ValueError(...) in a kernel takes one message: a string, an f-string of scalars or a scalar
"""
