"""Error golden: a tuple parameter of any length (`tuple[float, ...]`)."""

from ember import kernel


@kernel
def f(t: tuple[float, ...]) -> float:
    return t[0]


_ERRORS = """
File "tuple_param_variadic.py", line 7, in f:
    def f(t: tuple[float, ...]) -> float:
             ^^^^^^^^^^^^^^^^^
error: tuple parameter 't' needs a fixed number of items: write each item's type, e.g. 'tuple[float, float, float]', or take a 1-D array ('f64[:]') for any length
"""
