"""Error golden: a local used before any assignment.
"""
# ruff: noqa: F821, F841

from ember import kernel


@kernel
def f(x: float) -> float:
    y = z + x
    z = 1.0
    return y


_ERRORS = """
File "undefined_local.py", line 10, in f:
    y = z + x
        ^
error: local variable 'z' is used before it is assigned
"""
