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
error: f-strings are only supported as messages of raise and assert in kernels; return the numbers and format them outside
"""
