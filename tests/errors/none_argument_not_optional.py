"""Error golden: None passed to a kernel parameter that is not Optional."""

from ember import f64, kernel


@kernel
def g(x: f64[:], w: f64[:]) -> float:
    return x[0] * w[0]


@kernel
def f(x: f64[:]) -> float:
    return g(x, None)


_ERRORS = """
File "none_argument_not_optional.py", line 13, in f:
    return g(x, None)
                ^^^^
error: argument 'w' of kernel 'g' cannot be None; annotate it '... | None' to accept None
"""
