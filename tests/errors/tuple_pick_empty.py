"""Error golden: picking items from an empty tuple inside zip()."""

from ember import kernel


@kernel
def f(n: int) -> int:
    s = 0
    for i, v in zip(range(n), (), strict=False):
        s += i + v
    return s


_ERRORS = """
File "tuple_pick_empty.py", line 9, in f:
    for i, v in zip(range(n), (), strict=False):
                              ^^
error: this loop picks items from an empty tuple; loop over the tuple itself ('for v in ():' runs no iteration) or drop the loop
"""
