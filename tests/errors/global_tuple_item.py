"""Error golden: a module-level tuple holding something other than numbers."""

from ember import kernel

pair = (1.0, "metres")


@kernel
def f(i: int) -> float:
    return pair[0]


_ERRORS = """
File "global_tuple_item.py", line 10, in f:
    return pair[0]
           ^^^^
error: module-level tuple 'pair' holds str; kernels read module-level tuples of numbers only; pass this value as a parameter
"""
