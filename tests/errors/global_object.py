"""Error golden: a module-level object that is not a number, tuple or array."""

from ember import kernel

SETTINGS = {"scale": 2.0}


@kernel
def f(x: float) -> float:
    s = SETTINGS  # noqa: F841
    return x


_ERRORS = """
File "global_object.py", line 10, in f:
    s = SETTINGS  # noqa: F841
        ^^^^^^^^
error: 'SETTINGS' (dict) cannot be used as a value in a kernel; pass it as a parameter (module-level numbers, tuples of numbers and NumPy arrays are frozen in as constants)
"""
