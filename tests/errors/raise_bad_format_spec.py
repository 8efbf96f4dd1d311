"""Error golden: a format spec the runtime does not implement (thousands separators).
"""

from ember import kernel


@kernel
def f(n: int) -> int:
    if n < 0:
        raise ValueError(f"negative: {n:,}")
    return n


_ERRORS = """
File "raise_bad_format_spec.py", line 10, in f:
    raise ValueError(f"negative: {n:,}")
                     ^^^^^^^^^^^^^^^^^^
error: format spec ':,' is not supported for a value of type int in a kernel message; use fill/align, sign, width, precision and one of the types b d o x X e E f F g G %
"""
