"""Error golden: range() with a constant zero step."""

from ember import kernel


@kernel
def f(n: int) -> int:
    s = 0
    for i in range(0, n, 0):
        s += i
    return s


_ERRORS = """
File "range_zero_step.py", line 9, in f:
    for i in range(0, n, 0):
             ^^^^^^^^^^^^^^
error: range() step must not be zero
"""
