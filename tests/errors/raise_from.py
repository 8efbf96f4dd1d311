"""Error golden: `raise ... from ...` (exception chaining) is refused.
"""

from ember import kernel


@kernel
def f(x: float) -> float:
    if x < 0.0:
        raise ValueError("negative") from None
    return x


_ERRORS = """
File "raise_from.py", line 10, in f:
    raise ValueError("negative") from None
                                      ^^^^
error: 'raise ... from ...' is not supported in kernels; write raise ValueError("...")
"""
