"""Error golden: a module used as a value."""

import math

from ember import kernel


@kernel
def f(x: float) -> float:
    m = math  # noqa: F841
    return x


_ERRORS = """
File "module_value.py", line 10, in f:
    m = math  # noqa: F841
        ^^^^
error: 'math' (module) cannot be used as a value in a kernel; call its functions (math.name(...))
"""
