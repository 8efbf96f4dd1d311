"""Error golden: a parameter without a type annotation."""

from ember import kernel


@kernel
def f(x: float, n) -> float:
    return x * n


_ERRORS = """
File "missing_annotation.py", line 7, in f:
    def f(x: float, n) -> float:
                    ^
error: parameter 'n' needs a type annotation, e.g. 'x: float' or 'a: f64[:]'
"""
