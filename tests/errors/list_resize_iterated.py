"""Error golden: appending to a list while a loop iterates over it."""

from ember import kernel


@kernel
def f(x: float) -> float:
    b = [x, 2.0]
    for v in b:
        b.append(v)
    return b[0]


_ERRORS = """
File "list_resize_iterated.py", line 10, in f:
    b.append(v)
    ^^^^^^^^^^^
error: b.append() changes the length of list 'b' while a loop iterates over it; iterate over range(len(...)) of a copy, or collect into another list
"""
