"""Error golden: wrong number of arguments to a called kernel."""

from ember import kernel


@kernel
def g(a: float, b: float) -> float:
    return a * b


@kernel
def f(x: float) -> float:
    return g(x)


_ERRORS = """
File "kernel_arity.py", line 13, in f:
    return g(x)
           ^^^^
error: g() missing 1 required positional argument: 'b'
"""
