"""Error golden: an assert message must be a string, an f-string or a scalar.
"""

from ember import kernel


@kernel
def f(x: float) -> float:
    assert x > 0.0, "x=" + str(x)
    return x


_ERRORS = """
File "assert_message_call.py", line 9, in f:
    assert x > 0.0, "x=" + str(x)
                    ^^^^^^^^^^^^^
error: an exception message in a kernel is a string literal, an f-string of scalars or one scalar; write it as an f-string, e.g. f"x={x}"
"""
