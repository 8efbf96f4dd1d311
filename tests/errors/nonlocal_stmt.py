"""Error golden: the nonlocal statement."""

from ember import kernel


def make():
    total = 0.0

    @kernel
    def f(x: float) -> float:
        nonlocal total
        return x

    return f


f = make()


_ERRORS = """
File "nonlocal_stmt.py", line 11, in f:
    nonlocal total
    ^^^^^^^^^^^^^^
error: 'nonlocal' declarations are not supported in kernels; pass what the kernel changes as a parameter (arrays change in place) or return it
"""
