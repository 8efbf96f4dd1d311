"""Error golden: an assignment expression."""

from ember import kernel


@kernel
def f(x: float) -> float:
    if (y := x * 2.0) > 1.0:
        return y
    return x


_ERRORS = """
File "walrus.py", line 8, in f:
    if (y := x * 2.0) > 1.0:
        ^^^^^^^^^^^^
error: assignment expressions (':=') are not supported in kernels; assign the value on a line of its own first
"""
