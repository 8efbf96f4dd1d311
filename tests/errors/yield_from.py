"""Error golden: generators with 'yield from'."""


from ember import f64, kernel


@kernel
def f(a: f64[:]) -> float:
    yield from a
    return 0.0


_ERRORS = """
File "yield_from.py", line 9, in f:
    yield from a
    ^^^^^^^^^^^^
error: generators ('yield from') are not supported in kernels; fill an array (or a list with .append) and return it
"""
