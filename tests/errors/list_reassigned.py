"""Error golden: a list variable assigned something other than a list."""

from ember import kernel


@kernel
def f(x: float) -> float:
    b = [x]
    b = x
    return b


_ERRORS = """
File "list_reassigned.py", line 9, in f:
    b = x
    ^^^^^
error: 'b' is a list, so it cannot be assigned 'x': a variable keeps one type (start a new list with [] or [...])
"""
