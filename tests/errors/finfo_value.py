"""Error golden: `np.finfo(...)` used as a value instead of for one of its attributes."""

# ruff: noqa: F841
import numpy as np

from ember import kernel


@kernel
def f(x: float) -> float:
    info = np.finfo(np.float64)
    return x


_ERRORS = """
File "finfo_value.py", line 11, in f:
    info = np.finfo(np.float64)
           ^^^^^^^^
error: np.finfo(...) is supported only for its attributes, as a compile-time constant: np.finfo(np.float64).eps, .max, .min, ...
"""
