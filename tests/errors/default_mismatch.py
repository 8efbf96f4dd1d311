"""Error golden: a default value that does not fit its parameter's annotation."""

from ember import kernel


@kernel
def f(x: float, shape: tuple[int, int] = 3) -> float:
    return x * shape[0]


_ERRORS = """
File "default_mismatch.py", line 7, in f:
    def f(x: float, shape: tuple[int, int] = 3) -> float:
                    ^^^^^^^^^^^^^^^^^^^^^^
error: the default value 3 of parameter 'shape' does not fit its annotation; a default value must be a number, a bool, None or a tuple of numbers matching the annotation
"""
