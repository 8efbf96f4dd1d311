"""Error golden: an empty list that nothing is ever stored in (no element type)."""

from ember import kernel


@kernel
def f(n: int) -> int:
    b = []
    return len(b) + n


_ERRORS = """
File "list_empty_untyped.py", line 8, in f:
    b = []
    ^^^^^^
error: cannot infer the element type of the empty list 'b': give it a first element or annotate it, e.g. b: list[float] = []
"""
