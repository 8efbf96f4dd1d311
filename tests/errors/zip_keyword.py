"""Error golden: zip() with a keyword argument."""

from ember import f64, kernel


@kernel
def f(a: f64[:], b: f64[:]) -> float:
    s = 0.0
    for x, y in zip(a, b, strict=True):
        s += x * y
    return s


_ERRORS = """
File "zip_keyword.py", line 9, in f:
    for x, y in zip(a, b, strict=True):
                ^^^
error: zip() is supported only as the iterable of a for loop, with strict=False (the default): for x, y in zip(a, b)
"""
