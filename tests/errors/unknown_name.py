"""Error golden: a name that is defined nowhere."""
# ruff: noqa: F821

from ember import kernel


@kernel
def f(x: float) -> float:
    return x * scale


_ERRORS = """
File "unknown_name.py", line 9, in f:
    return x * scale
               ^^^^^
error: name 'scale' is not defined
"""
