"""Error golden: a default value outside numbers, bools, None and tuples of numbers."""

from ember import f64, kernel


@kernel
def f(x: f64[:], scale: float = [1.0]) -> float:  # noqa: B006
    return x[0]


_ERRORS = """
File "default_list.py", line 7, in f:
    def f(x: f64[:], scale: float = [1.0]) -> float:  # noqa: B006
                     ^^^^^^^^^^^^
error: unsupported default value [1.0] of parameter 'scale': a default value must be a number, a bool, None or a tuple of numbers
"""
