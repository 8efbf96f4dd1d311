"""Error golden: returning a value from a kernel declared -> None."""

from ember import kernel


@kernel
def f(x: float) -> None:
    return x


_ERRORS = """
File "none_return_value.py", line 8, in f:
    return x
    ^^^^^^^^
error: kernel annotated '-> None' returns a value
"""
