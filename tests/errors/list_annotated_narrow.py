"""Error golden: a float appended to a list annotated to hold ints."""

from ember import kernel


@kernel
def f(n: int) -> int:
    b: list[int] = []
    b.append(n / 2)
    return b[0]


_ERRORS = """
File "list_annotated_narrow.py", line 9, in f:
    b.append(n / 2)
             ^^^^^
error: list 'b' holds int64, but this value is float; convert it explicitly, e.g. int64(...), or annotate it list[float64]
"""
