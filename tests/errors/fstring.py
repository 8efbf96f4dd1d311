"""Error golden: an f-string."""

from ember import kernel


@kernel
def f(x: float) -> float:
    s = f"{x}"
    return len(s)


_ERRORS = """
File "fstring.py", line 8, in f:
    s = f"{x}"
        ^^^^^^
error: f-strings are not supported in kernels
"""
