"""Error golden: a float passed to another kernel's int parameter."""

from ember import kernel


@kernel
def twice(n: int) -> int:
    return 2 * n


@kernel
def f(x: float) -> int:
    return twice(x)


_ERRORS = """
File "narrow_kernel_argument.py", line 13, in f:
    return twice(x)
                 ^
error: argument 'n' of kernel 'twice' is declared int, but this value has type float; write int(...) to convert it explicitly
"""
