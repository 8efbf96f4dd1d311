"""Error golden: a kernel cannot be a generator."""

from ember import kernel


@kernel
def f(n: int) -> int:
    for i in range(n):
        yield i * 2
    return n


_ERRORS = """
File "yield_expr.py", line 9, in f:
    yield i * 2
    ^^^^^^^^^^^
error: generators ('yield') are not supported in kernels; fill an array (or a list with .append) and return it
"""
